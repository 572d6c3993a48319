import pytest
from django.core.management import CommandError, call_command

from ami import audit
from ami.models import AuditEvent
from tests.ami.factories import CallFactory, UserFactory

pytestmark = pytest.mark.django_db


def _three_events():
    user, call = UserFactory(), CallFactory()
    return [
        audit.record(action="call.created", actor=user, call=call, target=call, after={"title": call.title}),
        audit.record(action="call.edited", actor=user, call=call, target=call, before={"a": 1}, after={"a": 2}),
        audit.record(action="call.opened", actor=None, call=call, target=call),
    ]


def test_each_entry_chains_to_the_previous_one():
    first, second, third = _three_events()

    assert first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert audit.verify() == (True, None, 3)


def test_records_who_what_and_on_which_object():
    first, _, third = _three_events()

    assert (first.action, first.target_type, first.target_id) == ("call.created", "ami.call", str(first.call_id))
    assert first.actor_label == first.actor.email
    assert (third.actor, third.actor_label) == (None, "")


def test_altering_a_past_entry_is_detected():
    first, second, _ = _three_events()
    AuditEvent.objects.filter(pk=first.pk).update(after={"title": "autre chose"})

    assert audit.verify() == (False, first.pk, 1)


def test_deleting_an_entry_is_detected():
    _, second, third = _three_events()
    AuditEvent.objects.filter(pk=second.pk).delete()

    assert audit.verify() == (False, third.pk, 2)


def test_rehashing_an_altered_entry_still_breaks_the_next_one():
    first, second, _ = _three_events()
    first.after = {"title": "falsifié"}
    first.hash = audit.entry_hash(first, first.prev_hash)
    AuditEvent.objects.filter(pk=first.pk).update(after=first.after, hash=first.hash)

    assert audit.verify() == (False, second.pk, 2)


def test_history_lists_the_entries_of_one_object():
    first, second, third = _three_events()
    other = audit.record(action="call.created", target=CallFactory())

    assert list(audit.history(first.call)) == [first, second, third]
    assert other not in audit.history(first.call)


def test_verify_audit_command(capsys):
    first, *_ = _three_events()
    call_command("verify_audit")
    assert "3 entries checked" in capsys.readouterr().out

    AuditEvent.objects.filter(pk=first.pk).update(action="call.deleted")
    with pytest.raises(CommandError, match=f"broken at entry {first.pk}"):
        call_command("verify_audit")


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain():
    """Eight threads append at once on PostgreSQL: every entry must still chain to the one before it."""
    import threading

    from django.db import connection, connections

    from tests.conftest import need_service

    if connection.vendor != "postgresql":
        need_service("DATABASE_URL on PostgreSQL (concurrent transactions)")
    call = CallFactory()
    barrier = threading.Barrier(8)
    errors = []

    def append(n):
        try:
            barrier.wait()
            for i in range(10):
                audit.record(action="test.concurrent", call=call, after={"thread": n, "i": i})
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert audit.verify() == (True, None, 80)
    assert AuditEvent.objects.values("prev_hash").distinct().count() == 80
