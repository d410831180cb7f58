"""Settings for Certificaatportaal, all read from the environment (see README, "Configuration").

``PORTAL_MODE`` selects the defaults: ``production`` (the default: nothing insecure is
assumed), ``development`` (what `make run` uses) or ``test`` (pytest).
"""

from __future__ import annotations

import secrets
from email.utils import formataddr
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_int, env_lines, env_list, env_networks, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

PORTAL_MODE = env_str("PORTAL_MODE", "production")
if PORTAL_MODE not in {"production", "development", "test"}:
    raise ImproperlyConfigured("PORTAL_MODE must be production, development or test")
PRODUCTION = PORTAL_MODE == "production"

PORTAL_NAME = env_str("PORTAL_NAME", "Certificaatportaal")
# The public address of the portal, written into e-mails, installers and certificates.
PORTAL_URL = env_str("PORTAL_URL", "http://127.0.0.1:8000").rstrip("/")

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = env_secret("SECRET_KEY")
    if key:
        return key
    if PORTAL_MODE == "test":
        return "test-only-secret-key-" + "x" * 40
    if PORTAL_MODE == "development":
        # One key per checkout, kept under var/ so sessions survive a restart of `make run`.
        path = VAR_DIR / "secret-key"
        if not path.exists():
            VAR_DIR.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(50))
            path.chmod(0o600)
        return path.read_text().strip()
    raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set in production")


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "formtools",
    "captcha",
    "core",
    "audit",
    "ca",
    "enrollment",
    "selfservice",
    "operations",
]

MIDDLEWARE = [
    # X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER) is believed from nginx only.
    "core.client_address.ForwardedProtoMiddleware",
    "core.request_id.RequestIdMiddleware",
    # Outside everything that can answer an error, so each error under the API's prefixes
    # (404, 405, 410, 413, 414, 500) becomes JSON with a code; see core/api_errors.py.
    "core.api_errors.ApiErrorMiddleware",
    "core.outages.OutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.language.ChosenLanguageMiddleware",
    # DEBUG only: the portal's own 404/500 pages instead of Django's debug pages.
    "config.error_pages.OwnErrorPagesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "config.context_processors.portal",
            ],
        },
    },
]

# Widgets render through TEMPLATES, so templates/ can restyle third-party widgets (captcha).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database ---------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
else:
    # The embedded database is shared by the web process and the worker: WAL lets readers
    # run beside a writer, IMMEDIATE transactions take the write lock up front so two writers
    # queue on the busy timeout instead of failing with "database is locked".
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "portal.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, rate limits, broker ---------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
REDIS_SOCKET_TIMEOUT = env_int("REDIS_SOCKET_TIMEOUT", 3, minimum=1)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # A hung Redis must not hang a web request.
            "OPTIONS": {
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Without Redis (make run, unit tests) there is one web process: a local cache is shared
    # by everything that rate-limits. Production requires REDIS_URL (check portal.E002).
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

RATELIMIT_USE_CACHE = "default"
# Closed for what takes a secret or makes something; reads of the installer API count per
# process while Redis is down (core/ratelimits.py).
RATELIMIT_FAIL_OPEN = False
# Retry-After (seconds) of the 503 answered while Redis or the database is down.
OUTAGE_RETRY_AFTER_SECONDS = env_int("OUTAGE_RETRY_AFTER_SECONDS", 30, minimum=1, maximum=3600)

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object]
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than the longest task, or Redis redelivers a task that is still running.
        "visibility_timeout": 3600,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
    }
else:
    # `make run` needs no Redis: the web process and the worker share a folder queue.
    # The host means nothing to this transport; naming one spares kombu's warning about it.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        # Without this kombu keeps its control exchange in the working directory.
        "control_folder": str(VAR_DIR / "broker" / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# --- Sessions, cookies, transport security ------------------------------------------
SESSION_ENGINE = "core.sessions"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60, minimum=300)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
SECURE_HSTS_SECONDS = 31_536_000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
# Relying parties fetch CRLs, OCSP and the CA certificates over plain HTTP (nginx port 80).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^crl/", r"^ca/", r"^ocsp"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# nginx terminates TLS and always sets this header itself.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Addresses of reverse proxies whose X-Forwarded-For we believe (see core.client_address).
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
# The secret nginx sends in X-Proxy-Secret on every proxied request (deploy/nginx/
# proxy-secret.sh). When set, a request from a TRUSTED_PROXIES address without it is not
# believed either: other containers and the gateway share nginx's network. Checks
# portal.E010, portal.E011.
PROXY_SECRET = env_secret("PROXY_SECRET") or ""

# --- Passwords --------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        # Admin users have the first four; enrolling holders (enrollment.Holder) the others.
        "OPTIONS": {
            "user_attributes": (
                "username",
                "first_name",
                "last_name",
                "email",
                "display_name",
                "user_number",
            )
        },
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "core.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# --- Language, time ---------------------------------------------------------------------
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Mail -------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "") or ""
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
elif PORTAL_MODE == "development":
    # `make run`: each mail in VAR_DIR/mail/ and one line on the console (core/dev_mail.py).
    EMAIL_BACKEND = "core.dev_mail.InboxBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# formataddr quotes a name that needs it (check portal.E006 reads the result back).
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", formataddr((PORTAL_NAME, "noreply@localhost")))
# The outbox (enrollment.outbox): attempts before a mail is given up (retries wait 1, 2, 4 …
# minutes, at most an hour), and how often beat sends what is due (seconds).
MAIL_MAX_ATTEMPTS = env_int("MAIL_MAX_ATTEMPTS", 10, minimum=1, maximum=100)
MAIL_SWEEP_INTERVAL_SECONDS = float(env_int("MAIL_SWEEP_INTERVAL_SECONDS", 60, minimum=5))

# --- Enrollment (the registration authority) -------------------------------------------
PIN_VALIDITY_DAYS = env_int("PIN_VALIDITY_DAYS", 60, minimum=1, maximum=365)
# How long the PINs that an admin issued stay available (encrypted) for the PIN letters after
# the PIN page was drawn; then they are wiped (enrollment.models.handovers).
PIN_HANDOVER_MINUTES = env_int("PIN_HANDOVER_MINUTES", 30, minimum=1, maximum=24 * 60)
# The PIN letter's sender (return address above the window, and the letterhead), lines
# separated by "|", and whom a holder asks for a new PIN (phone number or e-mail address).
LETTER_SENDER = env_lines("LETTER_SENDER", [PORTAL_NAME])
LETTER_HELPDESK = env_str("LETTER_HELPDESK", "")
PIN_MAX_ATTEMPTS = env_int("PIN_MAX_ATTEMPTS", 5, minimum=1, maximum=20)
# Attempts at the user-data step (and at login) per client address, in django-ratelimit's
# notation: high enough for a practice whose team enrolls behind one address (50 holders
# within an hour, typos included); the captcha and the per-number limit stop automation.
USER_DATA_RATE_LIMIT = env_str("USER_DATA_RATE_LIMIT", "300/h")
# Attempts at the user-data step per user number (a typed number, whether it exists or not).
USER_NUMBER_RATE_LIMIT = env_str("USER_NUMBER_RATE_LIMIT", "10/10m")
ENROLLMENT_VALIDITY_DAYS = env_int("ENROLLMENT_VALIDITY_DAYS", 60, minimum=1, maximum=365)
# Certificates a holder may have working at once (installing again on another computer and
# keeping the earlier one); installing again without keeping it replaces it.
MAX_LIVE_CERTIFICATES = env_int("MAX_LIVE_CERTIFICATES", 2, minimum=1, maximum=10)
ENROLLMENT_REMINDER_DAYS = env_int("ENROLLMENT_REMINDER_DAYS", 7, minimum=1, maximum=60)
# A CA certificate (PEM file) that installers trust for the portal's TLS server certificate,
# for portals whose server certificate is not publicly trusted. Empty: the system's trust.
INSTALLER_SERVER_CA_FILE = env_str("INSTALLER_SERVER_CA_FILE")
# Rate limits of the installer API, in django-ratelimit's notation.
API_SUBMIT_RATE_PER_CODE = env_str("API_SUBMIT_RATE_PER_CODE", "10/m")
API_SUBMIT_RATE_PER_ADDRESS = env_str("API_SUBMIT_RATE_PER_ADDRESS", "60/m")
API_READ_RATE_PER_CODE = env_str("API_READ_RATE_PER_CODE", "120/m")
API_READ_RATE_PER_ADDRESS = env_str("API_READ_RATE_PER_ADDRESS", "600/m")
# Long polling of /api/v1/status?wait=N: the longest wait, and how many requests of each web
# process may wait at once (each holds a thread; the rest are answered at once).
API_STATUS_MAX_WAIT = env_int("API_STATUS_MAX_WAIT", 20, minimum=0, maximum=60)
API_STATUS_WAITERS = env_int("API_STATUS_WAITERS", 4, minimum=0)
# The longest path and query string under the API's prefixes; longer ones get 414 JSON.
# At most 4000, below gunicorn's limit_request_line (4094 bytes), which answers a plain 400.
API_MAX_URL_LENGTH = env_int("API_MAX_URL_LENGTH", 2048, minimum=256, maximum=4000)

# --- Metrics ---------------------------------------------------------------------------
# /metrics answers a bearer METRICS_TOKEN, or clients in METRICS_ALLOWED_NETWORKS; no one else.
METRICS_TOKEN = env_secret("METRICS_TOKEN", "") or ""
METRICS_ALLOWED_NETWORKS = env_networks(
    "METRICS_ALLOWED_NETWORKS", [] if PRODUCTION else ["127.0.0.0/8", "::1/128"]
)

# --- Holder login ---------------------------------------------------------------------
# Wrong passwords or authenticator codes before the holder is blocked, as VECOZO does.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1, maximum=20)
# How long before expiry a holder may renew a certificate without a PIN.
RENEWAL_WINDOW_DAYS = env_int("RENEWAL_WINDOW_DAYS", 60, minimum=1, maximum=365)
# After a system certificate is renewed over EST, how long the old one keeps working so that
# the software (on each of its servers) can switch; then it is revoked as superseded.
RENEWAL_OVERLAP_DAYS = env_int("RENEWAL_OVERLAP_DAYS", 7, minimum=0, maximum=60)

# --- Captcha (django-simple-captcha) ----------------------------------------------------
CAPTCHA_CHALLENGE_FUNCT = "enrollment.captcha.six_digit_challenge"
CAPTCHA_LENGTH = 6
CAPTCHA_TIMEOUT = 10
CAPTCHA_FONT_SIZE = 30
CAPTCHA_IMAGE_SIZE = (150, 48)
CAPTCHA_LETTER_ROTATION = (-20, 20)
CAPTCHA_NOISE_FUNCTIONS = ("captcha.helpers.noise_dots",)
# The audio alternative is the portal's own (enrollment.captcha: recordings shipped in
# static/captcha/), so no speech synthesiser is needed; the library's flite view stays off.
CAPTCHA_FLITE_PATH = None
# For automated tests only: the answer "PASSED" is accepted. `check --deploy` refuses it.
CAPTCHA_TEST_MODE = env_bool("CAPTCHA_TEST_MODE", False)

# --- Logging ----------------------------------------------------------------------------
# JSON lines in production (one object per line, with the request id); plain text elsewhere.
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"captcha": {"level": "CRITICAL"}} if CAPTCHA_TEST_MODE else {},
}

# --- Certificate authority ---------------------------------------------------------------
# Which CA duties this process has: "web" answers CRL/OCSP/downloads from the database and
# never loads a CA key; "worker" signs; "all" is both (make run, tests). Production defaults
# to "web" so that a process is only trusted with keys when its deployment says so.
CA_ROLE = env_str("CA_ROLE", "web" if PRODUCTION else "all")
if CA_ROLE not in {"web", "worker", "all"}:
    raise ImproperlyConfigured("CA_ROLE must be web, worker or all")
# Key material: present only in the worker's environment (check ca.E001 guards the web tier).
CA_KEY_BACKEND = env_str("CA_KEY_BACKEND", "file")
CA_KEY_DIR = env_str("CA_KEY_DIR", "" if PRODUCTION else str(VAR_DIR / "ca-keys"))
# Encrypts the PKCS#8 key files; outside production a passphrase is generated in CA_KEY_DIR.
CA_KEY_PASSPHRASE = env_secret("CA_KEY_PASSPHRASE")
CA_PKCS11_MODULE = env_str("CA_PKCS11_MODULE")
CA_PKCS11_TOKEN_LABEL = env_str("CA_PKCS11_TOKEN_LABEL")
CA_PKCS11_PIN = env_secret("CA_PKCS11_PIN")
# Hierarchy created by `manage.py init_ca`.
CA_NAME = env_str("CA_NAME", PORTAL_NAME)
CA_COUNTRY = env_str("CA_COUNTRY", "NL")
CA_ROOT_KEY_TYPE = env_str("CA_ROOT_KEY_TYPE", "rsa4096")
CA_ROOT_VALIDITY_DAYS = env_int("CA_ROOT_VALIDITY_DAYS", 20 * 365, minimum=365, maximum=30 * 365)
CA_ISSUING_KEY_TYPE = env_str("CA_ISSUING_KEY_TYPE", "rsa3072")
CA_ISSUING_VALIDITY_DAYS = env_int(
    "CA_ISSUING_VALIDITY_DAYS", 10 * 365, minimum=30, maximum=20 * 365
)
# End-entity certificates.
CA_CERT_VALIDITY_DAYS = env_int("CA_CERT_VALIDITY_DAYS", 3 * 365, minimum=1, maximum=5 * 365)
# Default: id-TEST-certPolicyOne (RFC 7229), a policy OID meant for testing; production sets
# its own (check ca.W001).
CA_POLICY_OID = env_str("CA_POLICY_OID", "1.3.6.1.5.5.7.13.1")
# Revocation information.
CA_CRL_VALIDITY_HOURS = env_int("CA_CRL_VALIDITY_HOURS", 72, minimum=2)
CA_CRL_REFRESH_HOURS = env_int("CA_CRL_REFRESH_HOURS", 24, minimum=1)
CA_OCSP_VALIDITY_HOURS = env_int("CA_OCSP_VALIDITY_HOURS", 96, minimum=2)
CA_OCSP_RESPONDER_VALIDITY_DAYS = env_int("CA_OCSP_RESPONDER_VALIDITY_DAYS", 90, minimum=7)
# The delegated responder key: P-256 signs an OCSP answer in ~0.05 ms (RSA-3072: ~0.8 ms).
CA_OCSP_RESPONDER_KEY_TYPE = env_str("CA_OCSP_RESPONDER_KEY_TYPE", "p256")
CA_OCSP_CACHE_SECONDS = env_int("CA_OCSP_CACHE_SECONDS", 300, minimum=0)
# Orders: a claim is a lease (a redelivered task may take over a dead worker's order after it
# expires); the sweep re-queues pending orders and gives up on orders stuck beyond the bound.
CA_ORDER_LEASE_SECONDS = env_int("CA_ORDER_LEASE_SECONDS", 60, minimum=1)
CA_ORDER_REQUEUE_AFTER_SECONDS = env_int("CA_ORDER_REQUEUE_AFTER_SECONDS", 30, minimum=0)
CA_ORDER_STUCK_SECONDS = env_int("CA_ORDER_STUCK_SECONDS", 15 * 60, minimum=1)
CA_ORDER_MAX_ATTEMPTS = env_int("CA_ORDER_MAX_ATTEMPTS", 5, minimum=1)
# How often beat runs the sweep (ca.tasks.sweep_orders): the bound on recovering an order
# whose message or worker was lost, on top of the lease.
CA_SWEEP_INTERVAL_SECONDS = float(env_int("CA_SWEEP_INTERVAL_SECONDS", 60, minimum=1))
# Orders one sweep re-queues at most, oldest first. Each re-queued task's batch takes up to
# CA_SIGNING_BATCH pending orders along, so a sweep recovers up to both multiplied; the cap
# keeps a mass re-issuance (every order pending for minutes, its message still queued) from
# being queued again in full every sweep.
CA_SWEEP_REQUEUE_LIMIT = env_int("CA_SWEEP_REQUEUE_LIMIT", 500, minimum=1)
# How long a worker keeps using the issuing CA and OCSP responder it looked up (seconds).
CA_SIGNER_CACHE_SECONDS = float(env_int("CA_SIGNER_CACHE_SECONDS", 10, minimum=0))
# How many pending orders a worker signs in one go and stores in one transaction: one claim,
# one commit and one audit lock for the lot when orders queue up (1 signs one at a time).
CA_SIGNING_BATCH = env_int("CA_SIGNING_BATCH", 8, minimum=1, maximum=100)
CELERY_BEAT_SCHEDULE = {
    "ca-sweep-orders": {"task": "ca.sweep_orders", "schedule": CA_SWEEP_INTERVAL_SECONDS},
    "ca-refresh-publications": {"task": "ca.refresh_publications", "schedule": 15 * 60.0},
    "enrollment-purge-expired-captchas": {
        "task": "enrollment.purge_expired_captchas",
        "schedule": CAPTCHA_TIMEOUT * 60.0,
    },
    "enrollment-expire-and-remind": {"task": "enrollment.expire_and_remind", "schedule": 60 * 60.0},
    "enrollment-record-missed-certificates": {
        "task": "enrollment.record_missed_certificates",
        "schedule": 60.0,
    },
    "enrollment-sweep-outgoing-mail": {
        "task": "enrollment.sweep_outgoing_mail",
        "schedule": MAIL_SWEEP_INTERVAL_SECONDS,
    },
    "portal-expiry-reminders": {"task": "portal.send_expiry_reminders", "schedule": 60 * 60.0},
    "enrollment-retire-renewed": {
        "task": "enrollment.retire_renewed_certificates",
        "schedule": 60 * 60.0,
    },
    "ca-key-heartbeat": {"task": "ca.key_heartbeat", "schedule": 60.0},
}
if REDIS_URL:
    # Publishing (an order's on-commit send) must fail at once when Redis is down: kombu
    # otherwise retries the connection for ~6 s inside the web request. Nothing is lost, the
    # sweep re-queues the order. The worker's consumer passes its own retry limit
    # (broker_connection_max_retries in config/celery.py), so this does not change it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "max_retries": 0}
