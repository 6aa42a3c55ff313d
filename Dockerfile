# The production image: gunicorn for the web, the same image for the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings

RUN groupadd --system xinqiao && useradd --system --gid xinqiao --home /app xinqiao
WORKDIR /app

COPY pyproject.toml README.md ./
COPY config ./config
COPY institutions ./institutions
COPY cases ./cases
COPY assessments ./assessments
COPY referrals ./referrals
COPY followups ./followups
COPY dashboards ./dashboards
RUN pip install --upgrade pip && pip install .

COPY manage.py ./
COPY templates ./templates
COPY static ./static
COPY locale ./locale

# Static files are collected at build time with the production storage (hashed names,
# compressed copies); the values below exist only for this build step.
RUN DJANGO_ENV=production DEBUG=false ALLOWED_HOSTS=build.invalid \
    SECRET_KEY=build-only-"$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    DATABASE_URL=postgres://build@build.invalid/build REDIS_URL=redis://build.invalid:6379/0 \
    python manage.py collectstatic --noinput -v 0

USER xinqiao
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--timeout", "60", "--access-logfile", "-"]
