"""The outbox with real Celery workers through Redis and a real SMTP conversation (a local sink).

Each test starts its own worker (prefork, two processes) so that it can kill it with SIGKILL.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter

import pytest
from django.db import transaction

from ami.mail import queue_rendered
from ami.models import EmailStatus, OutboundEmail
from ami.tasks import flush_outbox, send_email
from ami.testing import smtp_sink
from tests.conftest import ROOT, start_worker, wait_for_worker, worker_database_url, worker_environment

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate, timeout, message):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(message)
        time.sleep(0.1)


class Harness:
    """A sink and a worker that a test can start, kill and restart."""

    def __init__(self, tmp_path, **sink_options):
        self.database_url = worker_database_url()
        self.port, self.out = free_port(), tmp_path / "sink.jsonl"
        command = [sys.executable, "-m", "ami.testing.smtp_sink", "--port", str(self.port), "--out", str(self.out)]
        command += ["--fail-first", str(sink_options.get("fail_first", 0))]
        for address in sink_options.get("refuse", []):
            command += ["--refuse", address]
        self.sink = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.sink.stdout.readline().startswith("sink listening")
        self.queue = f"outbox-{uuid.uuid4().hex[:8]}"
        self.env = worker_environment(
            self.database_url, self.queue, EMAIL_URL=f"smtp://127.0.0.1:{self.port}", OUTBOX_RETRY_BASE_SECONDS="1"
        )
        self.worker = None

    def start_worker(self):
        self.worker, name = start_worker(self.queue, self.env, pool="prefork", concurrency=2)
        wait_for_worker(self.worker, name, self.queue)

    def kill_worker(self):
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=10)

    def delivered(self):
        return smtp_sink.read(self.out)

    def close(self):
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
        self.sink.terminate()
        self.sink.wait(timeout=10)
        self.sink.stdout.close()


@pytest.fixture
def harness_factory(tmp_path, django_db_setup):
    from ami.celery import app

    made = []
    previous = (app.conf.task_default_queue, app.conf.task_always_eager)

    def make(**sink_options):
        harness = Harness(tmp_path, **sink_options)
        app.conf.task_default_queue, app.conf.task_always_eager = harness.queue, False
        made.append(harness)
        return harness

    yield make
    app.conf.task_default_queue, app.conf.task_always_eager = previous
    for harness in made:
        harness.close()


def settle(harness, quiet_seconds=2.0, timeout=90):
    """Waits until the sink has received nothing new for `quiet_seconds`."""
    deadline, seen, since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = len(harness.delivered())
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_seconds:
            return
        time.sleep(0.2)
    pytest.fail("the worker never settled")


def queue_batch(count, prefix="annonce"):
    with transaction.atomic():
        return [
            queue_rendered(key=f"{prefix}:{n}", to=f"porteur{n}@example.gouv.fr", subject=f"Décision {n}",
                           text=f"Bonjour {n}", kind="announce:laureate")[0].pk
            for n in range(count)
        ]


def recipients_seen(delivered):
    """{recipient: number of distinct Message-IDs} and the raw number of deliveries."""
    distinct = {(address, record["message_id"]) for record in delivered for address in record["to"]}
    return Counter(address for address, _ in distinct), len(delivered)


def test_a_worker_killed_mid_batch_loses_nothing_and_each_recipient_gets_one_message(harness_factory):
    harness = harness_factory()
    count = 400
    queue_batch(count)
    harness.start_worker()
    wait_until(lambda: len(harness.delivered()) >= 20, 60, "the batch did not start")

    harness.kill_worker()
    in_flight = OutboundEmail.objects.filter(status=EmailStatus.SENDING).count()
    assert OutboundEmail.objects.filter(status=EmailStatus.SENT).count() < count  # killed mid-batch indeed

    harness.start_worker()
    # What was prefetched by the dead worker stays unacknowledged in Redis until the visibility timeout:
    # the periodic flush (run here at once) sends those rows from the database.
    settle(harness)
    result = flush_outbox.delay(older_than_seconds=0).get(timeout=120)

    assert result["released"] == in_flight
    assert OutboundEmail.objects.filter(status=EmailStatus.SENT).count() == count
    per_recipient, raw = recipients_seen(harness.delivered())
    assert per_recipient == Counter({f"porteur{n}@example.gouv.fr": 1 for n in range(count)})
    # A row killed between the server's acceptance and its SENT mark is sent again with the same Message-ID:
    # at most one extra delivery per process that was in flight, folded by the recipient's mail client.
    assert raw - count <= in_flight <= 2


def test_a_duplicate_enqueue_sends_once(harness_factory):
    harness = harness_factory()
    ids = queue_batch(20, prefix="double")
    for email_id in ids:
        send_email.delay(email_id=email_id)
        send_email.delay(email_id=email_id)
    harness.start_worker()

    wait_until(lambda: OutboundEmail.objects.filter(status=EmailStatus.SENT).count() == 20, 60, "not all sent")
    time.sleep(1)  # the extra tasks run and find their rows sent
    per_recipient, raw = recipients_seen(harness.delivered())
    assert raw == 20
    assert set(per_recipient.values()) == {1}


def test_an_smtp_server_in_trouble_then_back_delivers_everything_once(harness_factory):
    harness = harness_factory(fail_first=5)
    queue_batch(12, prefix="panne")
    harness.start_worker()

    wait_until(lambda: OutboundEmail.objects.filter(status=EmailStatus.SENT).count() == 12, 90,
               "the retries did not deliver everything")
    per_recipient, raw = recipients_seen(harness.delivered())
    assert raw == 12
    assert len(per_recipient) == 12
    assert OutboundEmail.objects.filter(attempts__gt=1).count() == 5


def test_a_bouncing_recipient_is_marked_failed_and_the_others_leave(harness_factory):
    harness = harness_factory(refuse=["porteur3@example.gouv.fr"])
    queue_batch(6, prefix="rebond")
    harness.start_worker()

    wait_until(lambda: not OutboundEmail.objects.filter(status__in=[EmailStatus.QUEUED, EmailStatus.SENDING]).exists(),
               60, "the batch did not settle")
    failed = OutboundEmail.objects.get(status=EmailStatus.FAILED)
    assert (failed.to, failed.attempts) == ("porteur3@example.gouv.fr", 1)
    assert "550" in failed.last_error
    assert len(harness.delivered()) == 5
