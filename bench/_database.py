"""A throw-away database for a benchmark: PostgreSQL when DATABASE_URL is set, else a temporary SQLite file.

    with bench_database("exports") as url:   # DATABASE_URL now points to a fresh, migrated database
        ...
The database is dropped (or the file deleted) on the way out, even after an error.
"""

import contextlib
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import _common  # noqa: F401  (puts the repository on sys.path)


def _postgres_admin(url):
    import psycopg2

    parts = urlsplit(url)
    connection = psycopg2.connect(
        dbname="postgres", user=parts.username or "postgres", password=parts.password or None,
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
    )
    connection.autocommit = True
    return connection, parts


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ami.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-production-" + "x" * 20)
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="ami-bench-media-"))
    import django

    django.setup()


@contextlib.contextmanager
def bench_database(name):
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        database = f"ami_bench_{name}_{os.getpid()}"
        admin, parts = _postgres_admin(base)
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}"')
            cursor.execute(f'CREATE DATABASE "{database}"')
        url = urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))
        try:
            yield url
        finally:
            from django.db import connections

            connections.close_all()
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.close()
    else:
        folder = Path(tempfile.mkdtemp(prefix=f"ami-bench-{name}-"))
        try:
            yield f"sqlite:///{folder / 'bench.sqlite3'}"
        finally:
            for path in folder.iterdir():
                path.unlink()
            folder.rmdir()


def migrate():
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
