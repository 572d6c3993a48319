"""What bench/web.py and bench/rush.py share: their own database, gunicorn, and real HTTP clients.

- `Site`: a database of the benchmark's own (`ami_bench_<pid>` on the PostgreSQL server of DATABASE_URL,
  or a SQLite file in a temporary directory with the embedded default's options), migrated, static files
  collected, Django set up in this process for seeding; everything is dropped/removed on exit.
  REDIS_URL is passed through (cache and broker) under keys of this run only, deleted on exit.
- `Gunicorn`: `gunicorn ami.wsgi`, WORKERS = 2 × cores + 1 sync workers (gunicorn's own advice),
  DEBUG off, a random SECRET_KEY, ALLOWED_HOSTS=127.0.0.1, settings bench.settings_bench (ami.settings
  plus the bare floor view). Requests carry `X-Forwarded-Proto: https` as behind the production proxy,
  so the production settings (SSL redirect, secure cookies, CSRF origin checks) stay as they are.
- `request()`: one HTTP/1.1 request on a fresh connection (the sync workers close it after each
  response), stdlib sockets only; `hammer()`: C concurrent clients for S seconds, in several
  processes so that the client is not the bottleneck.
"""

import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse, urlunparse

import _common  # noqa: F401  (puts the repository on sys.path)

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2 * (os.cpu_count() or 1) + 1
HOST = "127.0.0.1"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def percentile(values, q):
    """The q-th percentile (0–100) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def _exit_on_signal(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")


class Site:
    """The benchmark's own database, media and static directories and environment (a context manager)."""

    def __init__(self, name):
        self.name = name
        self.tmp = Path(tempfile.mkdtemp(prefix=f"ami-bench-{name}-"))
        self.run_id = f"{name}-{os.getpid()}"
        self.server_url = os.environ.get("DATABASE_URL", "")
        self.redis_url = os.environ.get("REDIS_URL", "")
        self.dbname = f"ami_bench_{os.getpid()}"
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
        self.env.update(
            DJANGO_SETTINGS_MODULE="bench.settings_bench",
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS=HOST,
            BENCH_STATIC_ROOT=str(self.tmp / "static"),
            MEDIA_ROOT=str(self.tmp / "media"),
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            LOG_LEVEL="WARNING",
            CACHE_KEY_PREFIX=f"ami-bench-{self.run_id}",
            CELERY_DEFAULT_QUEUE=f"ami-bench-{self.run_id}",
        )
        self.env.pop("EMAIL_URL", None)
        if self.server_url:
            parsed = urlparse(self.server_url)
            self.env["DATABASE_URL"] = urlunparse(parsed._replace(path=f"/{self.dbname}"))
            self.backend = "postgresql"
        else:
            self.env.pop("DATABASE_URL", None)
            self.env["BENCH_SQLITE"] = str(self.tmp / "db.sqlite3")
            self.backend = "sqlite"
        self.cache = "redis" if self.redis_url else "locmem"

    def _admin(self, sql):
        """One statement on the server's own database (CREATE/DROP DATABASE cannot run in a transaction)."""
        import psycopg2

        parsed = urlparse(self.server_url)
        connection = psycopg2.connect(
            dbname=parsed.path.lstrip("/") or "postgres", user=parsed.username or "", password=parsed.password or "",
            host=parsed.hostname, port=parsed.port or 5432,
        )
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def __enter__(self):
        # A TERM (or an INT, ignored by background jobs) ends the run through __exit__: nothing left behind.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        try:
            return self._setup()
        except BaseException:
            self.__exit__()
            raise

    def _setup(self):
        if self.server_url:
            self._admin(f'CREATE DATABASE "{self.dbname}"')
        os.environ.update(self.env)
        if self.backend == "sqlite":
            os.environ.pop("DATABASE_URL", None)
        import django

        django.setup()
        from django.core.management import call_command

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        log(f"[{self.name}] {self.backend} database, {self.cache} cache: migrated and static files collected "
            f"in {time.perf_counter() - started:.1f} s")
        return self

    def __exit__(self, *exc):
        from django.apps import apps

        if apps.ready:
            from django.db import connections

            connections.close_all()
        if self.server_url:
            self._admin(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
        if self.redis_url:
            import redis

            client = redis.Redis.from_url(self.redis_url)
            keys = list(client.scan_iter(match=f"*ami-bench-{self.run_id}*", count=1000))
            if keys:
                client.delete(*keys)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


class Gunicorn:
    """`gunicorn ami.wsgi` on a free port, for a `with` block; its log goes to a file shown on failure."""

    def __init__(self, site, workers=WORKERS):
        self.site, self.workers = site, workers
        self.port = None
        self.process = None
        self.log_path = site.tmp / "gunicorn.log"

    def __enter__(self):
        from django.db import connections

        connections.close_all()  # nothing of this process's connections goes to the server's processes
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            self.port = probe.getsockname()[1]
        command = [
            str(Path(sys.executable).parent / "gunicorn"), "ami.wsgi",
            "--bind", f"{HOST}:{self.port}", "--workers", str(self.workers), "--chdir", str(ROOT),
            "--backlog", "2048", "--timeout", "120", "--log-level", "warning",
        ]
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, env=self.site.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if request(self.port, "GET", "/bench/floor/", timeout=2).status == 200:
                    log(f"[{self.site.name}] gunicorn ready on port {self.port}, {self.workers} workers")
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"gunicorn did not start:\n{self.log_path.read_text()[-3000:]}")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()  # the master stops its own workers
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()
            if os.environ.get("BENCH_SERVER_LOG"):  # keep gunicorn's log (the temporary directory goes)
                shutil.copy(self.log_path, os.environ["BENCH_SERVER_LOG"])
        return False

    def worker_pids(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def cpu_seconds(self):
        """CPU time (user + system) used so far by the master and the live workers; 0 where /proc is missing."""
        total = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        return total / os.sysconf("SC_CLK_TCK")

    def log_tail(self, chars=2000):
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


# HTTP


class Response:
    __slots__ = ("status", "headers", "body", "seconds")

    def __init__(self, status, headers, body, seconds):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    def cookies(self):
        """The name=value pairs of the Set-Cookie headers."""
        jar = {}
        for name, value in self.headers:
            if name == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                jar[key.strip()] = val.strip().strip('"')
        return jar

    def header(self, wanted, default=""):
        return next((value for name, value in self.headers if name == wanted), default)


def build(method, path, *, port, cookies=None, headers=None, form=None):
    """The bytes of one request as a browser behind the HTTPS proxy sends it."""
    body = urlencode(form).encode() if form is not None else b""
    lines = [
        f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: close", "X-Forwarded-Proto: https",
        "Accept-Language: fr-FR,fr;q=0.9", "User-Agent: ami-bench",
    ]
    if cookies:
        lines.append("Cookie: " + "; ".join(f"{key}={value}" for key, value in cookies.items()))
    if form is not None:
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def send(port, raw, timeout=30):
    """Sends raw request bytes on a new connection; returns a Response (raises OSError on network errors)."""
    started = time.perf_counter()
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(raw)
        chunks = []
        while True:
            chunk = sock.recv(262144)
            if not chunk:
                break
            chunks.append(chunk)
    seconds = time.perf_counter() - started
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        raise OSError(f"malformed response: {data[:80]!r}")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return Response(int(lines[0].split()[1]), headers, body, seconds)


def request(port, method, path, *, timeout=30, **kwargs):
    return send(port, build(method, path, port=port, **kwargs), timeout=timeout)


# Load


def _client_process(port, raws, threads, seconds, queue, seed):
    stop_at = time.perf_counter() + seconds
    lock = threading.Lock()
    latencies, statuses, errors = [], {}, []

    def loop(offset):
        mine_lat, mine_status = [], {}
        index = offset
        while time.perf_counter() < stop_at:
            raw = raws[index % len(raws)]
            index += 1
            try:
                response = send(port, raw)
            except OSError as error:
                with lock:
                    errors.append(type(error).__name__)
                continue
            mine_lat.append(response.seconds)
            mine_status[response.status] = mine_status.get(response.status, 0) + 1
        with lock:
            latencies.extend(mine_lat)
            for status, count in mine_status.items():
                statuses[status] = statuses.get(status, 0) + count

    pool = [threading.Thread(target=loop, args=(seed * 1000 + n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    queue.put((latencies, statuses, errors))


def hammer(port, raws, *, concurrency, seconds, processes=None):
    """`concurrency` clients sending the requests `raws` (round robin) back to back for `seconds`.

    Returns {"requests", "rps", "p50_ms", "p95_ms", "p99_ms", "statuses", "errors"}.
    """
    processes = processes or max(1, min(os.cpu_count() or 1, concurrency))
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    shares = [concurrency // processes + (1 if n < concurrency % processes else 0) for n in range(processes)]
    started = time.perf_counter()
    children = [
        context.Process(target=_client_process, args=(port, raws, share, seconds, queue, n))
        for n, share in enumerate(shares) if share
    ]
    for child in children:
        child.start()
    results = [queue.get() for _ in children]
    for child in children:
        child.join()
    elapsed = time.perf_counter() - started
    return summary([value for result in results for value in result[0]], [r[1] for r in results],
                   [error for result in results for error in result[2]], elapsed)


def summary(latencies, status_counts, errors, elapsed):
    statuses = {}
    for counts in status_counts:
        for status, count in counts.items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "statuses": statuses,
        "errors": errors,
        "latencies": latencies,
        "elapsed": elapsed,
    }


def merge(results):
    """One summary of several hammer() results (the latencies pooled, the time summed)."""
    return summary([value for r in results for value in r["latencies"]], [r["statuses"] for r in results],
                   [error for r in results for error in r["errors"]], sum(r["elapsed"] for r in results))


def machine():
    """nproc, memory, CPU model: what docs/benchmarks.md states next to the figures."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {**_common.machine(), "cores": os.cpu_count(), "memory_gib": round(memory, 1), "cpu": model}


def session_cookie(user):
    """A signed-in session for `user`, made directly in the session store (no password hashing at 500 users)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "ami.auth_memo.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if user.is_staff or user.jury_seats.exists():
        # Staff and jurors need a second factor (ami.account_security.otp_required): a confirmed authenticator,
        # as if the code had been typed at login.
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    csrf = secrets.token_hex(16)  # a 32-character CSRF secret, as the csrftoken cookie holds it
    return {settings.SESSION_COOKIE_NAME: session.session_key, settings.CSRF_COOKIE_NAME: csrf}
