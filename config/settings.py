"""Settings for every environment, read only from environment variables (see .env.example)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config import env

BASE_DIR = Path(__file__).resolve().parent.parent

DJANGO_ENV = env.get_str("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV={DJANGO_ENV!r} is not one of development, test, production."
    )
PRODUCTION = DJANGO_ENV == "production"

_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.get_str("SECRET_KEY", _DEV_SECRET_KEY)
DEBUG = env.get_bool("DEBUG", DJANGO_ENV == "development")

if PRODUCTION:
    if SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random value of at least 50 characters in production."
        )
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be false in production.")

ALLOWED_HOSTS = env.get_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the site's host names in production.")
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS", [])
# Under /api/ a refused session write answers in the API's JSON error shape.
CSRF_FAILURE_VIEW = "core.api_errors.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "knox",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_htmx",
    "pgtrigger",
    "pghistory",
    "core",
    "institutions",
    "cases",
    "assessments",
    "referrals",
    "followups",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "institutions.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, reading the user at once (no lazy proxy: every page reads it).
    "institutions.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "institutions.middleware.IdleTimeoutMiddleware",
    # django-otp's, knowing the session's device from the user's cached principal.
    "institutions.middleware.TwoFactorMiddleware",
    "institutions.middleware.TwoFactorRequiredMiddleware",
    # Attaches the signed-in user and the URL to every history row a request writes.
    "pghistory.middleware.HistoryMiddleware",
    "core.db_routing.StickToPrimaryAfterWriteMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "institutions.middleware.SecurityHeadersMiddleware",
    # Axes must be last so that it sees the outcome of every login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboards.context_processors.navigation",
            ],
            # `|isodate` and `|isominute` in every template (core/templatetags/dates.py).
            "builtins": ["core.templatetags.dates"],
        },
    },
]
# Django's renderer, with the common widgets written in Python (core/form_rendering.py).
FORM_RENDERER = "core.form_rendering.FastWidgetRenderer"

DATABASES = {"default": env.get_database()}
# A PostgreSQL streaming replica for the heavy reads (dashboards, exports, API lists): see
# core/db_routing.py. Tests get the alias as a mirror of the default database, switched off
# unless a test turns REPLICA_READS on.
REPLICA_READS = bool(env.get_str("DATABASE_REPLICA_URL", ""))
if REPLICA_READS or DJANGO_ENV == "test":
    DATABASES["replica"] = (
        env.get_database("DATABASE_REPLICA_URL") if REPLICA_READS else dict(DATABASES["default"])
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["core.db_routing.ReplicaRouter"]
# After a write, the user reads from the primary for this long (the replica's lag budget).
REPLICA_STICKY_SECONDS = env.get_int("REPLICA_STICKY_SECONDS", 10, minimum=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.get_redis_url()
# How long a call to Redis may wait (connect, or answer): a hung Redis costs this, then the
# process leaves it alone for a few seconds (core.breaker). Pages and saves never need Redis.
REDIS_TIMEOUT = env.get_int("REDIS_TIMEOUT_MS", 250, minimum=10) / 1000
CACHES = {
    "default": {
        "BACKEND": "core.cache.DegradingRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.get_str("CACHE_KEY_PREFIX", "xq"),
        "TIMEOUT": 300,
        "OPTIONS": {
            "socket_connect_timeout": REDIS_TIMEOUT,
            "socket_timeout": REDIS_TIMEOUT,
        },
    }
}

AUTH_USER_MODEL = "institutions.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's model backend, with each user's permissions kept between requests.
    "institutions.principal.PrincipalBackend",
]
# How long a user's scope, permissions and two-factor devices are kept in the cache between
# requests (institutions/principal.py): changes made through the application take effect at
# once; this bounds one that the cache missed (Redis down at that moment).
PRINCIPAL_CACHE_SECONDS = env.get_int("PRINCIPAL_CACHE_SECONDS", 60, minimum=0)
# The web process's garbage collector (config/wsgi.py): its youngest generation is collected
# after this many allocations (Python's default, 700, is a few times a request); 0 keeps 700.
WEB_GC_THRESHOLD = env.get_int("WEB_GC_THRESHOLD", 50_000, minimum=0)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "institutions.validators.CharacterClassValidator"},
]
if DJANGO_ENV == "test":
    # Hashing cost is not what the tests are about; it only slows them down.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A one-time set-password link (the only way a password is set for someone) works for 24 hours.
PASSWORD_RESET_TIMEOUT = 86400

# Sessions are kept in the database and read through the Redis cache: a user stays signed in
# while Redis is down. The idle timeout signs out a user who has done nothing for a while, and
# the cookie age bounds a session however active it is.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_IDLE_TIMEOUT = timedelta(minutes=env.get_int("SESSION_IDLE_MINUTES", 30, minimum=1))
SESSION_COOKIE_AGE = env.get_int("SESSION_MAX_HOURS", 12, minimum=1) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Lock an account for a while after repeated failed logins (django-axes).
AXES_FAILURE_LIMIT = env.get_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.get_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
# Lock a username after repeated failures, and an address that tries many usernames.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The page above for the sign-in form; the API's JSON error for a token request.
AXES_LOCKOUT_CALLABLE = "institutions.lockout.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
AXES_IPWARE_PROXY_COUNT = env.get_int("PROXY_COUNT", 0, minimum=0) or None
AXES_VERBOSE = False

# Two-factor authentication (django-otp). Demo users are exempt outside production so that the
# demo logins work out of the box; real supervisors and administrators are not.
OTP_TOTP_ISSUER = "Xinqiao"
OTP_TOTP_THROTTLE_FACTOR = 1
# Nobody, not even a security administrator, reads another user's authenticator secret.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
TWO_FACTOR_EXEMPT_DEMO_USERS = not PRODUCTION

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = PRODUCTION
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.get_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Collected static files with hashed names, gzip and brotli copies (WhiteNoise), served with a
# year-long immutable cache: a phone loads Bootstrap once. On in production; a test of page
# weight turns it on to measure what a phone receives (`collectstatic` first).
STATIC_HASHED = env.get_bool("STATIC_HASHED", PRODUCTION)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_HASHED
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env.get_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# The access log is kept this many days (180 at least: MLPS), then moved out a month at a time
# into gzipped CSV files under ARCHIVE_ROOT/access_log/ (core.retention).
ACCESS_LOG_RETENTION_DAYS = env.get_int("ACCESS_LOG_RETENTION_DAYS", 180, minimum=180)
# A closed file is de-identified this many years after it was closed (cases.retention).
RETENTION_YEARS_AFTER_CLOSE = env.get_int("RETENTION_YEARS_AFTER_CLOSE", 10, minimum=1)
ARCHIVE_ROOT = Path(env.get_str("ARCHIVE_ROOT", str(BASE_DIR / "archive")))
WHITENOISE_USE_FINDERS = not STATIC_HASHED

_RATE_SCALE = 1000 if DJANGO_ENV == "test" else 1
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The token first: its scheme is the one a refused request is told to use (401).
        "institutions.api_auth.VerifiedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Safe by default: signed in, past 2FA, and writes only where a view declares the permission.
    "DEFAULT_PERMISSION_CLASSES": [
        "institutions.api.IsVerifiedStaff",
        "institutions.api.ActionPermission",
    ],
    # JSON that names a key twice is refused everywhere (core.api_inputs).
    "DEFAULT_PARSER_CLASSES": [
        "core.api_inputs.UniqueKeysJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "institutions.api.BoundedCursorPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "institutions.api.PerUserThrottle",
        "institutions.api.PerAddressThrottle",
    ],
    # Requests per minute: per signed-in user, per client address (all users behind it), and
    # token requests per address (on top of the per-account lockout).
    # The tests' many requests as a few demo users lift the defaults (tests/api sets its own).
    "DEFAULT_THROTTLE_RATES": {
        "user": f"{env.get_int('API_RATE_PER_USER', _RATE_SCALE * 600)}/min",
        "address": f"{env.get_int('API_RATE_PER_ADDRESS', _RATE_SCALE * 3000)}/min",
        "token": f"{env.get_int('API_RATE_TOKEN', _RATE_SCALE * 30)}/min",
    },
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + ([] if PRODUCTION else ["rest_framework.renderers.BrowsableAPIRenderer"]),
}
# How long an API token lives (hours); the user or an administrator may revoke it sooner.
API_TOKEN_TTL = timedelta(hours=env.get_int("API_TOKEN_TTL_HOURS", 12))
REST_KNOX = {"TOKEN_TTL": API_TOKEN_TTL, "AUTO_REFRESH": False, "TOKEN_LIMIT_PER_USER": 20}
SPECTACULAR_SETTINGS = {
    "TITLE": "Xinqiao API",
    "DESCRIPTION": (
        "Children's mental-health care records shared between agencies. Every list and record "
        "is limited to what the caller may see: anything else answers 404. Errors share one "
        "shape: {code, message, fields}."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choices used by several components get one name each in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ChildStatusEnum": "cases.models.Child.Status",
        "CarePlanStatusEnum": "cases.models.CarePlan.Status",
        "InstitutionKindEnum": "institutions.models.Institution.Kind",
        "InstitutionServiceEnum": "institutions.models.Institution.Service",
        "RiskLevelEnum": "cases.models.RiskLevel",
        "AlertOutcomeEnum": "assessments.models.Alert.Outcome",
        "ReferralStatusEnum": "referrals.models.Referral.Status",
        "ScreeningSessionStatusEnum": "assessments.models.ScreeningSession.Status",
        "VisitKindEnum": "followups.models.Visit.Kind",
        "ActivityKindEnum": "followups.models.Activity.Kind",
        "TaskKindEnum": "followups.models.Task.Kind",
        "FollowupPlanStatusEnum": "followups.models.FollowupPlan.Status",
        "TaskStatusEnum": "followups.models.Task.Status",
        "FollowupRoleEnum": "followups.services.plans.PARTNER_ROLES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api_schema.add_error_responses",
    ],
}

CELERY_BROKER_URL = REDIS_URL
# The queue jobs go to and workers read: two installations (or the benchmark) may share a Redis.
CELERY_TASK_DEFAULT_QUEUE = env.get_str("CELERY_QUEUE", "celery")
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
# A job is acknowledged when it ends, and given back to the queue when its worker dies (the
# jobs are idempotent: core.jobs); an unacknowledged message returns after the visibility
# timeout, which must exceed the longest job's time limit (exports: 1800 s).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.get_int("CELERY_VISIBILITY_TIMEOUT", 2400, minimum=5),
    "socket_timeout": max(REDIS_TIMEOUT, 1.0),
    "socket_connect_timeout": max(REDIS_TIMEOUT, 1.0),
}
CELERY_BROKER_CONNECTION_TIMEOUT = max(REDIS_TIMEOUT, 1.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Installed into django-celery-beat's tables when beat starts; administrators can pause them.
# `manage.py run_scheduled_jobs` runs them in this order. README "Scheduled jobs" lists them.
CELERY_BEAT_SCHEDULE = {
    # Tasks made, moved and cancelled from the data; four times a day, cheap when nothing changed.
    "followups-plan-tasks": {
        "task": "followups.plan_tasks",
        "schedule": crontab(minute=10, hour="1,7,13,19"),
    },
    # Overdue marked, escalations, one reminder message per person: each morning.
    "followups-remind-and-escalate": {
        "task": "followups.remind_and_escalate",
        "schedule": crontab(minute=30, hour=7),
    },
    # E-mails and text messages of notifications sent, failed ones retried: every minute.
    "followups-deliver-notifications": {
        "task": "followups.deliver_notifications",
        "schedule": 60.0,
    },
    # One message per person and channel gathering the day's notifications of who chose it.
    "followups-send-digests": {
        "task": "followups.send_digests",
        "schedule": crontab(minute=0, hour=18),
    },
    "referrals-expire-access": {"task": "referrals.expire_access", "schedule": 3600.0},
    # Jobs queued while the broker was down handed to it (each worker also does so as it starts).
    "core-relay-outbox": {"task": "core.relay_outbox", "schedule": 30.0},
    # Months of the access log past its retention archived to files and moved out.
    "core-archive-access-log": {
        "task": "core.archive_access_log",
        "schedule": crontab(minute=50, hour=3),
    },
    # Files closed longer than RETENTION_YEARS_AFTER_CLOSE de-identified.
    "cases-deidentify-closed-files": {
        "task": "cases.deidentify_closed_files",
        "schedule": crontab(minute=10, hour=4),
    },
    # Expired sessions dropped from the database.
    "core-clear-sessions": {"task": "core.clear_sessions", "schedule": crontab(minute=40, hour=3)},
    # The files of long exports past EXPORT_TTL_HOURS deleted (the record of the export stays).
    "core-purge-exports": {"task": "core.purge_exports", "schedule": 3600.0},
    # The month partitions of the access log, notifications and history made 3 months ahead.
    "core-ensure-partitions": {
        "task": "core.ensure_partitions",
        "schedule": crontab(minute=20, hour=3),
    },
}
CELERY_TIMEZONE = TIME_ZONE

EMAIL_HOST = env.get_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env.get_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.get_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.get_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.get_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.get_str("DEFAULT_FROM_EMAIL", "xinqiao@localhost")
# The address people use to reach the site, for links in e-mails.
SITE_URL = env.get_str("SITE_URL", "http://127.0.0.1:8000")
if not PRODUCTION and not env.get_bool("EMAIL_SEND", False):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Text messages go through this gateway class (followups.sms.SmsGateway); the default one writes
# them to the log. A site with a provider contract names its own class here.
SMS_GATEWAY = env.get_str("SMS_GATEWAY", "followups.sms.LoggingSmsGateway")
if not re.fullmatch(r"[A-Za-z_][\w.]*\.[A-Za-z_]\w*", SMS_GATEWAY):
    raise ImproperlyConfigured(f"SMS_GATEWAY={SMS_GATEWAY!r} is not a dotted path to a class.")

DEMO_PASSWORD = env.get_str("DEMO_PASSWORD", "demo-Pass-2026")

# Keys protecting national ID numbers: a keyed hash for duplicate matching and a Fernet key for
# the encrypted copy. Development derives both from SECRET_KEY; production must set them.
NATIONAL_ID_HASH_KEY = env.get_str(
    "NATIONAL_ID_HASH_KEY", "" if PRODUCTION else SECRET_KEY + ":id-hash"
)
FIELD_ENCRYPTION_KEY = env.get_str("FIELD_ENCRYPTION_KEY", "")
if PRODUCTION and (len(NATIONAL_ID_HASH_KEY) < 32 or not FIELD_ENCRYPTION_KEY):
    raise ImproperlyConfigured(
        "NATIONAL_ID_HASH_KEY (32+ characters) and FIELD_ENCRYPTION_KEY (a Fernet key) must be "
        "set in production."
    )

# Referrals: how long a clinic keeps access after closing, and how long a referral may wait
# for an answer by urgency before it is overdue.
REFERRAL_ACCESS_DAYS_AFTER_CLOSE = env.get_int("REFERRAL_ACCESS_DAYS_AFTER_CLOSE", 30, minimum=0)
REFERRAL_ATTACHMENT_MAX_BYTES = env.get_int(
    "REFERRAL_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024, minimum=1024
)
REFERRAL_ANSWER_LIMITS = {
    "routine": timedelta(days=env.get_int("REFERRAL_ROUTINE_DAYS", 7, minimum=1)),
    "urgent": timedelta(days=env.get_int("REFERRAL_URGENT_DAYS", 2, minimum=1)),
    "emergency": timedelta(hours=env.get_int("REFERRAL_EMERGENCY_HOURS", 4, minimum=1)),
}

# Break the glass: how long an emergency access to a file outside one's scope lasts.
EMERGENCY_ACCESS_HOURS = env.get_int("EMERGENCY_ACCESS_HOURS", 4, minimum=1)

# Imports: the largest file accepted, and how many rows it may hold.
IMPORT_MAX_BYTES = env.get_int("IMPORT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
IMPORT_MAX_ROWS = env.get_int("IMPORT_MAX_ROWS", 20000, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024

# Exports: a list longer than this is written by a background job (with a progress bar), and
# the file it writes can be downloaded by its requester for this many hours.
EXPORT_SYNC_MAX_ROWS = env.get_int("EXPORT_SYNC_MAX_ROWS", 2000, minimum=1)
EXPORT_TTL_HOURS = env.get_int("EXPORT_TTL_HOURS", 24, minimum=1)
# A long export's file is kept and sent in pieces of this size (core.models.ExportChunk).
EXPORT_CHUNK_BYTES = 1024 * 1024
# The bell counts unread notifications of this many days (core.notifications.unread_badge_count):
# a bounded count prunes the monthly partitions when planned, whatever the table's age.
NOTIFICATION_BADGE_DAYS = env.get_int("NOTIFICATION_BADGE_DAYS", 90, minimum=1)
# Seconds the count is kept in the cache; a new notification or a read forgets it at once.
NOTIFICATION_BADGE_SECONDS = env.get_int("NOTIFICATION_BADGE_SECONDS", 30, minimum=0)

# Dashboards: a region's figures are kept in the cache as a snapshot, served as they are for
# this many seconds and then refreshed in the background (dashboards/snapshots.py). 0 computes
# every dashboard when it opens and keeps nothing: the tests' default, so that no snapshot
# outlives a test. Bump DASHBOARD_SNAPSHOT_VERSION to ignore every snapshot kept.
DASHBOARD_FRESH_SECONDS = env.get_int(
    "DASHBOARD_FRESH_SECONDS", 0 if DJANGO_ENV == "test" else 900, minimum=0
)
DASHBOARD_SNAPSHOT_VERSION = 1

# Security headers and cookies. Production defaults are strict; a site behind a TLS-terminating
# proxy sets SECURE_PROXY_SSL_HEADER=true.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CSRF_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.get_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container health check speaks plain HTTP
    SECURE_HSTS_SECONDS = env.get_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.get_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env.get_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.get_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
