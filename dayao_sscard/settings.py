"""Settings for dayao-sscard, all read from the environment.

Defaults give a self-contained system: a SQLite file and a file-system Celery
broker under ``data/``, so one machine with nothing installed runs everything.
"""

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
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "*").split(",") if h]
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
    "dayao_sscard",
    "roster",
    "issuance",
    "activation",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "dayao_sscard.middleware.RefuseControlCharactersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

AUTH_USER_MODEL = "dayao_sscard.User"
AUTHENTICATION_BACKENDS = [
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

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_SECURE = _env_flag("SESSION_COOKIE_SECURE")
CSRF_COOKIE_SECURE = _env_flag("CSRF_COOKIE_SECURE")
X_FRAME_OPTIONS = "DENY"

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
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CELERY_BROKER_URL,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# The custody-risk tiles are counted again at most this often while the ledger moves
# (issuance.risks); a minute at most when nothing changes.
RISK_COUNTS_MIN_SECONDS = int(os.environ.get("RISK_COUNTS_MIN_SECONDS", "10"))

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
    "loggers": {"django.request": {"filters": ["forbidden_without_traceback"]}},
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
