"""What every signed-in request reads (its user, its second-factor device, its jury seat) kept in the memory of
each process, checked against version counters in the shared cache on every request.

A signed-in request used to cost three database queries before its view did anything: the user, the device
that gave the second factor, and for the jury's pages the juror's seat (with its call). Those rows change
rarely; the request still has to see a change at once (an account deactivated, a password changed, a device
removed, a seat withdrawn). So each process remembers the rows it loaded, with the versions they were read
under, and serves them again only while those versions are still the current ones:
- the user's version, a counter in the shared cache, bumped now and again after the commit of any change to
  the user's row, to any of their second-factor devices, or to any of their jury seats (groups and
  permissions are not remembered: Django reads them afresh for each request that asks) (signals wired in
  `AmiConfig.ready`; code that changes those rows with `QuerySet.update()` calls `bump_user()` itself);
- a global version, bumped when the cache comes back after an outage (the bumps made meanwhile went to
  one process's memory only). While Redis is unreachable nothing remembered is served (each process
  that tries Redis and fails reads the database); after it comes back, a process that was idle during the
  outage could serve what it remembered until the process that made a change meanwhile reaches Redis again,
  with its next request, and bumps the global version (the same window applies to sessions, ami/sessions.py);
- whether the user sits on any jury (asked by every signed-in request: the second factor is required of
  jurors, and the header links to the jury's pages), under the user's versions too;
- for a seat, also its call's version, bumped by any change to the call's row (not by the reviews: a
  juror's seat stays remembered while the jury works).
Reading the versions costs one round trip to the cache instead of a query per row. Nothing secret goes to
the cache: it holds counters only; the rows stay in the memory of the process that read them (MAX_ENTRIES
of them, the least recently used forgotten first), and each request gets instances of its own, rebuilt from
the remembered column values.

Only a cache shared by every process and answering now is trusted (Redis, not degraded); otherwise, and
for a cache private to each process unless SINGLE_PROCESS_CACHE says the site runs in one process, every
request reads the database as before.
"""

import threading
import time
from collections import OrderedDict

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.core.cache import cache
from django.db import transaction

from ami import cache as shared_cache

MAX_ENTRIES = 5000
GLOBAL_KEY = "auth-memo:global"

_lock = threading.Lock()
_memo = OrderedDict()  # key -> (versions, model, field names, values, extra)


def _user_key(user_id):
    return f"auth-memo:user:{user_id}"


def call_key(call_id):
    """The version of a call's row, for the remembered jury seats (which carry their call)."""
    return f"auth-memo:call:{call_id}"


def _fresh_version():
    return time.time_ns() // 1000


def usable():
    """A cache that every process shares and that answers now (see the module docstring)."""
    return shared_cache.trusted()


def _bump(key):
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, _fresh_version(), timeout=None)


def bump_user(user_id, using=None):
    """Makes what this user's requests remember stale: now, and again after the commit (a request that read the
    old rows in between remembered them under a version that is then gone)."""
    if user_id is None:
        return
    _bump(_user_key(user_id))
    transaction.on_commit(lambda: _bump(_user_key(user_id)), using=using)


def bump_global():
    _bump(GLOBAL_KEY)


def versions(keys):
    """The current values of these counters, in one round trip (a missing counter is started), or None when the
    cache failed meanwhile (then nothing remembered may be trusted)."""
    errors = shared_cache.state()["errors"]
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, _fresh_version(), timeout=None)
            found[key] = cache.get(key, 0)
    if shared_cache.state()["errors"] != errors:
        return None
    return tuple(found[key] for key in keys)


def user_versions(user_id):
    return versions([_user_key(user_id), GLOBAL_KEY])


def _store(key, entry):
    with _lock:
        _memo[key] = entry
        _memo.move_to_end(key)
        while len(_memo) > MAX_ENTRIES:
            _memo.popitem(last=False)


def _entry(key, current):
    """The entry of `key` if it was kept under the versions `current` (the most recently used from now), else None."""
    if current is None:
        return None
    with _lock:
        entry = _memo.get(key)
        if entry is not None:
            _memo.move_to_end(key)
    return entry if entry is not None and entry[0] == current else None


def remember(key, current, instance, extra=None):
    """Keeps the concrete column values of `instance` under `key`, valid while the versions are `current`."""
    if current is None:
        return
    names = tuple(field.attname for field in instance._meta.concrete_fields)
    _store(key, (current, type(instance), names, tuple(getattr(instance, name) for name in names), extra))


def recall(key, current):
    """A new instance rebuilt from what `key` remembers if it was read under the versions `current`, with the
    extra value kept beside it; (None, None) otherwise."""
    entry = _entry(key, current)
    if entry is None or entry[1] is None:
        return None, None
    _versions, model, names, values, extra = entry
    return model.from_db("default", names, values), extra


def remember_value(key, current, value):
    """Keeps a plain value derived from remembered rows (say, whether the user sits on a jury) under `key`."""
    if current is not None:
        _store(key, (current, None, (), value, None))


def recall_value(key, current):
    """(True, value) when `key` keeps a value read under the versions `current`; (False, None) otherwise."""
    entry = _entry(key, current)
    if entry is None or entry[1] is not None:
        return False, None
    return True, entry[3]


def peek(key):
    """What `key` remembers, whatever its versions: (versions, extra) or (None, None)."""
    with _lock:
        entry = _memo.get(key)
    return (entry[0], entry[4]) if entry else (None, None)


def forget_all():
    with _lock:
        _memo.clear()


def _on_user_change(sender, instance, using=None, **kwargs):
    bump_user(instance.pk, using=using)


def _on_owned_change(sender, instance, using=None, **kwargs):
    bump_user(getattr(instance, "user_id", None), using=using)


def _on_call_change(sender, instance, using=None, **kwargs):
    call_id = instance.pk
    _bump(call_key(call_id))
    transaction.on_commit(lambda: _bump(call_key(call_id)), using=using)


def connect_signals():
    """Wires the bumps (called from AmiConfig.ready)."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ami.models import Call
    from jury.models import JuryMember

    user_model = get_user_model()
    post_save.connect(_on_call_change, sender=Call, dispatch_uid="auth-memo-call-save")
    post_delete.connect(_on_call_change, sender=Call, dispatch_uid="auth-memo-call-delete")
    post_save.connect(_on_user_change, sender=user_model, dispatch_uid="auth-memo-user-save")
    post_delete.connect(_on_user_change, sender=user_model, dispatch_uid="auth-memo-user-delete")
    for model in (TOTPDevice, StaticDevice, JuryMember):
        post_save.connect(_on_owned_change, sender=model, dispatch_uid=f"auth-memo-save-{model.__name__}")
        post_delete.connect(_on_owned_change, sender=model, dispatch_uid=f"auth-memo-delete-{model.__name__}")
    shared_cache.on_recovery(bump_global)
    shared_cache.on_recovery(forget_all)


class ModelBackend(DjangoModelBackend):
    """Django's ModelBackend, whose `get_user` (called by every signed-in request) serves the remembered user
    while its versions are current. The versions read are left on the user (`auth_memo_versions`) for the
    device and seat lookups of the same request."""

    def get_user(self, user_id):
        if not usable():
            return super().get_user(user_id)
        key = ("user", str(user_id))
        current = user_versions(user_id)
        user, _extra = recall(key, current)
        if user is None:
            user = super().get_user(user_id)
            if user is None:
                return None
            remember(key, current, user)
        elif not self.user_can_authenticate(user):
            return None
        user.auth_memo_versions = current
        return user
