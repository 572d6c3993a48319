"""Settings of the web benchmarks (bench/web.py, bench/rush.py): the production settings plus a bare floor view.

Only bench/_server.py points DJANGO_SETTINGS_MODULE here: the floor URL exists nowhere else, never in
production. Everything else is ami.settings as the environment makes it (DEBUG off, REDIS_URL, …).
"""

import os

from ami.settings import *  # noqa: F403
from ami.settings import DATABASE_URL, DATABASES, STORAGES

ROOT_URLCONF = "bench.urls_floor"
STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
# The manifest without the compressed copies: quicker to collect, the pages name the same hashed files.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
if not DATABASE_URL:
    # The embedded default (same OPTIONS as ami.settings), in the benchmark's own file.
    DATABASES["default"]["NAME"] = os.environ["BENCH_SQLITE"]
