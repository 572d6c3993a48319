"""A server-side cache of the public pages, for anonymous visitors (issue 3: "cache what is public").

What is cached: the 200 responses of the views decorated with `cache_public_page` (the calls, a call,
its laureates and open data), for GET/HEAD requests without a query string from a visitor who is not
signed in and has no pending message. Everybody else gets the page rendered as before.

The one personal thing on these pages is the CSRF token of the language switch: the page is rendered
with a placeholder (`render` below) and each response gets the visitor's own token, so the CSRF
cookie and the `Vary: Cookie` header are exactly those of an uncached page.

Keys: `public-page:<version>:<language>:<path>`, in the shared cache and, in front of it, in a small
memory of each process (LOCAL_PAGES entries) so that a hit costs no round trip to Redis; an entry
carries its expiry, the same in both. The version is one shared counter in the cache,
bumped after the commit of any change to a call, its tracks, criteria or decisions (signals wired in
`AmiConfig.ready`, so the Celery workers and management commands bump it too). Each process trusts its
copy of the version for LOCAL_VERSION_SECONDS; a process that bumps forgets its copy at once.

How stale a page can be:
- phase, dates, texts, tracks, criteria, laureates: at most LOCAL_VERSION_SECONDS (2 s) after the commit
  when the cache is shared (Redis, production);
- the number of submitted projects and the names of administrations (not watched): at most
  PUBLIC_PAGE_CACHE_SECONDS (60 s by default);
- with a cache private to each process (LocMemCache, without REDIS_URL) a bump reaches only its own
  process, so pages then live at most LOCAL_CACHE_MAX_SECONDS (5 s) whatever the setting.
PUBLIC_PAGE_CACHE_SECONDS=0 turns the cache off (the test settings do, so that tests see fresh pages).
Code that changes these models with `QuerySet.update()` (no signal) calls `bump()` itself.
"""

import hashlib
import time
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render as django_render
from django.utils.translation import get_language

VERSION_KEY = "public-pages:version"
LOCAL_VERSION_SECONDS = 2.0
LOCAL_CACHE_MAX_SECONDS = 5
LOCAL_PAGES = 200
CSRF_PLACEHOLDER = "ami-public-page-csrf-placeholder"
KEPT_HEADERS = ("Content-Type", "Content-Disposition")

_local = {"version": None, "read_at": 0.0}
_local_pages = {}  # key -> entry, oldest first


def _fresh_version():
    # A time-based start: if the counter is ever evicted, the new one never meets an old key again.
    return time.time_ns() // 1000


def current_version():
    """The shared version, read from the cache at most every LOCAL_VERSION_SECONDS by this process."""
    now = time.monotonic()
    if _local["version"] is None or now - _local["read_at"] > LOCAL_VERSION_SECONDS:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, _fresh_version(), timeout=None)
            version = cache.get(VERSION_KEY, 0)
        _local["version"], _local["read_at"] = version, now
    return _local["version"]


def bump():
    """Makes every cached public page stale (call it after the change is committed).

    Side effects: increments the shared version in the cache (or starts a new one), forgets this
    process's copy of it.
    """
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, _fresh_version(), timeout=None)
    _local["version"] = None
    _local_pages.clear()


def bump_on_commit(**kwargs):
    """Signal receiver: bumps the version once the current transaction commits (at once outside one)."""
    transaction.on_commit(bump, using=kwargs.get("using"))


def connect_signals():
    """Wires the bump to the models the public pages show (called from AmiConfig.ready)."""
    from ami.models import Call, Criterion, Track
    from jury.models import Decision

    for model in (Call, Track, Criterion, Decision):
        post_save.connect(bump_on_commit, sender=model, dispatch_uid=f"public-pages-save-{model.__name__}")
        post_delete.connect(bump_on_commit, sender=model, dispatch_uid=f"public-pages-delete-{model.__name__}")


def page_seconds():
    seconds = settings.PUBLIC_PAGE_CACHE_SECONDS
    if isinstance(cache, LocMemCache):
        seconds = min(seconds, LOCAL_CACHE_MAX_SECONDS)
    return seconds


def is_cacheable(request):
    """Anonymous GET/HEAD without query string nor pending message: the page is the same for all such visitors."""
    if settings.PUBLIC_PAGE_CACHE_SECONDS <= 0 or request.method not in ("GET", "HEAD"):
        return False
    if request.META.get("QUERY_STRING"):
        return False
    if settings.SESSION_COOKIE_NAME not in request.COOKIES and CookieStorage.cookie_name not in request.COOKIES:
        return True  # no session: signed out and no message (the quick path of most visitors)
    if request.user.is_authenticated:
        return False
    return len(messages.get_messages(request)) == 0  # len() reads the messages without consuming them


def render(request, template_name, context):
    """django.shortcuts.render, with the CSRF token as a placeholder when the page is to be cached."""
    if getattr(request, "public_page_cache", False):
        context = {**context, "csrf_token": CSRF_PLACEHOLDER}
    return django_render(request, template_name, context)


def _key(request):
    path = hashlib.sha256(request.path.encode()).hexdigest()[:32]
    return f"public-page:{current_version()}:{get_language()}:{path}"


def _get(key):
    """The entry from this process's memory, else from the shared cache (then remembered); None if expired."""
    entry = _local_pages.get(key)
    if entry is None:
        entry = cache.get(key)
        if entry is None:
            return None
        _remember(key, entry)
    if entry.get("expires", 0) <= time.time():
        _local_pages.pop(key, None)
        return None
    return entry


def _remember(key, entry):
    while len(_local_pages) >= LOCAL_PAGES:
        try:
            del _local_pages[next(iter(_local_pages))]
        except (KeyError, StopIteration, RuntimeError):  # another thread of this process got there first
            break
    _local_pages[key] = entry


def _with_token(request, content):
    placeholder = CSRF_PLACEHOLDER.encode()
    return content.replace(placeholder, get_token(request).encode()) if placeholder in content else content


def _response(request, entry, state):
    response = HttpResponse(_with_token(request, entry["content"]))
    for name, value in entry["headers"].items():
        response[name] = value
    response["X-Page-Cache"] = state
    return response


def cache_public_page(view):
    """Serves the view's 200 responses from the cache for anonymous visitors (see the module docstring)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_cacheable(request):
            return view(request, *args, **kwargs)
        key = _key(request)
        entry = _get(key)
        if entry is not None:
            return _response(request, entry, "hit")
        request.public_page_cache = True
        response = view(request, *args, **kwargs)
        if response.status_code != 200 or response.streaming or response.cookies:
            if not response.streaming:
                response.content = _with_token(request, response.content)
            return response
        seconds = page_seconds()
        entry = {"content": response.content, "headers": {h: response[h] for h in KEPT_HEADERS if h in response},
                 "expires": time.time() + seconds}
        cache.set(key, entry, seconds)
        _remember(key, entry)
        return _response(request, entry, "miss")

    return wrapper
