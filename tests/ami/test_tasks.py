"""A task really executed by a worker process through Redis (fails under CI without Redis)."""

import os

import pytest

from ami.tasks import ping
from tests.ami.factories import CallFactory


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_ping_runs_in_a_separate_worker_process_that_reads_the_database(celery_worker_process):
    CallFactory.create_batch(3)
    result = ping.delay().get(timeout=30)
    assert result["pid"] == celery_worker_process["process"].pid
    assert result["pid"] != os.getpid()
    assert result["calls"] == 3


def test_ping_runs_in_process_on_the_embedded_default(db):
    CallFactory()
    assert ping.delay().get(timeout=5)["calls"] == 1
