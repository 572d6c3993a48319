"""Settings, read from the environment with defaults that run (see the README's table)."""

from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from ami.env import (
    database_from_url,
    email_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    redis_url_checked,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# DEBUG is on by default only on the embedded SQLite default (a developer's checkout, `make run`);
# as soon as DATABASE_URL names a real database it is off unless said otherwise, so a production
# deployment that forgets DEBUG still refuses to start without its SECRET_KEY.
DEBUG = env_bool("DEBUG", not env_str("DATABASE_URL"))

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off: set the SECRET_KEY environment variable.")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The portal's public address, for the links of emails sent by workers (no request to build them from).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "dsfr",
    "ami",
    "applications",
    "jury",
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
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ami.urls"
WSGI_APPLICATION = "ami.wsgi.application"

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
                "ami.context_processors.portal",
            ],
        },
    },
]

# Database: the embedded SQLite file unless DATABASE_URL names PostgreSQL.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "ami.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"  # media never leaves through a static route: views check permissions

# Redis: broker, result backend and cache when REDIS_URL is set; otherwise in-process.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    redis_url_checked(REDIS_URL)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "ami"),
            "TIMEOUT": 300,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
# Redis re-delivers a task not acknowledged within this delay: no ETA may exceed it.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_DEFAULT_QUEUE", "celery")
CELERY_BEAT_SCHEDULE = {
    "flush-outbox": {"task": "ami.flush_outbox", "schedule": 300.0},
    "jury-late-reminders": {"task": "jury.remind_late_jurors", "schedule": 60.0 * 60 * 24},
    "deadline-reminders": {"task": "applications.send_deadline_reminders", "schedule": 3600.0},
}

# Mail: the console unless EMAIL_URL (or Django's EMAIL_* variables) say otherwise.
EMAIL_URL = env_str("EMAIL_URL")
if EMAIL_URL:
    globals().update(email_from_url(EMAIL_URL))
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
OUTBOX_RETRY_BASE_SECONDS = env_int("OUTBOX_RETRY_BASE_SECONDS", 30)  # then ×2 per attempt, at most 600 s
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "AMI IA <ne-pas-repondre@ami-ia.numerique.gouv.fr>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

CRISPY_ALLOWED_TEMPLATE_PACKS = ["dsfr_pack"]
CRISPY_TEMPLATE_PACK = "dsfr_pack"
CRISPY_FAIL_SILENTLY = not DEBUG
DSFR_USE_INTEGRITY_CHECKSUMS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 30)  # the inactivity timeout (see "Accounts (issue 8)")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

PORTAL_NAME = _("AMI Intelligence artificielle")
PROGRAMME_NAME = _(
    "Direction interministérielle du numérique · Direction interministérielle de la transformation publique"
)
PUBLIC_PAGE_CACHE_SECONDS = env_int("PUBLIC_PAGE_CACHE_SECONDS", 60)
# The juror's dashboard is kept rendered in the cache until something it shows changes (jury/dashboard_cache.py);
# this bounds how long an entry stays. 0 turns that cache off. The test settings keep it on, so that every
# dashboard test also checks that a change is seen at once.
JURY_DASHBOARD_CACHE_SECONDS = env_int("JURY_DASHBOARD_CACHE_SECONDS", 600)
# Without Redis each process has its own cache: the dashboards (jury/dashboard_cache.py) and the users, devices and
# seats of signed-in requests (ami/auth_memo.py) are remembered only if the site runs in one process.
SINGLE_PROCESS_CACHE = env_bool("SINGLE_PROCESS_CACHE", DEBUG)
# A jury invitation link expires after this many days (staff may resend a fresh one).
JURY_INVITATION_MAX_AGE_DAYS = env_int("JURY_INVITATION_MAX_AGE_DAYS", 14)
# Optional antivirus (applications/antivirus.py): off unless clamd's Unix socket or host is given; new attachments
# then stay "pending", invisible to the jury, until clamd declares them clean.
CLAMD_SOCKET = env_str("CLAMD_SOCKET", "")
CLAMD_HOST = env_str("CLAMD_HOST", "")
CLAMD_PORT = env_int("CLAMD_PORT", 3310)
CLAMD_TIMEOUT_SECONDS = env_int("CLAMD_TIMEOUT_SECONDS", 60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint tells each step of each rendering (and of its own start-up) at INFO: noise in the workers' logs.
    "loggers": {"weasyprint.progress": {"level": "WARNING"}},
}

# Headers and data protection (issue 8)
# Content security policy (django-csp 4 format): our own origin only, no inline script or style anywhere,
# enforced in every environment so that the browser tests (tests/conftest.py) catch a violation.
# img-src allows data: for the DSFR's own SVG backgrounds (select arrows, checkboxes) and generated images.
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Rate limits (ami/ratelimits.py): counted in the default cache (Redis in production, shared by every
# worker; local memory in the single-process embedded default). Behind a reverse proxy, name the header
# that carries the client's address, e.g. RATELIMIT_IP_META_KEY=HTTP_X_REAL_IP, or every visitor shares one.
# The decorators need no app: "django_ratelimit" stays out of INSTALLED_APPS, whose only system check flags any cache
# but memcached and django-redis (an error on the embedded local-memory cache, a warning on Django's own RedisCache).
MIDDLEWARE.append("django_ratelimit.middleware.RatelimitMiddleware")
RATELIMIT_VIEW = "ami.ratelimits.rate_limited"
RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY") or None
# Personal data and security contacts, shown on the privacy, accessibility and security pages.
PRIVACY_CONTACT_EMAIL = env_str("PRIVACY_CONTACT_EMAIL", "dpd@ami-ia.numerique.gouv.fr")
ACCESSIBILITY_CONTACT_EMAIL = env_str("ACCESSIBILITY_CONTACT_EMAIL", "accessibilite@ami-ia.numerique.gouv.fr")
SECURITY_CONTACT_EMAIL = env_str("SECURITY_CONTACT_EMAIL", "securite@ami-ia.numerique.gouv.fr")

# Accounts (issue 8): lockout, session timeouts, two-factor authentication, ProConnect (README, « Comptes et
# authentification »).
INSTALLED_APPS += [
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "mozilla_django_oidc",
]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "ami.account_middleware.OTPMiddleware",
)
# After the messages: both may log out or redirect with a message.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "ami.account_middleware.SessionTimeoutMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("ami.account_middleware.SessionTimeoutMiddleware") + 1,
    "ami.account_middleware.OTPRequiredMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
# The lockout check comes first: it refuses a locked account or address before any password is checked.
AUTHENTICATION_BACKENDS = ["ami.account_security.LoginAttemptsBackend", "ami.auth_memo.ModelBackend"]

# Lockout (django-axes): AXES_FAILURE_LIMIT failed logins lock the account (whatever the address) and, separately,
# the address (whatever the account) for AXES_COOLOFF_MINUTES; a successful login resets the count. The address is
# REMOTE_ADDR, or the header named by RATELIMIT_IP_META_KEY behind a reverse proxy (the same as the rate limits).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # a float: hours, for django-axes
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "ami.account_security.login_username"
AXES_CLIENT_IP_CALLABLE = "ami.account_security.client_ip"
AXES_LOCKOUT_CALLABLE = "ami.account_security.lockout_response"

# Sessions: SESSION_COOKIE_AGE (above) is the inactivity timeout, since a request renews the session (at most
# once a minute, to spare a write per request); the absolute timeout ends a session that long after its login
# however active it is (ami/account_middleware.py).
SESSION_ABSOLUTE_TIMEOUT = env_int("SESSION_ABSOLUTE_TIMEOUT", 60 * 60 * 10)
# Sessions in the database, read through Redis when every process shares it and it answers (ami/sessions.py).
SESSION_ENGINE = "ami.sessions"

# Two-factor authentication (django-otp): required for staff, and for jurors who did not sign in through
# ProConnect; the demo accounts skip it while DEBUG is on. The general test settings turn it off.
OTP_REQUIRED = env_bool("OTP_REQUIRED", True)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "AMI IA")
OTP_RECOVERY_CODES = 10

# ProConnect, the State agents' single sign-on (OpenID Connect through mozilla-django-oidc), off by default.
# The endpoints default to ProConnect's layout under its issuer (e.g. https://proconnect.gouv.fr/api/v2).
PROCONNECT_ENABLED = env_bool("PROCONNECT_ENABLED", False)
PROCONNECT_ISSUER = env_str("PROCONNECT_ISSUER", "").rstrip("/")
OIDC_RP_CLIENT_ID = env_str("PROCONNECT_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("PROCONNECT_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("PROCONNECT_AUTHORIZATION_ENDPOINT", f"{PROCONNECT_ISSUER}/authorize")
OIDC_OP_TOKEN_ENDPOINT = env_str("PROCONNECT_TOKEN_ENDPOINT", f"{PROCONNECT_ISSUER}/token")
OIDC_OP_USER_ENDPOINT = env_str("PROCONNECT_USERINFO_ENDPOINT", f"{PROCONNECT_ISSUER}/userinfo")
OIDC_OP_JWKS_ENDPOINT = env_str("PROCONNECT_JWKS_ENDPOINT", f"{PROCONNECT_ISSUER}/jwks")
PROCONNECT_LOGOUT_ENDPOINT = env_str("PROCONNECT_LOGOUT_ENDPOINT", f"{PROCONNECT_ISSUER}/session/end")
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email given_name usual_name"
OIDC_AUTH_REQUEST_EXTRA_PARAMS = {"acr_values": "eidas1"}
OIDC_STORE_ID_TOKEN = True  # the hint ProConnect needs to end its own session at logout
OIDC_TIMEOUT = env_int("PROCONNECT_TIMEOUT", 10)
OIDC_AUTHENTICATE_CLASS = "ami.proconnect.ProConnectLoginView"
OIDC_CALLBACK_CLASS = "ami.proconnect.ProConnectCallbackView"
OIDC_OP_LOGOUT_URL_METHOD = "ami.proconnect.oidc_logout_url"
LOGIN_REDIRECT_URL_FAILURE = "login"
if PROCONNECT_ENABLED:
    if not (PROCONNECT_ISSUER and OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
        raise ImproperlyConfigured(
            "PROCONNECT_ENABLED needs PROCONNECT_ISSUER, PROCONNECT_CLIENT_ID and PROCONNECT_CLIENT_SECRET."
        )
    AUTHENTICATION_BACKENDS.append("ami.proconnect.ProConnectBackend")

# Faults (issue 8): Redis down degrades the cache and leaves queued work to beat; the database down answers 503.
# README, « Pannes ».
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
                  "ami.middleware_db.DatabaseUnavailableMiddleware")
if REDIS_URL:
    CACHES["default"]["BACKEND"] = "ami.cache.RedisCache"
    CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 2}
# A broker that does not answer costs a request about one second (not twenty), then the task is left to beat.
_QUICK_GIVE_UP = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TASK_PUBLISH_RETRY_POLICY = _QUICK_GIVE_UP
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": _QUICK_GIVE_UP}
CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "socket_connect_timeout": 2}
CELERY_BEAT_SCHEDULE["render-missing-receipts"] = {"task": "applications.render_missing_receipts", "schedule": 600.0}

# Headers and data protection (issue 8), continued: after a ProConnect login, our logout form's POST redirects to
# ProConnect's end-session endpoint, and browsers apply form-action to that redirect too.
if PROCONNECT_ENABLED:
    _logout = urlsplit(PROCONNECT_LOGOUT_ENDPOINT)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(f"{_logout.scheme}://{_logout.netloc}")
