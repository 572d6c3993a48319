"""Announcement of 10,000 messages through a local SMTP sink (ami/testing/smtp_sink.py).

With REDIS_URL set, real Celery workers (prefork, 4 processes) send the outbox; otherwise tasks run
in-process, as on the embedded default. Reports messages per second from the click on "announce"
to the last message accepted by the sink, duplicates (deliveries beyond one per outbox row) and lost
messages (rows never accepted by the sink).

    .venv/bin/python bench/announce.py            (PostgreSQL when DATABASE_URL is set)
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import _common
from _database import bench_database, migrate, setup_django

MESSAGES = int(os.environ.get("BENCH_MESSAGES", 10_000))
ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed():
    from datetime import timedelta

    from django.utils import timezone

    from ami.models import Call, CallStatus, Track, User
    from applications.models import Administration, AdministrationKind, Membership, MembershipStatus, Proposal
    from jury.models import Decision, Deliberation, Outcome

    now = timezone.now()
    call = Call.objects.create(
        slug="bench-announce", title="Appel synthétique", reference_prefix="BENCH", description="-",
        eligibility_text="-", opens_at=now - timedelta(days=90), closes_at=now - timedelta(days=60),
        status=CallStatus.DELIBERATION,
    )
    track = Track.objects.create(call=call, code="t", name="Parcours", budget_eur=10**9, max_laureates=MESSAGES)
    users = User.objects.bulk_create(
        (User(email=f"porteur{i}@bench.gouv.fr") for i in range(MESSAGES)), batch_size=5000
    )
    administrations = Administration.objects.bulk_create(
        (Administration(name=f"Administration {i}", kind=AdministrationKind.CENTRAL, ministry="M")
         for i in range(MESSAGES)), batch_size=5000,
    )
    Membership.objects.bulk_create(
        (
            Membership(user=u, administration=a, status=MembershipStatus.ACTIVE)
            for u, a in zip(users, administrations, strict=True)
        ),
        batch_size=5000,
    )
    proposals = Proposal.objects.bulk_create(
        (Proposal(call=call, administration=a, created_by=u, reference=f"BENCH-{i:05d}", title=f"Projet {i}",
                  status="eligible") for i, (u, a) in enumerate(zip(users, administrations, strict=True))),
        batch_size=5000,
    )
    outcomes = [Outcome.LAUREATE, Outcome.WAITING_LIST, Outcome.NOT_SELECTED]
    Decision.objects.bulk_create(
        (Decision(proposal=p, outcome=outcomes[i % 3], track=track, rank=i + 1, score=50, reason="Motif.",
                  granted_amount_eur=100_000 if i % 3 == 0 else None) for i, p in enumerate(proposals)),
        batch_size=5000,
    )
    Deliberation.objects.create(call=call, locked_at=now)
    staff = User.objects.create_user("staff@bench.gouv.fr", "x", is_staff=True)
    return call, staff


def start_worker(url, queue, email_url):
    env = {**os.environ, "DATABASE_URL": url, "CELERY_DEFAULT_QUEUE": queue, "EMAIL_URL": email_url,
           "DJANGO_SETTINGS_MODULE": "ami.settings", "DEBUG": "0"}
    log = tempfile.NamedTemporaryFile(prefix="ami-bench-worker-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ami", "worker", "--pool=prefork", f"--concurrency={WORKERS}",
         "-Q", queue, "-n", f"{queue}@localhost", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    log.close()
    return process, log.name


def main():
    port = free_port()
    sink_file = Path(tempfile.mkdtemp(prefix="ami-bench-sink-")) / "sink.jsonl"
    sink = subprocess.Popen([sys.executable, "-m", "ami.testing.smtp_sink", "--port", str(port), "--out",
                             str(sink_file)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    sink.stdout.readline()
    email_url = f"smtp://127.0.0.1:{port}"
    os.environ["EMAIL_URL"] = email_url
    worker = None
    try:
        with bench_database("announce") as url:
            setup_django(url)
            migrate()
            call, staff = seed()
            from ami.celery import app
            from ami.models import EmailStatus, OutboundEmail
            from ami.testing.smtp_sink import read
            from jury.services.announce import announce_call

            mode = "eager"
            if os.environ.get("REDIS_URL"):
                mode, queue = f"celery prefork ×{WORKERS}", f"bench-{uuid.uuid4().hex[:8]}"
                app.conf.task_default_queue = queue
                worker, log = start_worker(url, queue, email_url)
                deadline = time.monotonic() + 60
                while not app.control.ping(destination=[f"{queue}@localhost"], timeout=0.5):
                    if worker.poll() is not None or time.monotonic() > deadline:
                        sys.exit(f"the worker did not start; see {log}")
            started = time.perf_counter()
            queued = announce_call(call=call, by=staff)
            deadline = time.monotonic() + 540
            while OutboundEmail.objects.filter(status__in=[EmailStatus.QUEUED, EmailStatus.SENDING]).exists():
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            seconds = time.perf_counter() - started
            delivered = read(sink_file)
            per_recipient = Counter(address for record in delivered for address in record["to"])
            expected = set(OutboundEmail.objects.values_list("to", flat=True))
            result = {
                "messages": queued,
                "seconds": round(seconds, 2),
                "per_second": round(queued / seconds, 1),
                "duplicates": sum(count - 1 for count in per_recipient.values() if count > 1),
                "lost": len(expected - set(per_recipient)),
                "sent_rows": OutboundEmail.objects.filter(status=EmailStatus.SENT).count(),
                "mode": mode,
            }
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)
                worker = None
    finally:
        if worker is not None:
            worker.kill()
        sink.terminate()
        sink.wait(timeout=10)
        sink.stdout.close()
        sink_file.unlink(missing_ok=True)
        sink_file.parent.rmdir()
    _common.emit({**result, **_common.machine()})


if __name__ == "__main__":
    main()
