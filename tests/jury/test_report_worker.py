"""The selection report built by real Celery workers through Redis (fails under CI without Redis/PostgreSQL)."""

import os
import signal
import subprocess
import time
import uuid

import pytest
from django.db import transaction

from ami.celery import app
from ami.models import CallStatus
from jury.models import ReportStatus, SelectionReport
from jury.report.services import request_report
from jury.services.deliberation import decide_call_as_scripted
from tests.ami.factories import CallFactory, CriterionFactory, TrackFactory, UserFactory
from tests.conftest import (
    start_worker,
    stop_worker,
    wait_for_worker,
    worker_database_url,
    worker_environment,
)
from tests.jury.factories import JuryMemberFactory, scored_proposal

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def locked_call(proposals=3):
    call = CallFactory(status=CallStatus.DELIBERATION, score_scale_max=5)
    CriterionFactory(call=call, weight=100)
    track = TrackFactory(call=call, budget_eur=10**7, max_laureates=max(1, proposals // 2))
    chair, member = JuryMemberFactory(call=call, role="chair"), JuryMemberFactory(call=call)
    for n in range(proposals):
        scored_proposal(call=call, track=track, reference=f"W-{n:03d}", marks=[(member, [n % 6])])
    decide_call_as_scripted(call=call, by=chair.user)
    return call


def wait_for(report_id, predicate, timeout, message):
    deadline = time.monotonic() + timeout
    while True:
        report = SelectionReport.objects.get(pk=report_id)
        if predicate(report):
            return report
        if time.monotonic() > deadline:
            pytest.fail(f"{message} (status {report.status}, stage {report.stage!r})")
        time.sleep(0.05)


def test_a_real_worker_builds_the_report_queued_on_commit(celery_worker_process):
    call = locked_call()
    with transaction.atomic():
        report, created = request_report(call=call, by=UserFactory(is_staff=True))
    assert created
    report = wait_for(report.pk, lambda r: r.status == ReportStatus.DONE, 120, "the worker did not build it")
    with report.file.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert report.pages >= 5 and len(report.pdf_sha256) == 64


@pytest.fixture
def prefork_worker():
    """A worker with one pool process of its own, that the test can kill mid-render."""
    database_url = worker_database_url()
    queue = f"report-{uuid.uuid4().hex[:8]}"
    process, name = start_worker(queue, worker_environment(database_url, queue), pool="prefork", concurrency=1)
    previous = (app.conf.task_default_queue, app.conf.task_always_eager)
    app.conf.task_default_queue, app.conf.task_always_eager = queue, False
    try:
        wait_for_worker(process, name, queue)
        yield process
    finally:
        app.conf.task_default_queue, app.conf.task_always_eager = previous
        stop_worker(process)


def pool_children(process):
    output = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in output.split()]


def test_a_pool_process_killed_mid_render_is_redelivered_and_no_half_file_is_offered(prefork_worker):
    call = locked_call(proposals=400)  # a few seconds of layout: time to kill it
    with transaction.atomic():
        report, _created = request_report(call=call, by=UserFactory(is_staff=True))
    wait_for(report.pk, lambda r: r.stage in ("layout", "writing"), 120, "the render did not start")
    for pid in pool_children(prefork_worker):
        os.kill(pid, signal.SIGKILL)
    killed = SelectionReport.objects.get(pk=report.pk)
    assert killed.status == ReportStatus.RUNNING and not killed.file  # nothing to download yet
    report = wait_for(report.pk, lambda r: r.status == ReportStatus.DONE, 180, "the task was not redelivered")
    with report.file.open("rb") as handle:
        data = handle.read()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == report.pdf_sha256 and data.rstrip().endswith(b"%%EOF")
