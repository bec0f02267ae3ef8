"""Django settings for jianjian.

All configuration comes from environment variables read through :mod:`jianjian.conf`, which fail
loudly on bad values. The zero-configuration default is SQLite in ``$JIANJIAN_DATA_DIR``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

import dj_database_url

from jianjian.conf import (
    ConfigError,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_path,
    env_prefixed,
    env_str,
)
from jianjian.datadir import secure as secure_data_dir

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = env_path("JIANJIAN_DATA_DIR", "./var")
secure_data_dir(DATA_DIR)  # 0700/0600 and a private umask, before anything is written there

DEBUG = env_bool("JIANJIAN_DEBUG", False)


def _secret_key() -> str:
    """The key from the environment, else one kept in the data directory.

    The embedded default must work with zero configuration, yet sessions must survive a restart,
    so a random key is generated once and stored next to the database (mode 0600).
    """
    key = env_str("JIANJIAN_SECRET_KEY", "")
    if key:
        return key
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("JIANJIAN_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("JIANJIAN_CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies of ours in front of `jianjian serve` (0: served directly). With N, the visitor's
# address is read from X-Forwarded-For (ops/forwarded.py), so per-address limits are per visitor.
PROXY_COUNT = env_int("JIANJIAN_PROXY_COUNT", 0, minimum=0)
# Behind our own proxies, which set X-Forwarded-Proto on every request (deploy/nginx/), a request
# that reached them over TLS is secure: HSTS and secure-only checks then apply as intended.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PROXY_COUNT else None
# Largest request body read into memory (file uploads are spooled to disk instead). Django's
# 2.5 MB refused a 20,000-row JSON manifest, which the API's schema allows.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("JIANJIAN_MAX_REQUEST_MB", 16, minimum=1) * 1024 * 1024

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "jianjian.communities",
    "jianjian.points",
    "jianjian.couriers",
    "jianjian.parcels",
    "jianjian.notify",
    "jianjian.web",
    "jianjian.ops",
    "jianjian.stocktake",
    "jianjian.reports",
    "jianjian.api",
    "jianjian.residents",
    "jianjian.console",
    "axes",
    "ninja",  # /api/v1/docs from ninja's own static Swagger UI, not a CDN (the CSP allows self)
    "csp",
]

MIDDLEWARE = [
    # Before anything reads the visitor's address (only active with JIANJIAN_PROXY_COUNT).
    "jianjian.ops.forwarded.ForwardedForMiddleware",
    # Then: the request id, the JSON request log and the metrics see every request (issue 8).
    "jianjian.ops.middleware.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # jianjian.ops.apipath.*: Django's, whitenoise's and django-csp's own, passed by for an API
    # call judged by its bearer token (no session, user, messages, static files or page policy).
    "jianjian.ops.apipath.WhiteNoiseMiddleware",
    "jianjian.ops.apipath.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "jianjian.ops.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "jianjian.ops.apipath.AuthenticationMiddleware",
    "jianjian.ops.apipath.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "jianjian.ops.apipath.CSPMiddleware",
    # Last, as django-axes asks: turns a locked-out staff sign-in into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jianjian.urls"
WSGI_APPLICATION = "jianjian.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jianjian.web.context.site_nav",
            ],
        },
    },
]


# Read whatever the database, so a bad value stops the process on SQLite too.
DB_PREPARED = env_bool("JIANJIAN_DB_PREPARED", True)


def _databases() -> dict[str, Any]:
    url = env_str("JIANJIAN_DATABASE_URL", "")
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        return {"default": sqlite_database(DATA_DIR / "jianjian.sqlite3")}
    if not url.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise ConfigError(
            f"JIANJIAN_DATABASE_URL={url!r}: only postgres:// and sqlite:// URLs are supported"
        )
    if url.startswith("sqlite"):
        return {"default": sqlite_database(Path(dj_database_url.parse(url)["NAME"]))}
    config = dj_database_url.parse(url, conn_max_age=env_int("JIANJIAN_DB_CONN_MAX_AGE", 60))
    config["CONN_HEALTH_CHECKS"] = True
    if DB_PREPARED:
        # Parameters bound by the server and a statement prepared on a connection after its
        # fifth use (psycopg's threshold; Django's default is never): PostgreSQL then plans the
        # scan's statements once, not on every call, which was a third of its CPU per scan. Off
        # for a PgBouncer older than 1.21 in transaction mode, which cannot keep them.
        config["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
    return {"default": config}


def sqlite_database(path: Path) -> dict[str, Any]:
    """SQLite tuned for a busy counter: WAL so readers never block the writer, a busy timeout so
    concurrent writers wait instead of failing, and IMMEDIATE transactions so a transaction takes
    the write lock up front (no deadlock between two read-then-write transactions)."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 10,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;"
            ),
        },
        # Tests use a file too (not :memory:), so threads see one database as in production.
        "TEST": {"NAME": str(path.with_name(path.stem + "_test.sqlite3"))},
    }


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("JIANJIAN_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Uploads (disinfection photos) live in the data directory, served only through views that check
# permissions, never as public static files.
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
# Serve straight from the apps' static folders: no collectstatic step for the embedded default.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Behind our TLS-terminating proxy (JIANJIAN_PROXY_COUNT > 0) cookies are secure by default.
SESSION_COOKIE_SECURE = env_bool("JIANJIAN_SECURE_COOKIES", PROXY_COUNT > 0)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- security (issue 6; docs/security.md) ----------------------------------------------------
# Behind HTTPS, browsers are told to come back over HTTPS only.
SECURE_HSTS_SECONDS = 31_536_000 if SESSION_COOKIE_SECURE else 0
# Our proxy terminates TLS and says so in X-Forwarded-Proto (it must set the header, not pass
# the client's on): only then is the request secure for Django, which sends HSTS on secure
# requests only. Served directly, a client's own header is never trusted.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PROXY_COUNT > 0 else None
# Scripts only from our own origin (htmx is vendored): no inline script, no eval. Inline styles
# stay allowed because Django's admin and htmx's indicator rules set style attributes; a style
# cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Staff password sign-in: after 5 failures for one user name from one address, that pair is
# locked for 15 minutes (django-axes). Locking the name alone would let anyone lock a clerk out.
AUTHENTICATION_BACKENDS = [
    "jianjian.residents.auth.StaffLoginThrottle",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "residents/locked_out.html"
AXES_VERBOSE = False
# Sign-in codes go by SMS in production; the embedded default writes them to the log channel.
SIGNIN_CODE_CHANNEL = env_choice("JIANJIAN_SIGNIN_CHANNEL", "log", ("log", "sms"))
# A resident's sign-in lasts on that device (90 days); staff keep Django's two weeks.
RESIDENT_SESSION_SECONDS = 90 * 24 * 3600

# Phone numbers without a country prefix are read as numbers of this region.
PHONE_REGION = env_str("JIANJIAN_PHONE_REGION", "CN")

# Notifications: the embedded default writes every message to a file in the data directory.
NOTIFY_LOG_FILE = DATA_DIR / "notifications.log"
NOTIFY_DEFAULT_CHANNEL = env_choice("JIANJIAN_NOTIFY_CHANNEL", "log", ("log", "sms", "email"))
NOTIFY_MAX_ATTEMPTS = env_int("JIANJIAN_NOTIFY_MAX_ATTEMPTS", 8, minimum=1)
WORKER_POLL_SECONDS = env_int("JIANJIAN_WORKER_POLL_SECONDS", 2, minimum=1)
# A worker's lease on a message; a dead worker's messages are retried after it.
NOTIFY_CLAIM_SECONDS = env_int("JIANJIAN_NOTIFY_CLAIM_SECONDS", 120, minimum=1)
# SMS (notify/channels/sms.py): the provider, its keys and one template id per message cause.
SMS_PROVIDER = env_choice("JIANJIAN_SMS_PROVIDER", "log", ("log", "aliyun", "tencent"))
SMS_TEMPLATES = env_prefixed("JIANJIAN_SMS_TEMPLATE_")
SMS_ALIYUN = {
    "key_id": env_str("JIANJIAN_ALIYUN_SMS_ACCESS_KEY_ID", ""),
    "secret": env_str("JIANJIAN_ALIYUN_SMS_ACCESS_KEY_SECRET", ""),
    "sign_name": env_str("JIANJIAN_ALIYUN_SMS_SIGN_NAME", ""),
    "endpoint": env_str("JIANJIAN_ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com/"),
}
SMS_TENCENT = {
    "key_id": env_str("JIANJIAN_TENCENT_SMS_SECRET_ID", ""),
    "secret": env_str("JIANJIAN_TENCENT_SMS_SECRET_KEY", ""),
    "sign_name": env_str("JIANJIAN_TENCENT_SMS_SIGN_NAME", ""),
    "app_id": env_str("JIANJIAN_TENCENT_SMS_SDK_APP_ID", ""),
    "region": env_str("JIANJIAN_TENCENT_SMS_REGION", "ap-guangzhou"),
    "endpoint": env_str("JIANJIAN_TENCENT_SMS_ENDPOINT", "https://sms.tencentcloudapi.com/"),
}

# --- operations (issue 8; docs/reliability.md) ----------------------------------------------
BACKUP_DIR = env_path("JIANJIAN_BACKUP_DIR", str(DATA_DIR / "backups"))
BACKUP_KEEP = env_int("JIANJIAN_BACKUP_KEEP", 14, minimum=1)
# `jianjian serve` takes a backup a day by itself; on by default for SQLite (PostgreSQL sites
# usually have their own).
BACKUP_DAILY = env_bool("JIANJIAN_BACKUP_DAILY", DATABASES["default"]["ENGINE"].endswith("sqlite3"))
# `jianjian serve` (granian): where it listens, its worker processes and, in each, the threads
# that run Django and the connections it keeps open. Django's work is CPU-bound under the GIL:
# two threads per worker cover the database's round trips (measured in docs/benchmarks.md);
# hundreds (granian's WSGI default) only fight over the GIL and hold a database connection each.
# granian's backpressure counts open connections, idle keep-alive ones included, not requests:
# set near the thread count, clients beyond it were never answered.
WEB_HOST = env_str("JIANJIAN_HOST", "127.0.0.1")
WEB_PORT = env_int("JIANJIAN_PORT", 8000, minimum=1, maximum=65535)
WEB_WORKERS = env_int("JIANJIAN_WEB_WORKERS", 2, minimum=1, maximum=64)
WEB_THREADS = env_int("JIANJIAN_WEB_THREADS", 2, minimum=1, maximum=256)
WEB_BACKPRESSURE = env_int("JIANJIAN_WEB_BACKPRESSURE", 256, minimum=1, maximum=4096)
READY_REQUIRE_WORKER = env_bool("JIANJIAN_READY_REQUIRE_WORKER", True)
READY_WORKER_MAX_AGE = env_int("JIANJIAN_READY_WORKER_MAX_AGE", 60, minimum=1)
READY_OUTBOX_MAX_BACKLOG = env_int("JIANJIAN_READY_OUTBOX_MAX_BACKLOG", 1000, minimum=0)
READY_OUTBOX_MAX_DUE_AGE = env_int("JIANJIAN_READY_OUTBOX_MAX_DUE_AGE", 600, minimum=0)
READY_MIN_FREE_MB = env_int("JIANJIAN_READY_MIN_FREE_MB", 100, minimum=0)
METRICS_TOKEN = env_str("JIANJIAN_METRICS_TOKEN", "")

# Custody events go to their own file (one JSON line each): a demo load or a busy day writes
# thousands, which would bury the server's own lines on the terminal. "-" writes them to stderr
# with the request lines (e.g. under a log collector).
CUSTODY_LOG = env_str("JIANJIAN_CUSTODY_LOG", str(DATA_DIR / "custody.log"))
_CUSTODY_HANDLER: dict[str, Any] = {"class": "logging.StreamHandler", "formatter": "json"}
if CUSTODY_LOG != "-":
    # Opened for each line and closed again: never holds the data directory's disk.
    _CUSTODY_HANDLER = {
        "()": "jianjian.ops.logfile.AppendFileHandler",
        "filename": CUSTODY_LOG,
        "formatter": "json",
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "jianjian.ops.logs.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "json": {"class": "logging.StreamHandler", "formatter": "json"},
        "custody": _CUSTODY_HANDLER,
    },
    "loggers": {
        # One JSON line per request and per committed custody event (issue 8).
        "jianjian.request": {"handlers": ["json"], "level": "INFO", "propagate": False},
        "jianjian.custody": {"handlers": ["custody"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": env_str("JIANJIAN_LOG_LEVEL", "INFO")},
}
