"""Settings for dayao-sscard, all read from the environment.

Defaults give a self-contained system: a SQLite file and a file-system Celery
broker under ``data/``, so one machine with nothing installed runs everything.
"""

import datetime
import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DAYAO_DATA_DIR", BASE_DIR / "data"))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _persistent_secret_key() -> str:
    """Generate the key on first run and keep it in the data folder, never in git."""
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or _persistent_secret_key()
DEBUG = _env_flag("DEBUG")
# No default: with DEBUG off the web server refuses to start without it (wsgi.py);
# scripts/run sets this machine's names.
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "dayao_sscard.admin_site.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Finds each app's rules.py: the actions and who may do them (dayao_sscard/permissions.py).
    "rules.apps.AutodiscoverRulesConfig",
    # Login lockout (dayao_sscard/lockout.py) and the county administrators' second factor.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "dayao_sscard",
    "roster",
    "issuance",
    "activation",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise: static files keep their long caching, every page gets the headers.
    "dayao_sscard.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "dayao_sscard.middleware.SessionTimeoutMiddleware",
    "dayao_sscard.middleware.RefuseControlCharactersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dayao_sscard.urls"

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
                "dayao_sscard.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "dayao_sscard.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
        # A connection kept open (DB_CONN_MAX_AGE) is tried before a request uses it: after
        # a database restart the first request opens a new one instead of failing.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the Celery worker writes an import.
    # A file, not the shared in-memory database, so that tests of concurrent writers
    # see SQLite's real locking (waits on the busy timeout) as production does.
    # One file per test process, so that two test runs never share a database.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"dayao-test-{os.getpid()}.sqlite3")
    }
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }

elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT: the pages' counting queries are short and many-branched, and PostgreSQL's
    # JIT spent 24 s compiling one that ran in 3 s (300,000 persons, docs/PERFORMANCE.md).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()

# A streaming replica of the PostgreSQL database, which the dashboards read from
# (dayao_sscard/replica.py, docs/DEPLOYMENT.md). Tests read the primary in its place.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["OPTIONS"] = {"options": "-c jit=off"}
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["dayao_sscard.replica.ReplicaRouter"]

AUTH_USER_MODEL = "dayao_sscard.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# The JSON API answers a missing CSRF token in JSON; the pages keep Django's own page.
CSRF_FAILURE_VIEW = "dayao_sscard.api.csrf_failure"

# Every place that sets a password runs these (staff_create, the admin, changepassword).
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "display_name")},
    },
    {"NAME": "dayao_sscard.passwords.MinimumLengthValidator"},
    {"NAME": "dayao_sscard.passwords.CharacterKindsValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploaded lists, photos and generated reports hold personal data: they live in the
# data folder, outside any URL, and are streamed only through views that check scope.
MEDIA_ROOT = DATA_DIR / "private"
WHITENOISE_USE_FINDERS = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Login and sessions (docs/SECURITY.md). A session ends after SESSION_IDLE_MINUTES without
# a request, SESSION_MAX_HOURS after the login whatever the user does, and with the
# browser (SessionTimeoutMiddleware enforces the first two).
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
SESSION_MAX_HOURS = float(os.environ.get("SESSION_MAX_HOURS", "12"))
SESSION_COOKIE_AGE = int(SESSION_MAX_HOURS * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# HTTPS=1 (behind the TLS proxy of docs/DEPLOYMENT.md) turns on everything that needs TLS:
# secure cookies, the redirect of plain HTTP and HSTS. The proxy must set
# X-Forwarded-Proto; without HTTPS nothing changes for a plain-HTTP office machine.
HTTPS = _env_flag("HTTPS")
SESSION_COOKIE_SECURE = _env_flag("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = _env_flag("CSRF_COOKIE_SECURE", HTTPS)
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_flag("HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = _env_flag("HSTS_PRELOAD", True)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# Lockout (django-axes, dayao_sscard/lockout.py): LOGIN_FAILURE_LIMIT wrong passwords in a
# row lock the username, LOGIN_FAILURE_LIMIT_PER_ADDRESS failures of any usernames lock the
# address (a township office shares one, so it allows more). A lock lasts
# LOGIN_LOCKOUT_MINUTES (0: until an administrator unlocks it: admin or ``login_unlock``).
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
LOGIN_FAILURE_LIMIT_PER_ADDRESS = int(os.environ.get("LOGIN_FAILURE_LIMIT_PER_ADDRESS", "30"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "30"))
# Behind N proxies (nginx: 1) the client's address is the N-th from the right of
# X-Forwarded-For; with 0 it is the connection's own.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_HANDLER = "dayao_sscard.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = (
    datetime.timedelta(minutes=LOGIN_LOCKOUT_MINUTES) if LOGIN_LOCKOUT_MINUTES > 0 else None
)
AXES_LOCKOUT_CALLABLE = "dayao_sscard.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "dayao_sscard.lockout.client_address"
# The lockout handler clears only the signed-in user's own failures (see lockout.py).
AXES_RESET_ON_SUCCESS = False
# Locks are lifted on the staff admin's own audited action, not on axes' pages.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
# The county administrators' second factor (TOTP, dayao_sscard/two_factor.py).
OTP_TOTP_ISSUER = "大姚县社保卡"
# Minutes between the password and the code before the login starts again.
LOGIN_SECOND_STEP_MINUTES = 5

# Password reset by e-mail exists only when mail can be sent (EMAIL_HOST set).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_flag("EMAIL_USE_TLS")
EMAIL_USE_SSL = _env_flag("EMAIL_USE_SSL")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "webmaster@localhost")

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # The exchange tables; by default kombu writes them to ./control.
        "control_folder": str(_broker_dir / "control"),
    }
# Live job progress goes through the cache, not the database: an import writes inside one
# long transaction, and on SQLite nobody else may write while it runs.
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Redis down for a while must not stop the pages or a running import: the cache
    # reads as empty meanwhile (dayao_sscard/cache.py), a job queued meanwhile waits and is
    # sent once Redis answers (jobs.job_send), and the worker reconnects however long it
    # takes. Short timeouts: a request never hangs on an unreachable Redis host.
    CACHES = {
        "default": {
            "BACKEND": "dayao_sscard.cache.TolerantRedisCache",
            "LOCATION": CELERY_BROKER_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None

# The custody-risk tiles are counted again at most this often while the ledger moves
# (issuance.risks); a minute at most when nothing changes.
RISK_COUNTS_MIN_SECONDS = int(os.environ.get("RISK_COUNTS_MIN_SECONDS", "60"))

# Job rows carry status and results; Celery's own result store is not needed.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = _env_flag("CELERY_TASK_ALWAYS_EAGER")
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE

# Uploaded images are refused above this many pixels, before they are decoded: a
# 48-megapixel phone photo passes, a small file that unpacks to gigabytes does not.
IMAGE_MAX_PIXELS = int(os.environ.get("IMAGE_MAX_PIXELS", "50000000"))

# Uploaded spreadsheets, checked before they are read. An xlsx is a zip: a 1 MB file can
# unpack to gigabytes. A 1,000,000-row list unpacks to about 550 MB and compresses
# about 9 times; Excel itself holds at most 32,767 characters in a cell.
UPLOAD_MAX_UNPACKED_MB = int(os.environ.get("UPLOAD_MAX_UNPACKED_MB", "1024"))
UPLOAD_MAX_COMPRESSION_RATIO = int(os.environ.get("UPLOAD_MAX_COMPRESSION_RATIO", "100"))
UPLOAD_MAX_CELL_CHARS = int(os.environ.get("UPLOAD_MAX_CELL_CHARS", "32767"))

# A running job's worker beats every JOB_HEARTBEAT_SECONDS from a thread of its own, however
# quiet its work; on another host than the worker's, a running job whose heartbeat has
# been missing this long is failed (on the worker's host its process id tells).
JOB_STALE_AFTER_SECONDS = int(os.environ.get("JOB_STALE_AFTER_SECONDS", "180"))
JOB_HEARTBEAT_SECONDS = float(os.environ.get("JOB_HEARTBEAT_SECONDS", "5"))
# A queued job not started this long after it was sent is sent again (the broker may have
# restarted without keeping its queue); a second message is harmless, the job runs once.
JOB_RESEND_AFTER_SECONDS = int(os.environ.get("JOB_RESEND_AFTER_SECONDS", "600"))
# A card-system export with fewer records than this share of what the county already knows
# (the previous complete export, or the persons known to hold a made card) stops at a
# preview until an administrator says whether it is complete or partial.
CARD_EXPORT_SHRINK_RATIO = float(os.environ.get("CARD_EXPORT_SHRINK_RATIO", "0.9"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A refused request is routine: one warning line, not a traceback.
    "filters": {
        "forbidden_without_traceback": {"()": "dayao_sscard.log.ForbiddenWithoutTraceback"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"filters": ["forbidden_without_traceback"]},
        # axes says every failed and successful login at INFO; its warnings (a lockout) stay.
        "axes": {"level": "WARNING"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# 发放台账 PDFs: signed with the county's certificate and key (PEM files) when both are
# set, else with a key pair the system generates into DATA_DIR/ledger_signing/ on first use.
LEDGER_SIGNING_KEY = os.environ.get("LEDGER_SIGNING_KEY", "")
LEDGER_SIGNING_CERT = os.environ.get("LEDGER_SIGNING_CERT", "")
LEDGER_SIGNING_KEY_PASSPHRASE = os.environ.get("LEDGER_SIGNING_KEY_PASSPHRASE", "")
# Worker processes printing a township's ledger, one village each at a time; each needs
# about 200 MB while it prints.
LEDGER_PDF_WORKERS = int(os.environ.get("LEDGER_PDF_WORKERS", str(min(2, os.cpu_count() or 1))))

# ---- Retention and audit (docs/SECURITY.md, 留存与审计) ----
# Uploaded lists (every one, failed ones too) and generated exports are deleted this many
# days after their job ended, by `manage.py retention` and the nightly beat task; the job
# row and the audit log keep the file's name, size and SHA-256 fingerprint.
UPLOAD_RETENTION_DAYS = int(os.environ.get("UPLOAD_RETENTION_DAYS", "30"))
EXPORT_RETENTION_DAYS = int(os.environ.get("EXPORT_RETENTION_DAYS", "7"))
# The audit log (操作日志 and 数据变更记录) is kept at least six months (网络安全法 第二十一条);
# a smaller value is refused (system check dayao_sscard.E001, and the retention service).
AUDIT_RETENTION_DAYS = int(os.environ.get("AUDIT_RETENTION_DAYS", "1095"))
# Statement-level audit triggers on the personal-data tables (dayao_sscard.row_audit).
INSTALLED_APPS += ["pgtrigger"]
# Names the signed-in user to those triggers for the length of each request.
MIDDLEWARE += ["dayao_sscard.row_audit.AuditActorMiddleware"]
