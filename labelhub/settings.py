"""One settings module, driven by environment variables.

The embedded default is SQLite plus a data folder, with Celery on kombu's filesystem
transport, so nothing but Python is needed. ``DATABASE_URL`` and ``REDIS_URL`` switch to
PostgreSQL and Redis; ``S3_*`` switches media and exports to an S3-compatible store.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from labelhub.params import is_true

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return is_true(os.environ.get(name), default=default)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(
    os.environ.get("LABELHUB_DATA_DIR") or Path.home() / ".local" / "share" / "labelhub"
).resolve()


def _private_data_dir(path: Path) -> None:
    """The data directory holds the SQLite file (password hashes, API tokens), uploads
    and exports: other local users get nothing. Everything this process creates from here
    on is 0600 (files) / 0700 (folders), through the umask, for web and worker alike; a
    data directory made by an older release is tightened once (its mode says so)."""
    os.umask(0o077)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"the data directory {path} (LABELHUB_DATA_DIR, --data-dir) cannot be made: "
            f"{exc.strerror}"
        ) from exc
    if path.stat().st_mode & 0o077:
        for root, dirs, files in os.walk(path):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o700)
            for name in files:
                full = os.path.join(root, name)
                if not os.path.islink(full):
                    os.chmod(full, 0o600)
        path.chmod(0o700)


_private_data_dir(DATA_DIR)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else generated once per data directory."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("LABELHUB_DEBUG")
ALLOWED_HOSTS = env_list("LABELHUB_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("LABELHUB_CSRF_TRUSTED_ORIGINS")
RELEASE = "0.1.0"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "projects",
    "tasks",
    "annotations",
    "datamanager",
    "ml",
    "importers",
    "exporters",
    "webhooks",
    "io_storages",
    "frontend",
]

MIDDLEWARE = [
    "labelhub.middleware.RegistrationsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "labelhub.middleware.ApiTrailingSlashMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "labelhub.urls"
WSGI_APPLICATION = "labelhub.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.context_processors.editor",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    # Connections live 60 s and are checked before reuse, so a PostgreSQL restart costs
    # the requests in flight (a 503, see labelhub.errors.json_500), not a LabelHub restart.
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "labelhub.sqlite3",
            "OPTIONS": {
                # WAL lets readers and the worker go on while one writer writes;
                # IMMEDIATE takes the write lock at BEGIN, so the read-then-write of a
                # task lock cannot interleave with another writer's (only the services'
                # transaction.atomic blocks BEGIN: requests are not atomic, reads take no
                # lock). synchronous=NORMAL is durable in WAL up to the last checkpoint.
                # A 32 MB page cache per connection, the file mapped (256 MB, shared by
                # every process) and sorts in memory: measured with bench/sqlite_pragmas.py
                # (see bench/README.md). "timeout" is the busy timeout, in seconds.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA cache_size=-32768; PRAGMA mmap_size=268435456; "
                    "PRAGMA temp_store=MEMORY;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            # Each gunicorn thread keeps its connection between requests (Django's default
            # is one per request). Opening one costs the file's open, the WAL index and
            # the PRAGMAs above, and closing the last one checkpoints the WAL: 1.2 ms at
            # best and 13 ms p50 on the loaded 2-core machine, against 0.01 ms for a
            # statement on an open connection (bench/README.md, "connection reuse").
            "CONN_MAX_AGE": int(os.environ.get("LABELHUB_SQLITE_CONN_MAX_AGE", 600)),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The Data Manager's result filters read the result-label index (annotations.ResultLabel,
# see annotations.result_index); false reads the JSON instead (the tests and benchmarks
# compare the two). The index is kept on both databases; it is read by default on SQLite
# only: on PostgreSQL the GIN containment was measured as fast or faster (bench/dm_bench.py
# at 100k: "label Cat + annotator" page 26 ms with GIN, 145 ms through the index).
RESULT_INDEX_FILTERS = env_bool(
    "LABELHUB_RESULT_INDEX_FILTERS", default=not os.environ.get("DATABASE_URL")
)

# Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For is believed when
# finding a client's address for the sign-in lockout and the throttles (labelhub.auth).
# Empty by default: the header is ignored, so no client can pick its own address.
LABELHUB_TRUSTED_PROXIES = env_list("LABELHUB_TRUSTED_PROXIES")

# django-axes first: it refuses a sign-in for a user and address that failed too often.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "projects.auth.EmailBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("LABELHUB_LOGIN_FAILURE_LIMIT", 10))
AXES_COOLOFF_TIME = float(os.environ.get("LABELHUB_LOGIN_COOLOFF_MINUTES", 15)) / 60  # hours
# Locked per (user, address): a stranger cannot lock the real user out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "email"
AXES_USERNAME_CALLABLE = "labelhub.auth.axes_username"
AXES_CLIENT_IP_CALLABLE = "labelhub.auth.axes_client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "frontend.views.login_locked_out"
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/user/login/"
LOGIN_REDIRECT_URL = "/projects/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("LABELHUB_STATIC_ROOT") or DATA_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/data/upload/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# The editors' files sit in folders named by their pinned version (scripts/fetch_editor*.sh),
# and a version's files never change: the browser keeps them a year without asking again
# (Cache-Control: max-age=315360000, immutable), and a new version has new URLs. Other
# static files keep WhiteNoise's 60 s and are revalidated after (304, no body).
WHITENOISE_IMMUTABLE_FILE_TEST = r"^/static/editor(-ls)?/[0-9][^/]*/"
WHITENOISE_AUTOREFRESH = DEBUG

# Security defaults: on unless switched off.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The pages read the CSRF token from the form field, so no script needs the cookie.
CSRF_COOKIE_HTTPONLY = True
# Behind TLS (LABELHUB_HTTPS=true): cookies only over https, and Django trusts the
# proxy's X-Forwarded-Proto to know a request came in over https.
LABELHUB_HTTPS = env_bool("LABELHUB_HTTPS") or env_bool("LABELHUB_SECURE_COOKIES")
SESSION_COOKIE_SECURE = LABELHUB_HTTPS
CSRF_COOKIE_SECURE = LABELHUB_HTTPS
if LABELHUB_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Largest import body or upload the server accepts (bytes).
LABELHUB_MAX_IMPORT_SIZE = int(os.environ.get("LABELHUB_MAX_IMPORT_SIZE", 1024 * 1024 * 1024))
# Imports larger than this many tasks go to a background job (importers issue). 20k
# tasks write in about a second in the request on either database (COPY on PostgreSQL,
# importers.bulk.sqlite.SqliteWriter on SQLite); Label Studio imports 10k in the request too.
LABELHUB_ASYNC_IMPORT_TASKS = int(os.environ.get("LABELHUB_ASYNC_IMPORT_TASKS", 20000))
LABELHUB_TASK_LOCK_TTL = int(os.environ.get("LABELHUB_TASK_LOCK_TTL", 600))
# How many tasks each user's Label Stream history keeps per project (Label Studio's name).
LABEL_STREAM_HISTORY_LIMIT = int(os.environ.get("LABEL_STREAM_HISTORY_LIMIT", 100))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Legacy ``Token`` keys, personal access tokens (``Bearer`` JWT access tokens, see
        # projects.tokens), then the browser session.
        "projects.tokens.LegacyTokenAuthentication",
        "projects.tokens.JwtAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON, written by orjson (labelhub.renderers).
    "DEFAULT_RENDERER_CLASSES": ["labelhub.renderers.FastJSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "labelhub.renderers.FastContentNegotiation",
    "DEFAULT_PARSER_CLASSES": [
        "labelhub.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "labelhub.errors.exception_handler",
    # Token guessing: failed token checks per client address (labelhub.auth, which finds
    # the address through LABELHUB_TRUSTED_PROXIES); and a ceiling per signed-in user and
    # per anonymous address. Counts live in the process cache.
    "DEFAULT_THROTTLE_CLASSES": [
        "labelhub.auth.AnonThrottle",
        "labelhub.auth.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token_failure": os.environ.get("LABELHUB_THROTTLE_TOKEN_FAILURES", "20/min"),
        "anon": os.environ.get("LABELHUB_THROTTLE_ANON", "300/min"),
        "user": os.environ.get("LABELHUB_THROTTLE_USER", "6000/min"),
    },
    "UNAUTHENTICATED_USER": None,
}
# Personal access tokens (Label Studio 1.23's JWT API tokens, projects.tokens): HS256
# signed with SECRET_KEY; an access token lives 5 minutes (the SDK refreshes it).
SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}
# Anyone may sign up at /user/signup/ without an invite link (off: invite links only).
LABELHUB_SIGNUP_WITHOUT_LINK = env_bool("LABELHUB_SIGNUP_WITHOUT_LINK")

# The labeling editor the pages embed: "1.23" (Label Studio 1.23.2's, from its wheel,
# scripts/fetch_editor_ls.sh) or "1.4" (the 2022 npm build, scripts/fetch_editor.sh), kept
# as a fallback for one release.
LABELHUB_EDITOR = os.environ.get("LABELHUB_EDITOR", "1.23").strip() or "1.23"
if LABELHUB_EDITOR not in ("1.23", "1.4"):
    raise ImproperlyConfigured(f"LABELHUB_EDITOR must be 1.23 or 1.4, not {LABELHUB_EDITOR!r}")
# Where each editor's files are, under the static URL: the folder is named by the pinned
# version (the fetch scripts install there; change both together on an upgrade).
LABELHUB_EDITOR_FILES = {"1.23": "editor-ls/1.23.2/", "1.4": "editor/1.4.0/"}
# Largest avatar upload (bytes) and side (pixels), as Label Studio.
LABELHUB_AVATAR_MAX_SIZE = 1024 * 1024
LABELHUB_AVATAR_MAX_SIDE = 1200
SPECTACULAR_SETTINGS = {
    "TITLE": "LabelHub API",
    "DESCRIPTION": "Label Studio–compatible labeling API",
    "VERSION": RELEASE,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the sidecar package: served locally, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    _queue_dir = DATA_DIR / "queue"
    for _sub in ("out", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "labelhub.fsbroker:Transport"  # atomic message files
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "out"),
        "data_folder_out": str(_queue_dir / "out"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
        # The worker looks for new jobs this often (kombu's default is 1 s): a 10k-task
        # import in the background waited 0.5 s on average just to be picked up.
        "polling_interval": 0.1,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"

# Calls to outside servers that a worker makes and waits on (remote ML backends' predict,
# train and /webhook calls) run on this queue, which `labelhub start` gives a worker of
# its own, so a slow receiver never holds the slots imports, snapshots and built-in
# training need ("" = the default queue).
LABELHUB_OUTBOUND_QUEUE = os.environ.get("LABELHUB_OUTBOUND_QUEUE", "outbound")

# Webhooks (webhooks/). Deliveries have their own queue, which `labelhub start` runs its
# own worker for, so a slow receiver never holds imports, exports or training.
LABELHUB_WEBHOOK_QUEUE = os.environ.get("LABELHUB_WEBHOOK_QUEUE", "webhooks")
CELERY_TASK_ROUTES = (
    {"webhooks.*": {"queue": LABELHUB_WEBHOOK_QUEUE}} if LABELHUB_WEBHOOK_QUEUE else {}
)
# Receivers on loopback or private addresses need an entry here (host names, addresses or
# CIDR networks), as for LABELHUB_ML_ALLOWED_HOSTS.
LABELHUB_WEBHOOK_ALLOWED_HOSTS = env_list("LABELHUB_WEBHOOK_ALLOWED_HOSTS")
# One call's wall-clock limit (seconds) and the most of its answer that is read.
LABELHUB_WEBHOOK_TIMEOUT = float(os.environ.get("LABELHUB_WEBHOOK_TIMEOUT", 5))
LABELHUB_WEBHOOK_MAX_RESPONSE_BYTES = int(
    os.environ.get("LABELHUB_WEBHOOK_MAX_RESPONSE_BYTES", 65536)
)
# Tries per delivery, and the backoff: BACKOFF * 2**(try-1) seconds, at most BACKOFF_MAX
# (below the Redis visibility timeout, so a waiting retry is not handed out twice).
LABELHUB_WEBHOOK_ATTEMPTS = int(os.environ.get("LABELHUB_WEBHOOK_ATTEMPTS", 5))
LABELHUB_WEBHOOK_BACKOFF = float(os.environ.get("LABELHUB_WEBHOOK_BACKOFF", 10))
LABELHUB_WEBHOOK_BACKOFF_MAX = float(os.environ.get("LABELHUB_WEBHOOK_BACKOFF_MAX", 600))
# Objects per webhook call for big changes (an import's TASKS_CREATED), as Label Studio's
# WEBHOOK_BATCH_SIZE.
LABELHUB_WEBHOOK_BATCH_SIZE = int(os.environ.get("LABELHUB_WEBHOOK_BATCH_SIZE", 5000))

# S3-compatible storage for media and exports (production).
S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL", "")
S3_BUCKET = os.environ.get("S3_BUCKET", "")
S3_ACCESS_KEY_ID = os.environ.get("S3_ACCESS_KEY_ID", "")
S3_SECRET_ACCESS_KEY = os.environ.get("S3_SECRET_ACCESS_KEY", "")
S3_REGION = os.environ.get("S3_REGION", "us-east-1")
# With a bucket, uploads, background-import files and export snapshots live in it
# (django-storages), so web and worker machines share nothing but PostgreSQL, Redis and
# the bucket; members get short-lived presigned redirects to media.
S3_MEDIA = bool(S3_BUCKET)
S3_PRESIGN_SECONDS = int(os.environ.get("S3_PRESIGN_SECONDS", 300))
# Where browsers reach the bucket, when not at S3_ENDPOINT_URL (presigned URLs sign it).
S3_PUBLIC_ENDPOINT_URL = os.environ.get("S3_PUBLIC_ENDPOINT_URL", "")
if S3_MEDIA:
    STORAGES["default"] = {
        "BACKEND": "labelhub.storage.MediaS3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "access_key": S3_ACCESS_KEY_ID or None,
            "secret_key": S3_SECRET_ACCESS_KEY or None,
            "region_name": S3_REGION,
            "location": os.environ.get("S3_PREFIX", ""),
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": S3_PRESIGN_SECONDS,
            "addressing_style": "path" if S3_ENDPOINT_URL else None,
            "signature_version": "s3v4",
        },
    }

# Outbound fetches (url= imports, ML backends): private addresses are refused unless listed.
LABELHUB_SSRF_ALLOWED_HOSTS = env_list("LABELHUB_SSRF_ALLOWED_HOSTS")
# S3 storages without keys of their own may use the server's AWS credentials (environment,
# ~/.aws, instance role) only when this is on: otherwise any project admin could presign
# or sync any bucket those credentials reach.
LABELHUB_S3_ALLOW_AMBIENT_CREDENTIALS = env_bool("LABELHUB_S3_ALLOW_AMBIENT_CREDENTIALS")
# Storage endpoints (S3 endpoint, Redis host) that are not public addresses, such as an
# emulator on loopback or a MinIO on the LAN: host names, addresses or CIDR networks.
LABELHUB_STORAGE_ALLOWED_HOSTS = env_list("LABELHUB_STORAGE_ALLOWED_HOSTS")
# Seconds a storage client waits to connect or for an answer (Redis).
LABELHUB_STORAGE_TIMEOUT = float(os.environ.get("LABELHUB_STORAGE_TIMEOUT", 10))
# Objects (source keys, target annotations) a storage sync handles per transaction; the
# storage's progress (last_sync_count, meta) moves once per batch.
LABELHUB_STORAGE_SYNC_BATCH = int(os.environ.get("LABELHUB_STORAGE_SYNC_BATCH", 500))
# POST .../sync waits this long for the worker to finish the sync, so a quick one answers
# its result as Label Studio's in-request sync does (under gunicorn's 30 s timeout).
LABELHUB_STORAGE_SYNC_WAIT_SECONDS = float(os.environ.get("LABELHUB_STORAGE_SYNC_WAIT_SECONDS", 10))
# Where GCS storages connect when not to Google (an emulator; it then takes anonymous
# calls), and the Azure Blob account URL ("{account_name}" is filled in; Azurite:
# "http://127.0.0.1:10000/{account_name}"). Set by an admin, never by a storage's owner.
LABELHUB_GCS_ENDPOINT = os.environ.get("LABELHUB_GCS_ENDPOINT", "")
LABELHUB_AZURE_BLOB_ENDPOINT = os.environ.get(
    "LABELHUB_AZURE_BLOB_ENDPOINT", "https://{account_name}.blob.core.windows.net"
)
# Local files are served only when enabled and only from under this root.
LABELHUB_ALLOW_SERVING_LOCAL_FILES = env_bool("LABELHUB_ALLOW_SERVING_LOCAL_FILES")
LABELHUB_LOCAL_FILES_ROOT = os.environ.get("LABELHUB_LOCAL_FILES_ROOT", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LABELHUB_LOG_LEVEL", "INFO")},
}

# ---------------------------------------------------------------------------------------
# Importers (importers/): background threshold, batches, archive and URL-fetch limits.
# Imports above LABELHUB_ASYNC_IMPORT_TASKS tasks or LABELHUB_ASYNC_IMPORT_BYTES bytes run
# as a Celery job; the others run in the request.
LABELHUB_ASYNC_IMPORT_BYTES = int(os.environ.get("LABELHUB_ASYNC_IMPORT_BYTES", 10 * 1024 * 1024))
# ``?return_task_ids=true`` on a background import: the request waits this many seconds
# for the job (kept under gunicorn's default 30 s worker timeout), then answers with the
# ids as Label Studio does, or with the job to poll.
LABELHUB_IMPORT_WAIT_SECONDS = float(os.environ.get("LABELHUB_IMPORT_WAIT_SECONDS", 25))
# Rows per COPY / bulk_create batch, and the Celery queue for import jobs ("" = default).
LABELHUB_IMPORT_BATCH_SIZE = int(os.environ.get("LABELHUB_IMPORT_BATCH_SIZE", 10000))
LABELHUB_IMPORT_QUEUE = os.environ.get("LABELHUB_IMPORT_QUEUE", "")
# Seconds a job sleeps after each batch (0 = none): a throttle for shared databases.
LABELHUB_IMPORT_BATCH_PAUSE = float(os.environ.get("LABELHUB_IMPORT_BATCH_PAUSE", 0))
# ZIP/RAR: most members, most bytes once unpacked, highest compression ratio.
LABELHUB_ARCHIVE_MAX_FILES = int(os.environ.get("LABELHUB_ARCHIVE_MAX_FILES", 100_000))
LABELHUB_ARCHIVE_MAX_SIZE = int(os.environ.get("LABELHUB_ARCHIVE_MAX_SIZE", 4 * 1024**3))
LABELHUB_ARCHIVE_MAX_RATIO = int(os.environ.get("LABELHUB_ARCHIVE_MAX_RATIO", 100))
# url= imports: seconds for the whole fetch, and the largest body accepted.
LABELHUB_IMPORT_URL_TIMEOUT = float(os.environ.get("LABELHUB_IMPORT_URL_TIMEOUT", 60))
LABELHUB_IMPORT_URL_MAX_SIZE = int(
    os.environ.get("LABELHUB_IMPORT_URL_MAX_SIZE", LABELHUB_MAX_IMPORT_SIZE)
)

# ---------------------------------------------------------------------------------------
# Machine learning (ml/). Hosts (names, addresses or CIDR networks) that ML backends may
# be on despite private addresses: most backends run beside the server.
LABELHUB_ML_ALLOWED_HOSTS = env_list("LABELHUB_ML_ALLOWED_HOSTS")
# The host name backends are told to build task media URLs from (/setup "hostname").
LABELHUB_HOSTNAME = os.environ.get("LABELHUB_HOSTNAME", "http://127.0.0.1:8080")
# Tasks per prediction batch, and the timeout of predict/test and interactive calls.
LABELHUB_ML_BATCH_SIZE = int(os.environ.get("LABELHUB_ML_BATCH_SIZE", 2000))
LABELHUB_ML_INTERACTIVE_TIMEOUT = float(os.environ.get("LABELHUB_ML_INTERACTIVE_TIMEOUT", 10))
# The most of a backend's answer that is read (bytes); a larger answer fails the call.
LABELHUB_ML_MAX_RESPONSE_BYTES = int(
    os.environ.get("LABELHUB_ML_MAX_RESPONSE_BYTES", 64 * 1024 * 1024)
)
# Celery queue for training and prediction jobs ("" = the default queue).
LABELHUB_ML_QUEUE = os.environ.get("LABELHUB_ML_QUEUE", "")
# Seconds a training job sleeps at each progress step (0 = none).
LABELHUB_ML_PROGRESS_PAUSE = float(os.environ.get("LABELHUB_ML_PROGRESS_PAUSE", 0))
