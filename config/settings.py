"""FormTrack settings: one file, driven by the environment.

With no environment at all it runs: SQLite, an in-memory channel layer, a local-memory cache and an
in-process background runner for analysis jobs. Set DATABASE_URL and REDIS_URL for PostgreSQL, Redis
channels, a Redis Celery broker and a Redis cache.
"""

import os
import tempfile
from pathlib import Path

import environ
from celery.schedules import crontab
from redis.exceptions import ConnectionError as RedisConnectionError

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Public (it is in this file): production (DEBUG off) refuses to start with it (config/checks.py).
DEVELOPMENT_SECRET_KEY = "formtrack-local-development-key-not-for-production"  # noqa: S105
SECRET_KEY = env("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "daphne",
    "config.apps.FormTrackConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "accounts",
    "tracking",
    "references",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.db_unavailable.DatabaseUnavailableMiddleware",
    "config.ratelimit.ApiIpRateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
# A connection the database dropped (restart, network cut) is replaced, not reused broken.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers (parallel uploads) queue for the write lock for up to 20 s instead of
    # failing with "database is locked": a transaction takes the lock when it begins, never by
    # upgrading a read lock (which SQLite cannot wait for); WAL lets reads go on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE",
        timeout=20,
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
    # Tests on a file too, not Django's shared-cache in-memory database: there, a background job's
    # connection and the test's lock whole tables ("database table is locked"), which no timeout
    # waits for. One file per test process.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"formtrack-test-{os.getpid()}.sqlite3")
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable server fails a request in seconds (a 503) instead of hanging it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")

# After a Redis restart, a pooled connection is reopened on first use instead of failing once.
REDIS_RETRY = {"retry_on_error": [RedisConnectionError]}

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_RETRY,
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # No socket timeout: an idle consumer waits on the layer longer than redis-py's
            # default would allow, and must not crash when nothing is sent for a while.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None, **REDIS_RETRY}]},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Background jobs: a Redis broker and a real worker when REDIS_URL is set; otherwise an in-process
# thread pool (config.background) so a request still never waits for an analysis.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")
# A job whose worker died unacknowledged goes back to the queue after this long (Redis broker);
# it must exceed UPLOAD_ANALYSIS_LEASE_S, so a job waiting out a lease is not delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_S", default=15 * 60)
}
# On a broker connection loss, running analyses go on (their result is in the database); they are
# not cancelled, since a broker that restarted without persistence has lost their messages.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Publishing a job while the broker restarts is retried for about 9 s (config.background).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 6,
    "interval_start": 0.5,
    "interval_step": 0.5,
    "interval_max": 2,
}
BACKGROUND_RUNNER = env("BACKGROUND_RUNNER", default="celery" if REDIS_URL else "thread")
# Periodic tasks, run by one `celery beat` process (Procfile, compose.yaml): each takes no id and
# calls a service. Every organisation's end-user data past its retention (tracking/privacy.py).
CELERY_BEAT_SCHEDULE = {
    "prune-end-user-data": {
        "task": "tracking.tasks.prune_end_user_data",
        "schedule": crontab(hour=3, minute=17),
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Not the request's Host, which allauth would use (accounts/adapter.py puts links on SITE_URL).
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[FormTrack] "
LOGIN_REDIRECT_URL = "/dashboard/"
LOGIN_URL = "/accounts/login/"

# The console default prints each e-mail, links included, to the log: production refuses it
# (config/checks.py) and sets EMAIL_URL (smtp+tls://user:password@host:587) or EMAIL_BACKEND.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
if env("EMAIL_URL", default=""):
    # Backend, host, port, credentials and TLS in one value.
    globals().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="FormTrack <noreply@formtrack.local>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
# The languages the tracking pages, the engine and the parameter parser speak, one gettext catalog
# each in locale/ (README "Translations"); the same codes as tracking.engine.i18n.LANGUAGES. A page
# speaks its `language` parameter's; the dashboard is English (no LocaleMiddleware).
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# An absolute URL (a separate, cookie-less domain) serves uploaded media there: docs/deploy.md.
MEDIA_URL = env("MEDIA_URL", default="media/")
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.authentication.HasApiToken"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "accounts.api_errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["accounts.authentication.TokenBurstThrottle"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "FormTrack API",
    "DESCRIPTION": (
        "Self-hostable pose tracking, compatible with the PoseTracker API.\n\n"
        "The tracking page (`/pose_tracker/tracking`), its WebSocket and uploads send events, "
        "each a JSON object with a `type`: [every event type, when it is sent, and examples]"
        "(/api/docs/events/). Embedding the page: [integration](/api/docs/integration/); the "
        "live socket: [protocol](/api/docs/protocol/); every tracking parameter: "
        "[compatibility](/api/docs/compatibility/)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Separate request components, so uploaded files are `format: binary` (not response URLs).
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Uploads: files over the size limit are refused with 413, videos over the duration limit with 400.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=200 * 1024 * 1024)
UPLOAD_MAX_DURATION_S = env.float("UPLOAD_MAX_DURATION_S", default=10 * 60)
UPLOAD_ANALYSIS_FPS = env.float("UPLOAD_ANALYSIS_FPS", default=15.0)
# Pose estimation uses about one core per process: long videos are split across this many.
UPLOAD_ANALYSIS_WORKERS = env.int("UPLOAD_ANALYSIS_WORKERS", default=os.cpu_count() or 1)
# A worker holds a job this long past its last progress report before another may take it over.
UPLOAD_ANALYSIS_LEASE_S = env.int("UPLOAD_ANALYSIS_LEASE_S", default=5 * 60)
# Signed links to uploaded media and exports stay valid this long.
MEDIA_LINK_MAX_AGE_S = env.int("MEDIA_LINK_MAX_AGE_S", default=7 * 24 * 3600)
# Callback URLs, and the upload page's videoSrc/imageSrc, on private or loopback addresses are
# refused unless this is set (local testing).
CALLBACK_ALLOW_PRIVATE_HOSTS = env.bool("CALLBACK_ALLOW_PRIVATE_HOSTS", default=DEBUG)
# Seconds a callback attempt may take in all: connecting, sending and the receiver's answer.
CALLBACK_TIMEOUT_S = env.float("CALLBACK_TIMEOUT_S", default=10.0)
# Seconds the upload page's videoSrc/imageSrc may take to fetch in all, redirects included.
MEDIA_FETCH_TIMEOUT_S = env.float("MEDIA_FETCH_TIMEOUT_S", default=60.0)
# Seconds before each retry of a failed callback: 8 attempts over about 28 hours, the Standard
# Webhooks schedule (https://www.standardwebhooks.com/).
CALLBACK_RETRY_SCHEDULE_S = env.list(
    "CALLBACK_RETRY_SCHEDULE_S", cast=float, default=[5, 300, 1800, 7200, 18000, 36000, 36000]
)
# The server refuses larger request bodies with 413 before reading them (config/daphne.py): the
# largest upload plus its multipart envelope.
REQUEST_BODY_MAX_BYTES = UPLOAD_MAX_BYTES + 1024 * 1024
# Form fields (not files) are held in memory up to this; uploaded files and the request body
# itself are spooled to a temporary file on disk past FILE_UPLOAD_MAX_MEMORY_SIZE.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# A request's line and headers must all arrive within this many seconds of its first byte, or it
# is answered 408 (config/daphne.py): a client trickling its headers cannot hold a connection.
REQUEST_HEAD_TIMEOUT_S = env.float("REQUEST_HEAD_TIMEOUT_S", default=30.0)

# Business plan organisations get their monthly quota from Organization.monthly_quota; this is
# the default for new business organisations.
BUSINESS_DEFAULT_MONTHLY_CALLS = env.int("BUSINESS_DEFAULT_MONTHLY_CALLS", default=50_000)
# Optional pepper mixed into API token digests, so a database dump alone cannot verify guesses.
API_TOKEN_PEPPER = env("API_TOKEN_PEPPER", default="")

# Single-use tracking links (POST /api/v1/sessions) must be opened within this many seconds; the
# page opened from one gets a ticket for its own socket and uploads, valid this long after.
TRACKING_LINK_MAX_AGE_S = env.int("TRACKING_LINK_MAX_AGE_S", default=5 * 60)
TRACKING_TICKET_MAX_AGE_S = env.int("TRACKING_TICKET_MAX_AGE_S", default=60 * 60)

# The live tracking socket (docs/protocol.md). A JPEG frame may be up to 2 MiB. Daphne's own
# limit (set by config/daphne.py, for messages and frames) is 1 MiB above it, so that a message a
# little too large still reaches the consumer and gets its `message_too_large` event; past that
# Daphne closes with 1009.
LIVE_MAX_BINARY_BYTES = 2 * 1024 * 1024
WEBSOCKET_MAX_MESSAGE_BYTES = LIVE_MAX_BINARY_BYTES + 1024 * 1024
# Messages a second per live session (bursts of two seconds' worth), well above 30 fps landmarks;
# the excess is dropped with a `rate_limited` event. 0 switches the limit off.
LIVE_MAX_MESSAGES_PER_S = env.int("LIVE_MAX_MESSAGES_PER_S", default=100)
# Control frames (pings, pongs) a second per WebSocket, in bursts of twice that: autobahn answers
# them below the application, so this is their own budget (config/daphne.py); past it, close 1008.
WEBSOCKET_MAX_CONTROL_FRAMES_PER_S = env.int("WEBSOCKET_MAX_CONTROL_FRAMES_PER_S", default=10)
# Live sessions of one web process that may run pose estimation at once (server inference: each
# holds an estimator, about 90 MiB and two threads, and decodes one frame at a time); more are
# refused with `server_busy` and a retryAfter (docs/protocol.md). 0: no limit.
LIVE_MAX_SERVER_INFERENCE_SESSIONS = env.int("LIVE_MAX_SERVER_INFERENCE_SESSIONS", default=8)

# Burst rate limits a minute (config/ratelimit.py), apart from the monthly quota; 0 switches one
# off. Counted in the cache: Redis in production, so every process shares the counts.
RATE_LIMIT_TOKEN_API_PER_MIN = env.int("RATE_LIMIT_TOKEN_API_PER_MIN", default=600)
RATE_LIMIT_TOKEN_PAGE_PER_MIN = env.int("RATE_LIMIT_TOKEN_PAGE_PER_MIN", default=600)
RATE_LIMIT_TOKEN_WEBSOCKET_PER_MIN = env.int("RATE_LIMIT_TOKEN_WEBSOCKET_PER_MIN", default=600)
RATE_LIMIT_IP_PER_MIN = env.int("RATE_LIMIT_IP_PER_MIN", default=300)
# Admin sign-in attempts, per client address and per username (allauth limits the dashboard's).
RATE_LIMIT_ADMIN_LOGIN_PER_MIN = env.int("RATE_LIMIT_ADMIN_LOGIN_PER_MIN", default=10)
# Behind a reverse proxy, the client's address is the last one the proxy put in X-Forwarded-For.
RATE_LIMIT_TRUST_FORWARDED_FOR = env.bool(
    "RATE_LIMIT_TRUST_FORWARDED_FOR", default=env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
)
RATE_LIMIT_CACHE_PREFIX = "ratelimit"

SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "config.redaction.RedactTokensFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# Daphne serves /static/ itself unless a reverse proxy or CDN does (production sets this False).
SERVE_STATIC = env.bool("SERVE_STATIC", default=True)
# A proxy serves what `collectstatic` wrote, under names with their content's hash, which it lets
# browsers keep for a year (deploy/nginx.conf): the pose model and runtime then load from the
# browser's cache on every visit after the first. Daphne serves the source files by their names.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if SERVE_STATIC
        else "config.staticfiles.HashedStaticFilesStorage"
    },
}
