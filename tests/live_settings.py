"""Settings of the portal processes the fault and backup tests start (gunicorn, scripts; tests/servers.py).

The production settings (ami.settings: DEBUG off, SECRET_KEY required, the degrading Redis cache, the
503 middleware), served over plain HTTP on 127.0.0.1, with static files read from their source folders
(no collectstatic into the checkout) and a fast password hasher.
"""

from ami.settings import *  # noqa: F403
from ami.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
