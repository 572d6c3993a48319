"""The tamper-evident audit trail: append with record(), check with verify().

Each entry stores the SHA-256 of its own content joined to the previous entry's hash, so changing,
deleting or inserting a row anywhere breaks every hash after it.
"""

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from ami.models import AuditEvent

GENESIS = "0" * 64
# The key of the PostgreSQL advisory lock that serialises appends (any constant unique to this use).
CHAIN_LOCK_KEY = 0x414D4941  # "AMIA"


def _canonical(value):
    """JSON with sorted keys and no spaces: the same content always hashes the same way."""
    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(event, prev_hash):
    content = {
        "at": event.at.isoformat(),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "call": event.call_id,
        "target": [event.target_type, event.target_id],
        "before": event.before,
        "after": event.after,
    }
    return hashlib.sha256(f"{prev_hash}|{_canonical(content)}".encode()).hexdigest()


def _target(target):
    if target is None:
        return "", ""
    return target._meta.label_lower, str(target.pk)


def _json_safe(value):
    return json.loads(_canonical(value or {}))


@transaction.atomic(savepoint=False)  # inside the change's transaction: a failure here rolls all of it back
def record(*, action, actor=None, call=None, target=None, before=None, after=None):
    """Appends one AuditEvent and returns it.

    Side effects: takes the chain's lock until the end of the transaction (appends are serialised, so the
    chain never forks) and inserts one row. Call it inside the transaction of the change it records.
    """
    _lock_chain()
    prev_hash = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
    target_type, target_id = _target(target)
    event = AuditEvent(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=getattr(actor, "email", "") or "",
        action=action,
        call=call,
        target_type=target_type,
        target_id=target_id,
        before=_json_safe(before),
        after=_json_safe(after),
        prev_hash=prev_hash,
    )
    event.hash = entry_hash(event, prev_hash)
    event.save()
    return event


def _lock_chain():
    """Serialises appends. A row lock on the last entry would not do: a second transaction waiting on it
    would, once the first commits, still read that same entry as the last one and fork the chain. After
    an advisory lock, the next statement sees the newest committed entry (READ COMMITTED). SQLite runs one
    writing transaction at a time (IMMEDIATE transactions, see settings), which serialises by itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def verify(events=None):
    """Recomputes the chain; returns (ok, id of the first broken entry or None, number of entries checked)."""
    events = events if events is not None else AuditEvent.objects.order_by("id").iterator()
    prev_hash, count = GENESIS, 0
    for event in events:
        count += 1
        if event.prev_hash != prev_hash or entry_hash(event, prev_hash) != event.hash:
            return False, event.pk, count
        prev_hash = event.hash
    return True, None, count


def history(target):
    """The audit entries of one object, oldest first."""
    target_type, target_id = _target(target)
    return AuditEvent.objects.filter(target_type=target_type, target_id=target_id).select_related("actor")
