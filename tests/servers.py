"""Throwaway servers for the fault and backup tests: a PostgreSQL cluster and a Redis of their own, the portal
under gunicorn, and Django scripts run in a process of their own against them.

The machine's shared PostgreSQL and Redis are never touched: `throwaway_postgres` makes a cluster with
`initdb` in a temporary folder and runs it with `pg_ctl` on a free port (as the `postgres` user when the
tests run as root: PostgreSQL refuses to run as root), `throwaway_redis` runs `redis-server` on a free
port. Both are stopped and removed at the end. Locally a missing binary skips the tests; under CI it
fails them with the reason (tests.conftest.need_service).
"""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, need_service

TEMPLATE_DATABASE = "ami_migrated"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate, timeout, message, interval=0.1):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(message)
        time.sleep(interval)


def tail(path, lines=40):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} unreadable)"


# PostgreSQL


def postgres_bindir():
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, else the folder of initdb on PATH."""
    def version(folder):
        name = Path(folder).parent.name
        return int(name) if name.isdigit() else 0

    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary folder, trust authentication, listening on 127.0.0.1:`port`."""

    def __init__(self, bindir):
        self.bindir = bindir
        self.as_postgres = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="ami-pg-"))
        self.data, self.log = self.root / "data", self.root / "postgres.log"
        self.port = free_port()
        self._template_ready = False
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *command, timeout=60):
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        done = subprocess.run([*prefix, *map(str, command)], capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            pytest.fail(f"{Path(str(command[0])).name} failed ({done.returncode}): {done.stderr or done.stdout}\n"
                        f"{tail(self.log)}")
        return done

    def init(self):
        self._run(self.bindir / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-locale", "--no-sync", "--no-instructions")

    def start(self):
        # fsync off: only an OS crash could need it; the tests restart the server cleanly (pg_ctl -m fast).
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(self.bindir / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode="fast"):
        self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode="fast"):
        # -l again: without it the new server would write to (and hold open) pg_ctl's output.
        self._run(self.bindir / "pg_ctl", "-D", self.data, "-l", self.log, "-m", mode, "-w", "-t", "60", "restart")

    def destroy(self):
        if (self.data / "postmaster.pid").exists():
            prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
            subprocess.run([*prefix, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database="postgres"):
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database)
        connection.autocommit = True
        return connection

    def query(self, sql, params=None, database="postgres"):
        connection = self.connect(database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def create_database(self, name, template=None):
        suffix = f" TEMPLATE {template}" if template else ""
        self.query(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)

    def migrated_database(self, name):
        """A new database with every migration applied (copied from a template migrated once per session)."""
        if not self._template_ready:
            self.create_database(TEMPLATE_DATABASE)
            manage(["migrate", "--noinput"], portal_environment(database_url=self.url(TEMPLATE_DATABASE),
                                                                  media_root=self.root / "unused-media"))
            self._template_ready = True
        return self.create_database(name, template=TEMPLATE_DATABASE)


@pytest.fixture(scope="session")
def throwaway_postgres():
    """A PostgreSQL cluster of the test session (initdb + pg_ctl), never the machine's shared one."""
    bindir = postgres_bindir()
    if bindir is None:
        need_service("PostgreSQL's initdb and pg_ctl (apt-get install postgresql; looked in /usr/lib/postgresql/*/bin "
                     "and on PATH) to start a throwaway cluster")
    if os.geteuid() == 0 and not (shutil.which("runuser") and _user_exists("postgres")):
        need_service("the `postgres` OS user and `runuser`: PostgreSQL refuses to run as root")
    server = ThrowawayPostgres(bindir)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.destroy()


def _user_exists(name):
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


# Redis


class ThrowawayRedis:
    """`redis-server` on 127.0.0.1:`port`, without persistence; stop() and start() again on the same port."""

    def __init__(self, folder):
        self.folder, self.port, self.process = Path(folder), free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def ping(self):
        import redis

        try:
            return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5).ping()
        except redis.exceptions.RedisError:
            return False

    def start(self):
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                   "no", "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_until(lambda: self.ping() or self.process.poll() is not None, 20, "redis-server did not start")
        if self.process.poll() is not None:
            pytest.fail(f"redis-server exited: {tail(self.folder / 'redis.log')}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@pytest.fixture
def throwaway_redis(tmp_path):
    """A `redis-server` of this test on a free port, never the machine's shared one."""
    if shutil.which("redis-server") is None:
        need_service("redis-server on PATH (apt-get install redis-server) to start a throwaway Redis")
    server = ThrowawayRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# The portal and Django scripts in processes of their own


def portal_environment(*, database_url, media_root, redis_url=None, **extra):
    """The environment of a portal process: production settings (tests/live_settings.py) on these servers."""
    env = {name: value for name, value in os.environ.items()
           if name not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "DEBUG", "CELERY_DEFAULT_QUEUE"}}
    env.update({
        "DJANGO_SETTINGS_MODULE": "tests.live_settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "faults-test-secret-key-not-for-production",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MEDIA_ROOT": str(media_root),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **extra,
    })
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def manage(arguments, env, timeout=180):
    done = subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        pytest.fail(f"manage.py {' '.join(arguments)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def run_django(script, env, timeout=180):
    """Runs `script` after django.setup() in a process of its own; returns the JSON it printed last."""
    prelude = "import json\nimport django\ndjango.setup()\n"
    done = subprocess.run([sys.executable, "-c", prelude + script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        pytest.fail(f"the Django script failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class LivePortal:
    """`gunicorn ami.wsgi` (`workers` processes of four threads) on a free port, with `env`; logs to `log`."""

    def __init__(self, env, log, workers=2):
        self.env, self.log, self.port, self.process = env, Path(log), free_port(), None
        self.workers = workers
        self.url = f"http://127.0.0.1:{self.port}"

    def _answers(self):
        try:  # the first request of a process imports every view: seconds
            requests.get(f"{self.url}/healthz", timeout=60)
        except requests.RequestException:
            return False
        return True

    def start(self):
        command = [sys.executable, "-m", "gunicorn", "ami.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
                   "--workers", str(self.workers), "--worker-class", "gthread", "--threads", "4", "--timeout", "60",
                   "--graceful-timeout", "5", "--control-socket", str(self.log.with_suffix(".ctl"))]
        with open(self.log, "a") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + 60
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"gunicorn did not start:\n{tail(self.log)}")
            time.sleep(0.2)

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)  # gunicorn's quick shutdown
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
