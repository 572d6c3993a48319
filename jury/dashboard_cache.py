"""A cache of each juror's dashboard page (issue 3: a personal dashboard at a quarter of a bare view's speed).

Rendering the dashboard (its table, the filters, the DSFR header and footer) costs about thirty times what
the middleware costs; the page only changes when something it shows changes. So the rendered page is kept
in the shared cache under a key that names everything it depends on, and a request still goes through
every check first: the session, the second factor, the juror's seat on this call's jury (404 otherwise)
and the charter. Only then is the stored page served.

The key: `jury-dashboard:<seat>:<call stamp>:<user>:<language>:<day>:<query>`; the entry also carries the
two versions it was rendered under, and is served only while both are still current (the versions and the
entry come back in one round trip).
- the seat, and the call's creation and last-change stamps (a saved call changes the key by itself);
- the call version: a counter in the cache, bumped after the commit of any change to the call's reviews,
  conflicts, jury seats, proposals, submissions or tracks (signals wired in `JuryConfig.ready`, so the
  Celery workers and the management commands bump it too; code that changes those rows with
  `QuerySet.update()` calls `bump_call()` itself);
- the global version, bumped when an administration is renamed (its name is in the table);
- the user's e-mail address and staff flag (the header shows them), the language, today's date in
  Paris (the days left before the review deadline), and the filters of the query string.
A request with a pending message is rendered (the message is shown once, then the page is cached again);
the CSRF token of the page's forms is a placeholder in the stored page, replaced by the visitor's own
token in each response, as for the public pages (ami/page_cache.py).

Nothing is stale: the counters are read from the cache on every request (one round trip for both), not
remembered by the process; a change bumps its counter at once and again after its commit (a request that
rendered the old rows in between stored its page under a version that is already gone). Only a cache all
processes share is used: with Redis unreachable (`ami.cache` serving each process from its own memory)
every request renders the page, and the first call that reaches Redis again bumps the global version,
since the bumps made meanwhile went to one process's memory. Without Redis (LocMemCache) the cache is
used only when SINGLE_PROCESS_CACHE says the site runs in one process (`make run`, the tests).
JURY_DASHBOARD_CACHE_SECONDS (600 by default) bounds how long an entry stays; 0 turns the cache off.
"""

import hashlib
import time
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.translation import get_language

from ami import cache as shared_cache

CSRF_PLACEHOLDER = "ami-jury-dashboard-csrf-placeholder"
GLOBAL_KEY = "jury-dashboard:global"


def call_key(call_id):
    return f"jury-dashboard:call:{call_id}"


def _fresh_version():
    # A time-based start: if a counter is ever evicted, the new one never meets an old key again.
    return time.time_ns() // 1000


def _bump(key):
    try:
        cache.incr(key)
    except ValueError:  # not in the cache (never set, evicted, or the cache was unreachable)
        cache.set(key, _fresh_version(), timeout=None)


def bump_call(call_id):
    """Makes the dashboards of every juror of the call stale (call it after the change is committed)."""
    _bump(call_key(call_id))


def bump_call_on_commit(call_id, using=None):
    """Bumps now and again after the commit: a request that rendered the old rows between the two (under the
    first new version) cannot leave its page in use; and code inside a transaction that never commits (a
    test) still sees its change."""
    bump_call(call_id)
    transaction.on_commit(lambda: bump_call(call_id), using=using)


def bump_global():
    _bump(GLOBAL_KEY)


def _lookup(seat, page_key):
    """The call's and the global counters and the stored page, in one round trip: (versions, entry or None).
    A missing counter is started (then no stored page can match it)."""
    version_keys = [call_key(seat.call_id), GLOBAL_KEY]
    found = cache.get_many([*version_keys, page_key])
    versions = []
    for key in version_keys:
        if key not in found:
            cache.add(key, _fresh_version(), timeout=None)
            found[key] = cache.get(key, 0)
        versions.append(found[key])
    return versions, found.get(page_key)


def _call_id(instance):
    """The call a saved or deleted row belongs to (Call, Track, Proposal, JuryMember carry it; Submission, Review
    and Conflict through their proposal, usually already loaded); None when that proposal is gone, whose own
    deletion bumped the call."""
    from django.core.exceptions import ObjectDoesNotExist

    from ami.models import Call

    if isinstance(instance, Call):
        return instance.pk
    if hasattr(instance, "call_id"):
        return instance.call_id
    try:
        return instance.proposal.call_id
    except ObjectDoesNotExist:
        return None


def _on_change(sender, instance, using=None, **kwargs):
    call_id = _call_id(instance)
    if call_id is not None:
        bump_call_on_commit(call_id, using=using)


def _on_administration_change(sender, instance, using=None, **kwargs):
    bump_global()
    transaction.on_commit(bump_global, using=using)


def connect_signals():
    """Wires the bumps to the models the dashboard shows (called from JuryConfig.ready)."""
    from ami.models import Call, Track
    from applications.models import Administration, Proposal, Submission
    from jury.models import Conflict, JuryMember, Review

    for model in (Call, Track, Proposal, Submission, Review, Conflict, JuryMember):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"jury-dashboard-save-{model.__name__}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"jury-dashboard-delete-{model.__name__}")
    post_save.connect(_on_administration_change, sender=Administration, dispatch_uid="jury-dashboard-admin")
    shared_cache.on_recovery(bump_global)


def _usable():
    """A cache that every process shares and that answers now: Redis through ami.cache.RedisCache, not degraded
    (a process serving from its own memory would keep pages that another process's change cannot reach).
    A cache of one process (LocMemCache) only when SINGLE_PROCESS_CACHE says the site runs in one
    process (the tests, `runserver`)."""
    return settings.JURY_DASHBOARD_CACHE_SECONDS > 0 and shared_cache.trusted()


def is_cacheable(request):
    if request.method not in ("GET", "HEAD") or not _usable():
        return False
    return len(messages.get_messages(request)) == 0  # len() reads the messages without consuming them


def _key(request, seat):
    """The page's key without the versions: the stored entry carries the versions it was rendered under."""
    call, user = seat.call, request.user
    query = hashlib.sha256(request.META.get("QUERY_STRING", "").encode()).hexdigest()[:16]
    person = hashlib.sha256(f"{user.pk}:{user.email}:{user.is_staff}".encode()).hexdigest()[:16]
    stamp = f"{call.pk}.{call.created_at.timestamp()}.{call.updated_at.timestamp()}"
    return f"jury-dashboard:{seat.pk}:{stamp}:{person}:{get_language()}:{timezone.localdate().isoformat()}:{query}"


def _response(request, entry, state):
    content = entry["content"]
    placeholder = CSRF_PLACEHOLDER.encode()
    if placeholder in content:
        content = content.replace(placeholder, get_token(request).encode())
    response = HttpResponse(content, content_type=entry["content_type"])
    response["X-Page-Cache"] = state
    return response


def cached_dashboard(view):
    """Serves the dashboard view's 200 responses from the cache (see the module docstring). The view receives
    (request, seat) from `juror_view`, which has already checked the seat and the charter."""

    @wraps(view)
    def wrapper(request, seat, **kwargs):
        if not is_cacheable(request):
            return view(request, seat, **kwargs)
        errors = shared_cache.state()["errors"]
        key = _key(request, seat)
        versions, entry = _lookup(seat, key)
        if shared_cache.state()["errors"] != errors:  # Redis failed meanwhile: answers come from this process
            return view(request, seat, **kwargs)
        if entry is not None and entry["versions"] == versions:
            return _response(request, entry, "hit")
        request.dashboard_csrf_placeholder = CSRF_PLACEHOLDER
        response = view(request, seat, **kwargs)
        if response.status_code != 200 or response.streaming or response.cookies:
            if not response.streaming:
                response.content = response.content.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())
            return response
        entry = {"content": response.content, "content_type": response["Content-Type"], "versions": versions}
        cache.set(key, entry, settings.JURY_DASHBOARD_CACHE_SECONDS)
        return _response(request, entry, "miss")

    return wrapper


def csrf_context(request):
    """The context entry that puts the placeholder in place of the CSRF token when the page is to be stored."""
    placeholder = getattr(request, "dashboard_csrf_placeholder", None)
    return {"csrf_token": placeholder} if placeholder else {}
