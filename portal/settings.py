"""Settings of the Mail Settings Portal, read from the environment (django-environ).

Defaults give the embedded set-up that `make run` uses on a machine with no
servers: SQLite in `var/` and Celery's file-system broker in `var/broker/`.
Production and CI set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis).
"""

import os
import re
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A local .env (`make run` writes one with DEBUG on) fills in what the environment lacks.
DOTENV = Path(os.environ.get("PORTAL_DOTENV", BASE_DIR / ".env"))
environ.Env.read_env(DOTENV, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# deploy/portal.env.example says PORTAL_DEPLOYMENT=production: then DEBUG is refused
# wherever it comes from, so a development .env left in the checkout cannot turn it on.
PORTAL_DEPLOYMENT = env.str("PORTAL_DEPLOYMENT", default="")
if PORTAL_DEPLOYMENT == "production" and DEBUG:
    _dotenv_debug = DOTENV.is_file() and re.search(
        r"^\s*(export\s+)?DEBUG\s*=", DOTENV.read_text(errors="replace"), re.MULTILINE
    )
    raise ImproperlyConfigured(
        "DEBUG is on in production (PORTAL_DEPLOYMENT=production): set DEBUG=false in the "
        "environment"
        + (
            f"; {DOTENV}, a development file, sets DEBUG: delete that file."
            if _dotenv_debug
            else "."
        )
    )
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-debug"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
# HTTPS only, unless DEBUG: plain http is redirected and browsers are told to remember it.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# The preload list takes whole registrable domains: the company's decision for its own
# domain, not the portal's (which usually lives on a sub-domain), so off unless asked for.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Mail programs may ask for their settings over plain http (Thunderbird's fallback, Outlook's
# redirect probe): those answers are public and must not be redirected away.
SECURE_REDIRECT_EXEMPT = [
    r"^mail/config-v1\.1\.xml$",
    r"^\.well-known/autoconfig/",
    r"^[Aa]utodiscover/[Aa]utodiscover\.xml$",
]
# Behind a reverse proxy that terminates TLS (Caddy), it says so in X-Forwarded-Proto.
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "portal",
    "accounts",
    "checks",
]

MIDDLEWARE = [
    # First: host checks, and the answers to mail programs on their customers' domains
    # (ALLOWED_HOSTS lists only the portal's own names).
    "portal.hosts.HostRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before the CSRF check, which reads a POST body to find its token.
    "portal.uploads.RequestBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.logins.middleware.StaffSessionMiddleware",
    "portal.logins.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.request_checks.RequestTextCheck",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.access.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the Celery worker write to the same file: WAL lets
    # readers go on during a write, IMMEDIATE avoids upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # A file, not memory, so that a real worker process can see the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Logins (portal/logins/). Lockout by django-axes: after LOGIN_FAILURE_LIMIT failures for one
# login name, or from one client address, logins are refused for LOGIN_COOLOFF_MINUTES.
# Authenticating without a request (management commands) skips the lockout check.
AUTHENTICATION_BACKENDS = [
    "portal.logins.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_COOLOFF_MINUTES = env.int("LOGIN_COOLOFF_MINUTES", default=15)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.logins.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "portal.logins.lockout.client_address"
# Behind a reverse proxy every request comes from the proxy: then the client address is
# read from X-Forwarded-For, trusting exactly this many proxies in front of the portal.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Password-reset mail: at most this many per e-mail address and per client address an hour.
PASSWORD_RESET_PER_EMAIL_PER_HOUR = env.int("PASSWORD_RESET_PER_EMAIL_PER_HOUR", default=3)
PASSWORD_RESET_PER_CLIENT_PER_HOUR = env.int("PASSWORD_RESET_PER_CLIENT_PER_HOUR", default=10)
# Staff give a second factor (TOTP, or a recovery code) once per session.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Mail Settings Portal")
# Session lifetimes: staff sessions end after this long idle and this long after login;
# customers stay logged in this many days.
STAFF_SESSION_IDLE_MINUTES = env.int("STAFF_SESSION_IDLE_MINUTES", default=30)
STAFF_SESSION_MAX_HOURS = env.int("STAFF_SESSION_MAX_HOURS", default=12)
CUSTOMER_SESSION_DAYS = env.int("CUSTOMER_SESSION_DAYS", default=14)
SESSION_COOKIE_AGE = CUSTOMER_SESSION_DAYS * 24 * 60 * 60

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "portal" / "static"]

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Seconds for each SMTP connect and reply: a hung mail server must not outlast a campaign
# notice's lease (CAMPAIGN_LEASE_SECONDS).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Mail Settings Portal <portal@localhost>"
)

# Largest import file a staff member may upload, in bytes (100,000 rows fit in ~20 MB).
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=32 * 1024 * 1024)
# Uploaded import files hold customer data: their content is dropped after this many days.
IMPORT_KEEP_DAYS = env.int("IMPORT_KEEP_DAYS", default=30)
# An import still being checked or applied this long after its work was handed to a
# worker (its message lost with a restarted broker) is handed out again.
IMPORT_RESEND_SECONDS = env.int("IMPORT_RESEND_SECONDS", default=120)
# Every other request body is bounded by Django's form-data limit (portal/uploads.py refuses
# a larger one before reading it); files up to the memory size stay in memory, larger ones
# go to a temporary file, and the import form is the only one with a file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 1

# Audit log entries are kept this many days (auditors commonly ask for a year and a bit).
AUDIT_KEEP_DAYS = env.int("AUDIT_KEEP_DAYS", default=400)

# Celery. The default broker is kombu's file-system transport: no server to
# install, yet a separate worker process really consumes the messages.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# Each kind of work has a queue of its own, so that an hour-long sweep never delays a
# campaign's mail or an import: deploy/systemd/portal-worker@.service runs one worker
# per queue (`portal-worker@probing`), on this machine or others. Housekeeping stays on
# the default queue, "celery". Tests give their worker and beat one queue of their own
# (CELERY_QUEUE) for everything.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
PORTAL_TASK_QUEUES = {
    "checks.tasks.sweep_start": "probing",
    "checks.tasks.probe_batch": "probing",
    "checks.tasks.endpoint_check": "probing",
    "portal.tasks.campaign_start": "campaigns",
    "portal.tasks.notices_send": "campaigns",
    "portal.tasks.campaigns_tick": "campaigns",
    "portal.tasks.notices_resume": "campaigns",
    "accounts.tasks.import_batch_preview": "imports",
    "accounts.tasks.import_batch_apply": "imports",
    # Server-log evidence (checks/evidence/) as it arrives.
    "checks.evidence.*": "ingest",
    "checks.tasks.evidence_*": "ingest",
}
if "CELERY_QUEUE" not in env.ENVIRON:
    CELERY_TASK_ROUTES = {task: {"queue": queue} for task, queue in PORTAL_TASK_QUEUES.items()}
    # A worker started without -Q (`make run`, a first install) consumes every queue;
    # production's units give each worker its own with -Q.
    CELERY_TASK_QUEUES = [
        Queue(name) for name in sorted({CELERY_TASK_DEFAULT_QUEUE, *PORTAL_TASK_QUEUES.values()})
    ]
# Seconds to connect to Redis, and to wait for its answer to a command: a Redis that
# vanished without closing its connections (a failover, a frozen host) must not hang a
# worker in a publish or an ack, nor a page reading the cache.
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT", default=10)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A task whose worker died unacknowledged is delivered again after this long:
        # longer than any task may run (CELERY_TASK_TIME_LIMIT), so never while it runs.
        "visibility_timeout": env.int("CELERY_REDELIVER_AFTER", default=900),
        "socket_connect_timeout": REDIS_TIMEOUT,
        "socket_timeout": REDIS_TIMEOUT,
        "socket_keepalive": True,
        # A consumer's connection that has not answered for this long is dropped and
        # made again (kombu's check of the waiting BRPOP).
        "health_check_interval": 10,
    }


def _next_redis_database(url: str) -> str:
    """The broker's Redis URL, one database further on: the cache can be emptied without
    touching the broker's queues."""
    parts = urlsplit(url)
    number = parts.path.strip("/") or "0"
    following = (int(number) + 1) % 16 if number.isdigit() else 1
    return parts._replace(path=f"/{following}").geturl()


# Shared by the web and the workers (a worker writes an import's progress, the page reads
# it; login failure and password-reset counters): Redis when the broker is Redis (the
# database after the broker's), else files in var/cache (one machine).
CACHES = {
    "default": env.cache_url(
        "CACHE_URL",
        default=_next_redis_database(CELERY_BROKER_URL)
        if CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
        else f"filecache://{VAR_DIR / 'cache'}",
    )
}
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES["default"].setdefault("OPTIONS", {})
    CACHES["default"]["OPTIONS"].setdefault("socket_connect_timeout", REDIS_TIMEOUT)
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", REDIS_TIMEOUT)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=660)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that lost the broker (Redis restarted) tries to connect again for as long as
# it takes, never giving up and exiting (Celery's default gives up after 100 tries).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task running when the broker connection breaks is finished, not cancelled: its work
# goes on in the database, and its claims (leases, statuses) make the redelivered message
# a no-op. (Celery warns that its default will change; this keeps today's.)
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# django-celery-beat's database schedule, with a heartbeat at each tick (portal/beat.py).
CELERY_BEAT_SCHEDULER = "portal.beat:HeartbeatScheduler"
# How often beat looks for campaigns whose sending stopped (a worker died) and restarts it.
CAMPAIGN_RESUME_SECONDS = env.int("CAMPAIGN_RESUME_SECONDS", default=5)
# Housekeeping; the sweep's own schedule is a row staff can edit in the admin
# (Periodic tasks), made by checks' migrations.
CELERY_BEAT_SCHEDULE = {
    "purge-old-import-files": {
        "task": "accounts.tasks.import_batches_purge",
        "schedule": 6 * 60 * 60,
    },
    "resume-imports": {
        "task": "accounts.tasks.import_batches_resume",
        "schedule": max(1, IMPORT_RESEND_SECONDS / 4),
    },
    "campaigns-tick": {
        "task": "portal.tasks.campaigns_tick",
        "schedule": 60,
    },
    "campaigns-resume-sending": {
        "task": "portal.tasks.notices_resume",
        "schedule": CAMPAIGN_RESUME_SECONDS,
    },
    "check-mail-domains-dns": {
        "task": "portal.tasks.domains_dns_check",
        "schedule": 24 * 60 * 60,
    },
    "purge-old-audit-entries": {
        "task": "portal.tasks.audit_purge",
        "schedule": 24 * 60 * 60,
    },
    "sweeps-tick": {
        "task": "checks.tasks.sweeps_tick",
        "schedule": env.float("PROBE_TICK_SECONDS", default=15),
    },
    "purge-old-probe-results": {
        "task": "checks.tasks.results_purge",
        "schedule": 24 * 60 * 60,
    },
    "resume-log-batches": {
        "task": "checks.tasks.evidence_batches_resume",
        "schedule": 5 * 60,
    },
}

# Probes of the mail servers (checks/).
PROBE_TIMEOUT = env.float("PROBE_TIMEOUT", default=10.0)  # one connection's whole exchange
PROBE_RETRY_DELAY = env.float("PROBE_RETRY_DELAY", default=2.0)  # before trying a refusal again
PROBE_CONCURRENCY = env.int("PROBE_CONCURRENCY", default=50)  # connections at once, per worker
PROBE_PER_ADDRESS = env.int("PROBE_PER_ADDRESS", default=4)  # at once to one server address
PROBE_BATCH_SIZE = env.int("PROBE_BATCH_SIZE", default=20)  # endpoints one task probes together
PROBE_CA_FILE = env.str("PROBE_CA_FILE", default="") or None  # added to the system store
# Like curl --resolve: "host=ip,host=ip" connects to ip, naming host in SNI and checks.
PROBE_RESOLVE = dict(
    item.split("=", 1) for item in env.list("PROBE_RESOLVE", default=[]) if "=" in item
)
# For the demo's servers without root (see README): "995=10995,..." connects to 10995
# whenever an endpoint says 995. Never set in production.
PROBE_PORT_MAP = {
    int(port): int(actual)
    for port, actual in (
        item.split("=", 1) for item in env.list("PROBE_PORT_MAP", default=[]) if "=" in item
    )
}
# The endpoints the company offers on every current server name: protocol:port:security.
PROBE_OFFERED = env.list(
    "PROBE_OFFERED",
    default=[
        "pop3:995:ssl",
        "pop3:110:starttls",
        "imap:993:ssl",
        "imap:143:starttls",
        "smtp:465:ssl",
        "smtp:587:starttls",
    ],
)
# The only ports probes connect to (with those in PROBE_OFFERED): the standard mail ports.
PROBE_PORTS = env.list("PROBE_PORTS", cast=int, default=[110, 995, 143, 993, 25, 465, 587])
PROBE_KEEP_DAYS = env.int("PROBE_KEEP_DAYS", default=90)
PROBE_EXPIRY_WARNING_DAYS = env.int("PROBE_EXPIRY_WARNING_DAYS", default=30)
PROBE_CONFIRM_AFTER = env.int("PROBE_CONFIRM_AFTER", default=2)  # sweeps a new state must hold
PROBE_ALERT_EMAIL = env.list("PROBE_ALERT_EMAIL", default=[])
PROBE_SWEEP_STALE_HOURS = env.float("PROBE_SWEEP_STALE_HOURS", default=6)
# A worker holds a batch under a lease it renews while probing; the sweeps' tick
# (PROBE_TICK_SECONDS) sends a batch again when its worker died and the lease ran out,
# up to PROBE_BATCH_CLAIMS claims in all. Recovery takes about lease + tick + one batch.
PROBE_BATCH_LEASE_SECONDS = env.int("PROBE_BATCH_LEASE_SECONDS", default=30)
PROBE_BATCH_CLAIMS = env.int("PROBE_BATCH_CLAIMS", default=3)

# Health (GET /healthz): a worker's or beat's heartbeat older than this is failing.
HEALTH_WORKER_STALE_SECONDS = env.int("HEALTH_WORKER_STALE_SECONDS", default=120)
HEALTH_BEAT_STALE_SECONDS = env.int("HEALTH_BEAT_STALE_SECONDS", default=300)
# Metrics (GET /metrics, Prometheus): for a scraper sending "Authorization: Bearer <token>",
# or from these client addresses or networks; with neither, /metrics is not served.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_ADDRESSES = env.list("METRICS_ALLOWED_ADDRESSES", default=[])

# Evidence from the mail servers' logs: kept this many days; findings look this far back;
# the zone of log timestamps that carry none (RFC 3164).
LOG_EVIDENCE_KEEP_DAYS = env.int("LOG_EVIDENCE_KEEP_DAYS", default=90)
LOG_EVIDENCE_WINDOW_DAYS = env.int("LOG_EVIDENCE_WINDOW_DAYS", default=14)
LOG_TIME_ZONE = env.str("LOG_TIME_ZONE", default=TIME_ZONE)
# POST /ingest/maillog/: the largest body, and when a batch no worker finished is handed out again.
LOG_INGEST_MAX_BYTES = env.int("LOG_INGEST_MAX_BYTES", default=5 * 1024 * 1024)
LOG_INGEST_RESUME_MINUTES = env.float("LOG_INGEST_RESUME_MINUTES", default=15)

# The company's recommended port and security per protocol (the fix findings propose),
# and the alternative for SMTP where a mail program cannot use the recommended one.
RECOMMENDED_PORTS = {
    protocol: (int(port), security)
    for protocol, port, security in (
        item.split(":")
        for item in env.list(
            "RECOMMENDED_PORTS", default=["pop3:995:ssl", "imap:993:ssl", "smtp:465:ssl"]
        )
    )
}
RECOMMENDED_SMTP_ALTERNATIVE = tuple(
    (int(p) if i == 0 else p)
    for i, p in enumerate(
        env.str("RECOMMENDED_SMTP_ALTERNATIVE", default="587:starttls").split(":")
    )
)

# Campaign mail: messages per minute across all workers; attempts before a notice
# is failed; how long a claimed notice stays with its worker; link lifetime after cutover;
# the fewest days between a launch and the cutover date.
CAMPAIGN_RATE_PER_MINUTE = env.int("CAMPAIGN_RATE_PER_MINUTE", default=600)
CAMPAIGN_MAX_ATTEMPTS = env.int("CAMPAIGN_MAX_ATTEMPTS", default=5)
CAMPAIGN_LEASE_SECONDS = env.int("CAMPAIGN_LEASE_SECONDS", default=30)  # renewed while sending
# Notices one worker claims and sends over one SMTP session (fewer at a low rate limit).
CAMPAIGN_BATCH_SIZE = env.int("CAMPAIGN_BATCH_SIZE", default=100)
CAMPAIGN_LINK_DAYS_AFTER_CUTOVER = env.int("CAMPAIGN_LINK_DAYS_AFTER_CUTOVER", default=14)
CAMPAIGN_MAIL_DOMAIN = env.str("CAMPAIGN_MAIL_DOMAIN", default="mail-portal.invalid")
# Where customers reach the portal: every mailed link and the DNS advice use it. `make run`
# sets it from HOST and PORT; production must set it (portal/deployment.py refuses to serve
# with a loopback or missing address).
PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000" if DEBUG else "")
if "ALLOWED_HOSTS" not in env.ENVIRON and (_portal_host := urlsplit(PORTAL_URL).hostname):
    # The portal answers at the address its links name (e.g. `make run HOST=192.0.2.7`).
    ALLOWED_HOSTS.append(f"[{_portal_host}]" if ":" in _portal_host else _portal_host)
# Signed guide links that staff mail to a customer open the guide without a login this long.
GUIDE_LINK_DAYS = env.int("GUIDE_LINK_DAYS", default=30)
# How long the link in an invitation to log in works (it works once).
INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)
# Every message to customers is signed with the company's name and optional further lines
# (e.g. the support desk's telephone; "\n" starts a new line).
PORTAL_SENDER_NAME = env.str(
    "PORTAL_SENDER_NAME", default=parseaddr(DEFAULT_FROM_EMAIL)[0] or "Mail Settings Portal"
)
PORTAL_SIGNATURE = env.str("PORTAL_SIGNATURE", default="", multiline=True)
CAMPAIGN_MIN_NOTICE_DAYS = env.int("CAMPAIGN_MIN_NOTICE_DAYS", default=7)

# Autoconfig answers are kept this long per domain (mail programs ask often).
AUTOCONFIG_CACHE_SECONDS = env.int("AUTOCONFIG_CACHE_SECONDS", default=60)
# Apple profiles are signed with this certificate (PEM, chain after it) and key when set.
MOBILECONFIG_SIGNING_CERT = env.str("MOBILECONFIG_SIGNING_CERT", default="")
MOBILECONFIG_SIGNING_KEY = env.str("MOBILECONFIG_SIGNING_KEY", default="")

# DNS checks of customers' mail domains: "ip:port" of the resolver to ask, or the system's.
DNS_NAMESERVER = env.str("DNS_NAMESERVER", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

VAR_DIR.mkdir(exist_ok=True)
