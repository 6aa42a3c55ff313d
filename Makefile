# The two commands a newcomer needs: `make run` and `make test`.
# Both use DATABASE_URL / REDIS_URL when set, otherwise embedded PostgreSQL and Redis (.data/).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format install messages vendor bench backup restore clean-data help

help:
	@echo "make run    - install, start PostgreSQL/Redis (embedded unless configured), migrate,"
	@echo "              load demo data, serve http://127.0.0.1:8000 with a Celery worker and beat"
	@echo "make test   - the whole test suite against real PostgreSQL and Redis"
	@echo "make lint   - ruff (format check and lint), the floors (import-linter) and mypy"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) tools/devstack.py run

test: $(STAMP)
	$(PY) tools/devstack.py test $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	DJANGO_ENV=test DATABASE_URL=postgres://lint@127.0.0.1/lint REDIS_URL=redis://127.0.0.1:6379/0 \
		$(VENV)/bin/mypy core institutions cases assessments referrals followups dashboards config

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Regenerate translations (needs GNU gettext); commit the .po and .mo files.
messages: $(STAMP)
	DJANGO_ENV=test DATABASE_URL=postgres://x@127.0.0.1/x REDIS_URL=redis://127.0.0.1:6379/0 \
		$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore '.venv/*' --ignore 'frontend/*'
	DJANGO_ENV=test DATABASE_URL=postgres://x@127.0.0.1/x REDIS_URL=redis://127.0.0.1:6379/0 \
		$(PY) manage.py compilemessages -l zh_Hans --ignore '.venv/*'

# Refresh static/vendor from the npm registry (needs Node.js); commit the result.
vendor:
	frontend/vendor.sh

# The benchmark (bench/README.md): a province of 10,000 and of 1,000,000 children, kept between
# runs (generating the large one takes about 20 minutes); BENCH_ARGS="--sizes 2000" for a quick one.
bench: $(STAMP)
	$(PY) tools/devstack.py exec $(PY) bench/run.py --keep --json bench-results.json $(BENCH_ARGS)

# A dump of the database and the uploaded files in backups/<time>/ (embedded PostgreSQL unless
# DATABASE_URL is set); restore one into an empty database with make restore BACKUP=backups/<time>.
backup: $(STAMP)
	$(PY) tools/devstack.py exec $(PY) manage.py backup

restore: $(STAMP)
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=backups/<time>"; exit 2; }
	$(PY) tools/devstack.py exec $(PY) manage.py restore "$(BACKUP)"

clean-data:
	@echo "This deletes the embedded database and Redis data in .data/."
	rm -rf .data
