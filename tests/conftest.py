"""Shared fixtures: personas, a real Celery worker process, and the system Chromium."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
UNDER_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need_service(reason):
    """Locally a missing service skips the test; under CI it fails it."""
    if UNDER_CI:
        pytest.fail(f"Under CI this test needs {reason}.")
    pytest.skip(f"needs {reason}")


def _worker_database_url():
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("postgresql"):
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return None


def worker_database_url():
    """The test database's URL for a worker process; skips locally (fails under CI) without Redis as broker or
    without PostgreSQL (a worker process cannot share an in-memory SQLite)."""
    if not settings.REDIS_URL:
        need_service("REDIS_URL (Redis as Celery broker)")
    database_url = _worker_database_url()
    if database_url is None:
        need_service("DATABASE_URL on PostgreSQL (a worker process cannot share an in-memory SQLite)")
    return database_url


def worker_environment(database_url, queue, **extra):
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "ami.settings",
        "SECRET_KEY": "worker-test-secret",
        "DEBUG": "0",
        "CELERY_DEFAULT_QUEUE": queue,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        **extra,
    }


def start_worker(queue, env, *, pool="solo", concurrency=1):
    """Starts `celery -A ami worker` on `queue` in a process group of its own; returns (process, name)."""
    name = f"{queue}@localhost"
    command = [
        sys.executable, "-m", "celery", "-A", "ami", "worker", f"--pool={pool}", f"--concurrency={concurrency}",
        "-Q", queue, "-n", name, "--without-gossip", "--without-mingle", "--loglevel=INFO",
    ]
    with open(ROOT / "var" / f"worker-{queue}.log", "a") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return process, name


def wait_for_worker(process, name, queue, timeout=60):
    from ami.celery import app

    deadline = time.monotonic() + timeout
    while not app.control.ping(destination=[name], timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the Celery worker did not start; see var/worker-{queue}.log")


def stop_worker(process):
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def _celery_worker_session(django_db_setup, django_db_blocker):
    """A real `celery -A ami worker` process on Redis, reading the test database, on a queue of its own,
    started once for the session."""
    database_url = worker_database_url()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    process, name = start_worker(queue, worker_environment(database_url, queue))
    try:
        wait_for_worker(process, name, queue)
        yield {"process": process, "name": name, "queue": queue}
    finally:
        stop_worker(process)


@pytest.fixture
def celery_worker_process(_celery_worker_session):
    """Sends this test's tasks to the real worker; the tests after it run their tasks in-process again."""
    from ami.celery import app

    previous = (app.conf.task_default_queue, app.conf.task_always_eager)
    app.conf.task_default_queue = _celery_worker_session["queue"]
    app.conf.task_always_eager = False
    try:
        yield _celery_worker_session
    finally:
        app.conf.task_default_queue, app.conf.task_always_eager = previous


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Chromium with apt as root).")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the live server thread runs beside Playwright's loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _separate_rate_limits(settings):
    """Each test counts its own rate limits: hits of one test never make another one's POST a 429."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl-{uuid.uuid4().hex}:"


def csp_violation(message):
    """Chromium logs every request or inline code the content security policy blocked as a console error."""
    return message.type == "error" and "Content Security Policy" in message.text


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900})
    violations = []
    context.on("console", lambda m: csp_violation(m) and violations.append(
        f"{m.page.url if m.page else ''}: {m.text} @ {m.location['url']}:{m.location['lineNumber']}"))
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
    if violations:
        pytest.fail("Content security policy violations:\n" + "\n".join(violations), pytrace=False)


def session_queries():
    """The queries a signed-in request spends on its session: none when the cache is Redis (ami/sessions.py
    reads it there), one otherwise."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    return 0 if isinstance(caches["default"], RedisCache) else 1


def axe_violations(page, impacts=("serious", "critical")):
    """Runs axe-core on the page and returns the serious and critical violations (id and targets)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        (violation["id"], [node["target"] for node in violation["nodes"]][:3])
        for violation in results.response["violations"]
        if violation.get("impact") in impacts
    ]


def screenshot(page, name):
    folder = ROOT / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)



def close_response(response):
    """Closes a streamed response (a file download) as Django's test client does: without letting
    request_finished's close_old_connections close the test's database connection, which on PostgreSQL
    would end the transaction the test runs in ("connection already closed" for every later query)."""
    from django.core.signals import request_finished
    from django.db import close_old_connections

    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases, plus one step before it drops them on PostgreSQL: sessions still
    open on the test database (the live server's threads, which pytest-django stops after the database
    teardown, or a worker process that a test killed) are listed on stderr and ended, so that the drop
    does not fail with "database is being accessed by other users"."""
    yield
    with django_db_blocker.unblock():
        from django.db import connection

        if connection.vendor != "postgresql":
            return
        name = connection.settings_dict["NAME"]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, application_name, state, left(query, 80) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()", [name])
            leftovers = cursor.fetchall()
            for row in leftovers:
                print(f"test database still in use at teardown, ended: {row}", file=sys.stderr)
                cursor.execute("SELECT pg_terminate_backend(%s)", [row[0]])
