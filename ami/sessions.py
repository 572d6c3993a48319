"""Sessions kept in the database and read through the shared cache, safe while Redis is down (SESSION_ENGINE).

Django's `cached_db` store saves each session in the database and in the cache, and reads the cache first:
a signed-in request then costs no session query. Two things make it unsafe as it stands on our cache,
which serves each process from its own memory while Redis is unreachable (ami/cache.py):
- during an outage, a session deleted (logout) or changed in one process would still be read, as it was,
  from another process's memory;
- after the outage, Redis would still hold the sessions as they were before it: a session ended meanwhile
  would come back.
So this store uses the cache only when every process shares it and it answers: with Redis through
ami.cache.RedisCache not degraded (or Django's own RedisCache). Otherwise it reads and writes the database
alone, as the `db` store does. A save or a delete whose cache write did not reach Redis leaves the key in
this process's list of keys to forget, and the first call that reaches Redis again deletes them there
(`ami.cache.on_recovery`). The one case left: a process that ended a session during an outage and
stopped before Redis came back; Redis then holds that session until its expiry (at most
SESSION_COOKIE_AGE, the inactivity timeout, 30 minutes by default).
"""

import threading

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore

from ami import cache as shared_cache

_lock = threading.Lock()
_unsynced = set()  # cache keys of sessions this process saved or deleted while Redis was unreachable


def _forget_unsynced():
    """Recovery hook: deletes from Redis the sessions this process changed while it could not reach it."""
    with _lock:
        keys = list(_unsynced)
        _unsynced.clear()
    if keys:
        from django.conf import settings
        from django.core.cache import caches

        caches[settings.SESSION_CACHE_ALIAS].delete_many(keys)


shared_cache.on_recovery(_forget_unsynced)


class SessionStore(CachedDBStore):
    def _remember_unsynced(self, key):
        if key and isinstance(self._cache, shared_cache.RedisCache):  # Redis, unreachable now: forget it later
            with _lock:
                _unsynced.add(key)

    def _shared(self):
        return shared_cache.is_shared(self._cache)

    def _through_cache(self, operation, key):
        """Runs a cache-backed operation; if Redis failed meanwhile, remembers the key (a function: a new
        session has its key only once saved) to forget later and returns False (what came back is from this
        process's memory)."""
        errors = shared_cache.state()["errors"]
        result = operation()
        if shared_cache.state()["errors"] != errors:
            self._remember_unsynced(key())
            return False, result
        return True, result

    def load(self):
        if not self._shared():
            return DBStore.load(self)
        reached, data = self._through_cache(super().load, lambda: self.cache_key)
        return data if reached else DBStore.load(self)

    def save(self, must_create=False):
        if not self._shared():
            DBStore.save(self, must_create)
            self._remember_unsynced(self.session_key and self.cache_key)
            return
        self._through_cache(lambda: super(SessionStore, self).save(must_create), lambda: self.cache_key)

    def delete(self, session_key=None):
        key = session_key or self.session_key
        if not self._shared():
            DBStore.delete(self, session_key)
            self._remember_unsynced(key and self.cache_key_prefix + key)
            return
        if key:
            self._through_cache(lambda: super(SessionStore, self).delete(session_key),
                                lambda: self.cache_key_prefix + key)
        else:
            super().delete(session_key)

    def exists(self, session_key):
        if not self._shared():
            return DBStore.exists(self, session_key)
        return super().exists(session_key)
