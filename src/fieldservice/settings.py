"""Deployment settings, read from environment variables.

Parsers are strict: a typo in a boolean stops the start rather than silently
meaning False.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("FSM_VAR_DIR", Path.cwd() / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("FSM_TESTING", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "insecure-development-key-never-use-in-production"
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "fieldservice.core",
    "fieldservice.accounts",
    "fieldservice.customers",
    "fieldservice.inventory",
    "fieldservice.assets",
    "fieldservice.workorders",
    "fieldservice.dispatch",
    "fieldservice.field",
    "fieldservice.feedback",
    "fieldservice.knowledge",
    "fieldservice.portal",
    "fieldservice.sla",
    "fieldservice.contracts",
    "fieldservice.notifications",
    "fieldservice.webhooks",
    "fieldservice.iot",
    "fieldservice.pool",
    "fieldservice.scheduling",
    "fieldservice.planning",
    "fieldservice.billing",
    "fieldservice.maintenance",
    "fieldservice.board",
    "fieldservice.site",
    "fieldservice.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "fieldservice.core.middleware.RefuseNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "fieldservice.urls"
WSGI_APPLICATION = "fieldservice.wsgi.application"

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
                "fieldservice.site.context_processors.navigation",
            ],
        },
    }
]

if not os.environ.get("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default lives here
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'fieldservice.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; the timeout waits out short locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests create hundreds of users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Uploads: a hard ceiling per file; services check the per-kind limits.
FSM_MAX_UPLOAD_BYTES = int(os.environ.get("FSM_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = FSM_MAX_UPLOAD_BYTES + 1024 * 1024
# The address QR codes, links and e-mails point to. Unset, `fsm serve` and `fsm demo` set it to the
# address they are given (cli.use_address), so a server on another port links to itself.
FSM_PUBLIC_BASE_URL = os.environ.get("FSM_PUBLIC_BASE_URL", "").strip() or "http://127.0.0.1:8000"
FSM_COMPANY_NAME = os.environ.get("FSM_COMPANY_NAME", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

"""E-mail intake: `fsm fetch_mail` turns new mails in the service mailbox into requests.

FSM_MAIL_SOURCE       "maildir" (default: a Maildir folder on this machine, e.g. filled by the
                      mail server's local delivery) or "imap"
FSM_MAILDIR           the Maildir folder (default var/mail/inbox); processed mails move to cur/
FSM_IMAP_HOST         the IMAP server; required for "imap"
FSM_IMAP_PORT         default 993 (143 when FSM_IMAP_SSL is false)
FSM_IMAP_USER         required for "imap"
FSM_IMAP_PASSWORD
FSM_IMAP_SSL          true (default): IMAP over TLS; false: plain IMAP, for a server on loopback
FSM_IMAP_FOLDER       default "INBOX"; processed mails are marked \\Seen and stay there
FSM_IMAP_VERIFY_TLS   true (default): check the server's certificate and name
"""
FSM_MAIL_SOURCE = os.environ.get("FSM_MAIL_SOURCE", "").strip().lower() or "maildir"
if FSM_MAIL_SOURCE not in {"maildir", "imap"}:
    raise ImproperlyConfigured(f"FSM_MAIL_SOURCE must be maildir or imap, got {FSM_MAIL_SOURCE!r}")
FSM_MAILDIR = Path(os.environ.get("FSM_MAILDIR") or VAR_DIR / "mail" / "inbox")
FSM_IMAP_HOST = os.environ.get("FSM_IMAP_HOST", "").strip()
FSM_IMAP_SSL = env_bool("FSM_IMAP_SSL", True)
_imap_port = os.environ.get("FSM_IMAP_PORT", "").strip() or ("993" if FSM_IMAP_SSL else "143")
if not _imap_port.isdigit() or not 0 < int(_imap_port) < 65536:
    raise ImproperlyConfigured(f"FSM_IMAP_PORT must be a port number, got {_imap_port!r}")
FSM_IMAP_PORT = int(_imap_port)
FSM_IMAP_USER = os.environ.get("FSM_IMAP_USER", "")
FSM_IMAP_PASSWORD = os.environ.get("FSM_IMAP_PASSWORD", "")
FSM_IMAP_FOLDER = os.environ.get("FSM_IMAP_FOLDER", "").strip() or "INBOX"
FSM_IMAP_VERIFY_TLS = env_bool("FSM_IMAP_VERIFY_TLS", True)
if FSM_MAIL_SOURCE == "imap" and not (FSM_IMAP_HOST and FSM_IMAP_USER):
    raise ImproperlyConfigured("FSM_MAIL_SOURCE=imap needs FSM_IMAP_HOST and FSM_IMAP_USER")

# Outgoing mail (service reports, notifications). Without EMAIL_HOST mails are written as files,
# one per mail, into EMAIL_FILE_PATH (default var/mail/outbox): a demo or a development machine
# never tries a mail server that is not there, and its mails do not flood the console.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", "").strip() or str(VAR_DIR / "mail" / "outbox")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "fieldservice@localhost")

"""Background work: Django's tasks API (the django-tasks backport) and `fsm worker`.

FSM_TASK_BACKEND   "database" (default: the tasks wait in this database; one or more `fsm worker`
                   processes on this machine run them), "rq" (a Redis queue; any number of
                   `fsm worker` processes on any number of machines) or "immediate" (run in the
                   request that enqueues them, after its commit; for tests and one-off scripts)
FSM_REDIS_URL      the Redis server for "rq" (default redis://127.0.0.1:6379/0)
FSM_SCHEDULER_TICK seconds between two looks at the periodic checks and the recovery by each worker (default 2)
"""
FSM_TASK_BACKEND = os.environ.get("FSM_TASK_BACKEND", "").strip().lower() or "database"
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if FSM_TASK_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"FSM_TASK_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, got {FSM_TASK_BACKEND!r}")
# Two queues, taken in this order by every worker: notifications to our own staff first, then
# everything else (the outbox, the periodic checks, integrators' webhooks) first come first served.
TASK_QUEUES = ["notifications", "default"]
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[FSM_TASK_BACKEND], "QUEUES": TASK_QUEUES}}
FSM_REDIS_URL = os.environ.get("FSM_REDIS_URL", "").strip() or "redis://127.0.0.1:6379/0"
RQ_QUEUES = {name: {"URL": FSM_REDIS_URL, "DEFAULT_TIMEOUT": 300} for name in TASK_QUEUES}
FSM_SCHEDULER_TICK = float(os.environ.get("FSM_SCHEDULER_TICK", "2"))
if FSM_SCHEDULER_TICK <= 0:
    raise ImproperlyConfigured("FSM_SCHEDULER_TICK must be a positive number of seconds")
# Hosts that notifications and webhooks may reach although they are on this machine, e.g. an SMS
# or IM gateway listening on loopback. Comma-separated host names or addresses.
FSM_OUTGOING_ALLOWED_HOSTS = [h for h in os.environ.get("FSM_OUTGOING_ALLOWED_HOSTS", "").split(",") if h.strip()]
# Webhooks: a delivery that fails is retried with growing back-off (1 min, 2, 4, … at most 6 h)
# and marked failed after this many attempts.
_webhook_attempts = os.environ.get("FSM_WEBHOOK_MAX_ATTEMPTS", "").strip() or "8"
if not _webhook_attempts.isdigit() or int(_webhook_attempts) < 1:
    raise ImproperlyConfigured(f"FSM_WEBHOOK_MAX_ATTEMPTS must be a whole number from 1, got {_webhook_attempts!r}")
FSM_WEBHOOK_MAX_ATTEMPTS = int(_webhook_attempts)
# Grab pool: minutes an order stays in the pool before it returns to the dispatchers (1 to 10080).
_pool_minutes = os.environ.get("FSM_POOL_MINUTES", "").strip() or "30"
if not (_pool_minutes.isascii() and _pool_minutes.isdigit() and 1 <= int(_pool_minutes) <= 10080):
    raise ImproperlyConfigured(f"FSM_POOL_MINUTES must be a whole number from 1 to 10080, got {_pool_minutes!r}")
FSM_POOL_MINUTES = int(_pool_minutes)

"""Deliveries: notifications (e-mail, SMS, IM, in-app) and webhooks (see core/destinations.py).

FSM_DELIVERY_MAX_ATTEMPTS      tries of one e-mail, SMS or IM message before it is marked failed
                               (default 6; waits 1, 2, 4 … minutes between them)
FSM_DELIVERY_CONNECT_SECONDS   how long one attempt may wait to connect to a receiver (default 3)
FSM_DELIVERY_DEADLINE_SECONDS  how long one attempt may take in all, connecting, sending and
                               waiting for the answer (default 10); then it counts as failed
FSM_DELIVERY_LEASE_SECONDS     a delivery still "sending" this long after its attempt began
                               belonged to a worker that died: it is tried again (default 20;
                               more than the deadline)
FSM_DESTINATION_SLOTS          attempts in flight at once to one destination (a webhook
                               subscription, the SMS gateway, the IM robots, the mail server)
                               while it answers; one while it fails (default 2)
FSM_CIRCUIT_FAILURES           failures in a row after which a destination is paused and the
                               administrators are told (default 5); it is probed again after
                               30 s, 1 min, 2 min … at most FSM_CIRCUIT_MAX_PAUSE_SECONDS (900)
FSM_WORKER_DEAD_SECONDS        a worker silent this long is dead: what it held is given to the
                               others (default 15)
FSM_WORKER_THREADS             tasks one `fsm worker` runs at once, so that a receiver that hangs
                               holds one of them and not the whole worker (default 4; 1 on
                               SQLite, which takes one writer at a time)
"""


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum:
        raise ImproperlyConfigured(f"{name} must be a whole number from {minimum}, got {raw!r}")
    return int(raw)


FSM_DELIVERY_MAX_ATTEMPTS = env_int("FSM_DELIVERY_MAX_ATTEMPTS", 6, minimum=1)
FSM_DELIVERY_CONNECT_SECONDS = env_int("FSM_DELIVERY_CONNECT_SECONDS", 3, minimum=1)
FSM_DELIVERY_DEADLINE_SECONDS = env_int("FSM_DELIVERY_DEADLINE_SECONDS", 10, minimum=1)
FSM_DELIVERY_LEASE_SECONDS = env_int("FSM_DELIVERY_LEASE_SECONDS", 20, minimum=1)
if FSM_DELIVERY_LEASE_SECONDS <= FSM_DELIVERY_DEADLINE_SECONDS:
    raise ImproperlyConfigured("FSM_DELIVERY_LEASE_SECONDS must be more than FSM_DELIVERY_DEADLINE_SECONDS")
if FSM_DELIVERY_CONNECT_SECONDS > FSM_DELIVERY_DEADLINE_SECONDS:
    raise ImproperlyConfigured("FSM_DELIVERY_CONNECT_SECONDS must not be more than FSM_DELIVERY_DEADLINE_SECONDS")
FSM_DESTINATION_SLOTS = env_int("FSM_DESTINATION_SLOTS", 2, minimum=1)
FSM_CIRCUIT_FAILURES = env_int("FSM_CIRCUIT_FAILURES", 5, minimum=1)
FSM_CIRCUIT_MAX_PAUSE_SECONDS = env_int("FSM_CIRCUIT_MAX_PAUSE_SECONDS", 900, minimum=30)
FSM_WORKER_DEAD_SECONDS = env_int("FSM_WORKER_DEAD_SECONDS", 15, minimum=3)
FSM_WORKER_THREADS = env_int(
    "FSM_WORKER_THREADS", 1 if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else 4, minimum=1
)

"""Day-plan optimisation (planning/optimiser/travel.py).

FSM_ROAD_FACTOR       road distance / great-circle distance, for travel estimated from coordinates (default 1.3)
FSM_TRAVEL_SPEED_KMH  average driving speed of that estimate, km/h (default 40)
FSM_OSRM_URL          an OSRM server (e.g. http://127.0.0.1:5000): travel times from its table service;
                      when it fails, the plan falls back to the estimate and says so
"""


def _env_float(name: str, default: float, *, minimum: float, strict: bool) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")) or value < minimum or (strict and value == minimum):
        bound = f"greater than {minimum:g}" if strict else f"at least {minimum:g}"
        raise ImproperlyConfigured(f"{name} must be {bound}, got {raw!r}")
    return value


FSM_ROAD_FACTOR = _env_float("FSM_ROAD_FACTOR", 1.3, minimum=1.0, strict=False)
FSM_TRAVEL_SPEED_KMH = _env_float("FSM_TRAVEL_SPEED_KMH", 40.0, minimum=0.0, strict=True)
FSM_OSRM_URL = os.environ.get("FSM_OSRM_URL", "").strip().rstrip("/")
if FSM_OSRM_URL and not FSM_OSRM_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"FSM_OSRM_URL must start with http:// or https://, got {FSM_OSRM_URL!r}")

"""Internal costs of a visit, for the fee lines' cost and the margins (billing/services/fees.py).

FSM_LABOUR_COST_PER_HOUR  what an hour of an engineer costs us, by level, e.g.
                          "junior=90,regular=130,senior=180,expert=240" (levels left out keep the default)
FSM_TRAVEL_COST_PER_KM    what a kilometre driven costs us (default 1.20)
"""


def _env_costs(name: str, default: dict[str, Decimal]) -> dict[str, Decimal]:
    raw = os.environ.get(name, "").strip()
    costs = dict(default)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        level, _sep, value = item.partition("=")
        level = level.strip()
        if level not in default:
            raise ImproperlyConfigured(f"{name}: unknown level {level!r} (one of {', '.join(default)})")
        try:
            amount = Decimal(value.strip())
        except ArithmeticError:
            raise ImproperlyConfigured(f"{name}: {level} must be an amount, got {value!r}") from None
        if not amount.is_finite() or amount < 0:
            raise ImproperlyConfigured(f"{name}: {level} must be an amount of at least 0, got {value!r}")
        costs[level] = amount
    return costs


FSM_LABOUR_COST_PER_HOUR = _env_costs(
    "FSM_LABOUR_COST_PER_HOUR",
    {"junior": Decimal("90"), "regular": Decimal("130"), "senior": Decimal("180"), "expert": Decimal("240")},
)
FSM_TRAVEL_COST_PER_KM = Decimal(str(_env_float("FSM_TRAVEL_COST_PER_KM", 1.2, minimum=0.0, strict=False)))

# The dispatch board's map tiles, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png (or a tile
# server of your own); empty: the map draws the pins on a plain background, no network needed.
FSM_MAP_TILE_URL = os.environ.get("FSM_MAP_TILE_URL", "").strip()
if FSM_MAP_TILE_URL and not FSM_MAP_TILE_URL.startswith(("http://", "https://", "/")):
    raise ImproperlyConfigured(f"FSM_MAP_TILE_URL must start with http://, https:// or /, got {FSM_MAP_TILE_URL!r}")

"""Security: HTTPS, browser protections, sign-in throttling, sessions, proxies (issue 10).

SECURE_SSL_REDIRECT          true: plain-HTTP requests are redirected to HTTPS (default false)
SECURE_HSTS_SECONDS          Strict-Transport-Security max-age in seconds (default 0: not sent);
                             31536000 (one year) once HTTPS works everywhere
SECURE_HSTS_INCLUDE_SUBDOMAINS, SECURE_HSTS_PRELOAD   booleans, default false
SECURE_PROXY_SSL_HEADER      the header by which the reverse proxy says the client used HTTPS, as
                             "Header-Name: value", e.g. "X-Forwarded-Proto: https"; set it only
                             behind a proxy that always sets (or strips) that header
SECURE_COOKIES               true: session and CSRF cookies only over HTTPS (above)
FSM_CSP                      true (default): send a Content-Security-Policy (scripts and styles
                             from this site only; images also from FSM_MAP_TILE_URL's origin)
FSM_CSP_REPORT_URI           where browsers report violations (default: none)
SESSION_COOKIE_AGE           seconds a sign-in lasts (default 1209600, two weeks)
FSM_LOGIN_FAILURE_LIMIT      wrong passwords before an account, or an address, is locked (default 5)
FSM_LOGIN_LOCKOUT_MINUTES    how long that lock lasts (default 15)
FSM_MAX_REQUEST_BYTES        the largest upload request (all its files together), default 50 MB
FSM_TRUSTED_PROXIES          comma-separated addresses or networks of the reverse proxies in front
                             of this server; only from them is X-Forwarded-For believed, for the
                             client address of sign-in throttling and the public QR form's limits
"""


SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
_proxy_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
if _proxy_header:
    _name, _sep, _value = _proxy_header.partition(":")
    _name, _value = _name.strip(), _value.strip()
    if not _sep or not _value or not _name.replace("-", "").replace("_", "").isalnum():
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER must look like 'X-Forwarded-Proto: https', got {_proxy_header!r}"
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _name.upper().replace("-", "_"), _value)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600, minimum=60)


def env_networks(name: str) -> list:
    import ipaddress

    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name} must list addresses or networks, got {item!r}") from None
    return networks


FSM_TRUSTED_PROXIES = env_networks("FSM_TRUSTED_PROXIES")

# The whole multipart body of one request (all files of a form together), refused as it streams in;
# the default fits the public fault report's six photos of 8 MB.
FSM_MAX_REQUEST_BYTES = env_int("FSM_MAX_REQUEST_BYTES", 50 * 1024 * 1024, minimum=1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "fieldservice.core.uploads.CappedRequestUpload",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Content-Security-Policy (django-csp). Scripts only from this site: the pages carry no inline
# script nor event handler attribute. Inline styles stay allowed: the Gantt bars are positioned
# with style attributes, and a style cannot run code.
FSM_CSP = env_bool("FSM_CSP", True)
_img_src = ["'self'", "data:"]
if FSM_MAP_TILE_URL.startswith(("http://", "https://")):
    from urllib.parse import urlsplit as _urlsplit

    _tiles = _urlsplit(FSM_MAP_TILE_URL.replace("{s}", "a").replace("{", "").replace("}", ""))
    _img_src.append(f"{_tiles.scheme}://{_tiles.netloc}")
    if "{s}" in FSM_MAP_TILE_URL:
        _img_src.append(f"{_tiles.scheme}://*.{_tiles.netloc.partition('.')[2]}")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": _img_src,
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if os.environ.get("FSM_CSP_REPORT_URI", "").strip():
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [os.environ["FSM_CSP_REPORT_URI"].strip()]
if FSM_CSP:
    INSTALLED_APPS.append("csp")
    MIDDLEWARE.insert(1, "csp.middleware.CSPMiddleware")

# Sign-in throttling (django-axes): failed sign-ins are counted per account and, separately, per
# client address; at the limit further tries are refused until the lock expires. API tokens are
# not passwords and are not counted.
INSTALLED_APPS.append("axes")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = [
    "fieldservice.accounts.backends.ThrottledSignIn",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("FSM_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("FSM_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "fieldservice.core.clients.client_address"
AXES_LOCKOUT_CALLABLE = "fieldservice.accounts.views.signin_locked"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False

"""The MQTT ingest process (`fsm iot`, iot/mqtt.py; docs/IOT.md "MQTT ingest process").

FSM_MQTT_URL            the broker, mqtt://[user:password@]host[:port] or mqtts://… (TLS); empty
                        (default): `fsm iot` uses mqtt://127.0.0.1:1883 and `fsm serve` / `fsm
                        worker` start no ingest process beside the worker
FSM_MQTT_GROUP          the shared-subscription group every ingest process joins (default fsm-ingest)
FSM_MQTT_TOPIC_ROOT     the topics' root (default fsm/v1): devices publish to <root>/devices/<prefix>/messages
FSM_MQTT_CLIENT_ID      this process's MQTT client id, which names its persistent session (default
                        fsm-iot-<host name>); two processes on one host need two ids
FSM_MQTT_CA_FILE        the certificates that sign the broker's (mqtts; default: the system's)
"""
FSM_MQTT_URL = os.environ.get("FSM_MQTT_URL", "").strip()
FSM_MQTT_GROUP = os.environ.get("FSM_MQTT_GROUP", "").strip() or "fsm-ingest"
FSM_MQTT_TOPIC_ROOT = os.environ.get("FSM_MQTT_TOPIC_ROOT", "").strip().strip("/") or "fsm/v1"
FSM_MQTT_CLIENT_ID = os.environ.get("FSM_MQTT_CLIENT_ID", "").strip()
FSM_MQTT_CA_FILE = os.environ.get("FSM_MQTT_CA_FILE", "").strip()
if FSM_MQTT_URL and not FSM_MQTT_URL.startswith(("mqtt://", "mqtts://")):
    raise ImproperlyConfigured(f"FSM_MQTT_URL must start with mqtt:// or mqtts://, got {FSM_MQTT_URL!r}")
