"""Django settings for aftersales.

Everything a deployment changes comes from ``AFTERSALES_*`` environment variables (the public
contract in docs/deploy.md); the defaults give the embedded set-up: SQLite in the data
directory and a broker that needs no server.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("AFTERSALES_DATA_DIR") or Path.cwd() / "var").resolve()
if not DATA_DIR.exists():
    # The database, the secret key and the uploads live here: for this user only. An existing
    # directory keeps the mode its owner chose.
    DATA_DIR.mkdir(parents=True, mode=0o700, exist_ok=True)


def _secret_key() -> str:
    """Use the configured key, else one generated once and kept in the data directory."""
    configured = os.environ.get("AFTERSALES_SECRET_KEY")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("AFTERSALES_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("AFTERSALES_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("AFTERSALES_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "aftersales.core",
    # The console and portal shell: base templates, view helpers, the navigation registry.
    "aftersales.shell",
    "aftersales.customers",
    "aftersales.assets",
    "aftersales.tickets",
    "aftersales.sla",
    "aftersales.channels.mail",
    "aftersales.channels.chat",
    "aftersales.channels.phone",
    "aftersales.channels.webhooks",
    "aftersales.knowledge",
    "aftersales.macros",
    "aftersales.api",
    # django-ninja's own templates and static files: the API docs are served from here, not a
    # CDN, so they work offline and under the Content-Security-Policy.
    "ninja",
    "aftersales.web",
    "aftersales.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "aftersales.core.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "aftersales.core.middleware.ContentSecurityPolicyMiddleware",
    # Last, so it sees a view's database or disk failure first (503, core/unavailable.py).
    "aftersales.core.unavailable.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "aftersales.urls"
WSGI_APPLICATION = "aftersales.wsgi.application"
ASGI_APPLICATION = "aftersales.asgi.application"

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
            ],
        },
    },
]

_database_url = os.environ.get("AFTERSALES_DATABASE_URL", "")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)}
else:
    _SQLITE_FILE = DATA_DIR / "aftersales.sqlite3"
    # Created empty (a valid SQLite database) with mode 0600 before SQLite would create it with
    # the umask's 0644; SQLite gives its -wal and -shm files the database file's mode.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(_SQLITE_FILE, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_SQLITE_FILE),
            "OPTIONS": {
                # WAL lets readers run beside the one writer; IMMEDIATE makes a writing transaction
                # take the lock up front instead of failing half-way with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not memory, for tests too: worker processes and the browser tests' live
            # server must see the same database as the test.
            "TEST": {"NAME": str(DATA_DIR / "test-aftersales.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Uploads live in the data directory, outside anything the web server serves; the app streams
# them after checking who is asking.
MEDIA_ROOT = DATA_DIR / "uploads"
MEDIA_URL = "/media-not-served/"

# Request size: the API refuses larger bodies with 413 before parsing them.
AFTERSALES_MAX_REQUEST_BYTES = int(os.environ.get("AFTERSALES_MAX_REQUEST_BYTES", str(12 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = AFTERSALES_MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
AFTERSALES_ATTACHMENT_MAX_BYTES = int(
    os.environ.get("AFTERSALES_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024))
)
# Raw MIME posted to the mail intake carries an attachment base64-encoded (4/3 of its size plus
# a line break every 76 characters): that endpoint's limit follows the attachment limit, with
# 1 MiB for headers and text. Every other path keeps AFTERSALES_MAX_REQUEST_BYTES.
AFTERSALES_MAIL_INBOUND_MAX_REQUEST_BYTES = max(
    AFTERSALES_MAX_REQUEST_BYTES, AFTERSALES_ATTACHMENT_MAX_BYTES * 4 // 3 * 78 // 76 + 1024 * 1024
)
AFTERSALES_MAX_REQUEST_BYTES_BY_PATH = {"/api/v1/mail/inbound": AFTERSALES_MAIL_INBOUND_MAX_REQUEST_BYTES}

# Requests per minute per API token (0 turns the limit off); answers 429 beyond it.
AFTERSALES_API_RATE_PER_MINUTE = int(os.environ.get("AFTERSALES_API_RATE_PER_MINUTE", "6000"))

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# HTTPS in production (docs/deploy.md, Security). Each switch has its own variable; all default
# to on when DEBUG is off and the public URL (the base of links in e-mail) is https.
_PUBLIC_URL_IS_HTTPS = os.environ.get("AFTERSALES_PUBLIC_URL", "").strip().lower().startswith("https://")
_HTTPS_BY_DEFAULT = not DEBUG and _PUBLIC_URL_IS_HTTPS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _env_bool("AFTERSALES_SECURE_COOKIES", _HTTPS_BY_DEFAULT)
SECURE_HSTS_SECONDS = int(
    os.environ.get("AFTERSALES_HSTS_SECONDS") or (31_536_000 if _HTTPS_BY_DEFAULT else 0)
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("AFTERSALES_HSTS_INCLUDE_SUBDOMAINS", _HTTPS_BY_DEFAULT)
SECURE_SSL_REDIRECT = _env_bool("AFTERSALES_SSL_REDIRECT", _HTTPS_BY_DEFAULT)
# Load-balancer probes come over plain http on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# The header a TLS-terminating proxy sets (value "https"); "off" when nothing sets it.
_PROXY_SSL_HEADER = os.environ.get(
    "AFTERSALES_PROXY_SSL_HEADER", "X-Forwarded-Proto" if _HTTPS_BY_DEFAULT else "off"
).strip()
if _PROXY_SSL_HEADER and _PROXY_SSL_HEADER.lower() not in {"off", "0", "false", "no", "none"}:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https")
# Content-Security-Policy on every response (core.middleware.ContentSecurityPolicyMiddleware):
# no inline script anywhere; inline style attributes are still used by a few templates and by
# htmx's indicator styles, hence 'unsafe-inline' for styles only.
AFTERSALES_CONTENT_SECURITY_POLICY = os.environ.get(
    "AFTERSALES_CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)

# Outbound webhooks go to public addresses only, unless allowed (an ERP on the office network).
AFTERSALES_WEBHOOK_ALLOW_PRIVATE = _env_bool("AFTERSALES_WEBHOOK_ALLOW_PRIVATE")
AFTERSALES_WEBHOOK_ALLOWED_NETWORKS = [
    network.strip()
    for network in os.environ.get("AFTERSALES_WEBHOOK_ALLOWED_NETWORKS", "").split(",")
    if network.strip()
]

# Background work. The embedded default is a broker kept in files under the data directory,
# so `aftersales serve` needs no server; production points this at Redis or RabbitMQ.
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("AFTERSALES_BROKER_URL", "filesystem://")
CELERY_TASK_ALWAYS_EAGER = _env_bool("AFTERSALES_TASKS_EAGER")
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
# Celery's Django fix-up would close the database connections around every task; aftersales.celery
# recycles them as Django does for requests (CONN_MAX_AGE, broken ones) instead.
CELERY_DB_REUSE_MAX = 100_000
CELERY_BEAT_SCHEDULE = {
    "purge-idempotency-records": {"task": "core.purge_idempotency_records", "schedule": 3600.0},
    # Warn and escalate SLA clocks that fell due and arm the alarms coming into the horizon
    # (idempotent; several schedulers are harmless). The alarms fire on time; this reconciles.
    "sla-sweep-due": {"task": "sla.sweep_due", "schedule": 30.0},
    # Post outbound webhook deliveries whose retry is due (claimed by compare-and-set).
    "webhooks-retry-due": {"task": "webhooks.retry_due", "schedule": 60.0},
    # Refused webhook requests after a week, the other request and delivery logs after 90 days.
    "webhooks-purge-logs": {"task": "webhooks.purge_logs", "schedule": 86400.0},
    # Scheduled knowledge-base versions go live when their effective time comes (idempotent).
    "knowledge-publish-due": {"task": "knowledge.publish_due", "schedule": 60.0},
    # Answer-bot conversations idle for a day end as abandoned (for the deflection report).
    "knowledge-abandon-idle-bot-sessions": {
        "task": "knowledge.abandon_idle_bot_sessions",
        "schedule": 3600.0,
    },
    # Read the IMAP mailboxes; resend queued e-mail that is due (both idempotent).
    "mail-poll-mailboxes": {"task": "mail.poll_mailboxes", "schedule": 60.0},
    "mail-send-due": {"task": "mail.send_due", "schedule": 60.0},
    # Close chats whose visitor left half an hour ago (compare-and-set; the tickets stay open).
    "chat-close-abandoned": {"task": "chat.close_abandoned", "schedule": 300.0},
}
# SLA warnings and breaches due this far ahead get a Celery task with that ETA (docs/sla.md);
# keep it well under the broker's visibility timeout (Redis: 1 hour by default).
SLA_ALARM_HORIZON_SECONDS = int(os.environ.get("AFTERSALES_SLA_ALARM_HORIZON_SECONDS", "120"))
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("in", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "in"),
        "data_folder_out": str(BROKER_DIR / "in"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }

# The shared cache holds the rate-limit counters (chat, bot, API, sign-in), so every web process
# counts together: Redis when AFTERSALES_CACHE_URL names one (redis://host:6379/1), else a table
# in the database (made by `aftersales migrate`), whose increment is atomic across processes.
_cache_url = os.environ.get("AFTERSALES_CACHE_URL", "").strip()
_cache_key_prefix = os.environ.get("AFTERSALES_CACHE_KEY_PREFIX", "aftersales")
CACHES: dict[str, dict[str, object]]
if _cache_url.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            "KEY_PREFIX": _cache_key_prefix,
        }
    }
elif _cache_url:
    raise ValueError("AFTERSALES_CACHE_URL must start with redis://, rediss:// or unix://")
else:
    CACHES = {
        "default": {
            "BACKEND": "aftersales.core.cache.AtomicDatabaseCache",
            "LOCATION": "aftersales_cache",
            "KEY_PREFIX": _cache_key_prefix,
            # Culling deletes live entries once the table is over MAX_ENTRIES: keep it far above the
            # number of rate-limit windows alive at once, so counters are never culled early
            # (expired windows are deleted as counting goes, see core/cache.py).
            "OPTIONS": {"MAX_ENTRIES": 200_000, "CULL_FREQUENCY": 4},
        }
    }

# Addresses of the reverse proxies / load balancers in front of the web processes (CIDRs, comma
# separated). Only a request from one of them has its X-Forwarded-For believed.
# A typo fails at start-up (ip_network raises ValueError).
AFTERSALES_TRUSTED_PROXIES = [
    str(ipaddress.ip_network(entry, strict=False))
    for entry in os.environ.get("AFTERSALES_TRUSTED_PROXIES", "").replace(",", " ").split()
]

# Sign-in guessing: failures per account and per client address in a window lock that account or
# address out until the window ends. Password-reset requests are limited the same way.
AUTHENTICATION_BACKENDS = ["aftersales.core.login_throttle.ThrottledModelBackend"]
AFTERSALES_LOGIN_WINDOW_SECONDS = int(os.environ.get("AFTERSALES_LOGIN_WINDOW_SECONDS", "900"))
AFTERSALES_LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("AFTERSALES_LOGIN_FAILURES_PER_ACCOUNT", "5"))
AFTERSALES_LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("AFTERSALES_LOGIN_FAILURES_PER_ADDRESS", "20"))
AFTERSALES_PASSWORD_RESETS_PER_HOUR = int(os.environ.get("AFTERSALES_PASSWORD_RESETS_PER_HOUR", "5"))
# Password-reset links stay valid this long (Django's own setting).
PASSWORD_RESET_TIMEOUT = int(os.environ.get("AFTERSALES_PASSWORD_RESET_TIMEOUT", str(3 * 3600)))
# Account e-mail (password reset) leaves through the mail channel's SMTP (AFTERSALES_SMTP_URL),
# or lands in DATA_DIR/outbox as .eml files when none is configured.
EMAIL_BACKEND = "aftersales.channels.mail.account_mail.OutboundMailBackend"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("AFTERSALES_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
