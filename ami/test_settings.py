"""Test settings: the base settings, made fast and strict."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")

from ami.settings import *  # noqa: E402,F403
from ami.settings import BASE_DIR, DATABASES, REDIS_URL, TEMPLATES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
MEDIA_ROOT = str(BASE_DIR / "var" / "test-media")
CRISPY_FAIL_SILENTLY = False
# Unit tests run tasks in-process; the worker tests turn eager mode off for themselves.
CELERY_TASK_ALWAYS_EAGER = True
# Tests see fresh pages (their rolled-back data never bumps the cache); tests/ami/test_views.py turns it on.
PUBLIC_PAGE_CACHE_SECONDS = 0
# Two-factor authentication is off for the general suite, which signs staff and jurors in with force_login();
# tests/ami/test_otp.py, test_proconnect.py and tests/browser/test_otp.py turn it on with the `settings` fixture.
# The lockout (django-axes) stays on: tests/ami/test_security_accounts.py exercises it.
OTP_REQUIRED = False
# The juror's dashboard cache (jury/dashboard_cache.py) and the memory of users, devices and seats (ami/auth_memo.py)
# stay on: every test also checks that a change is seen at once. The live server runs in the test process.
SINGLE_PROCESS_CACHE = True
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"ami-test-{os.getpid()}",
        }
    }
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": None}


class _UndefinedVariable(str):
    """Fails a test on any undefined template variable (Django swallows them otherwise)."""

    def __mod__(self, other):
        raise AssertionError(f"Undefined template variable: {other}")

    def __contains__(self, item):
        return item == "%s"


TEMPLATES[0]["OPTIONS"]["string_if_invalid"] = _UndefinedVariable("%s")
