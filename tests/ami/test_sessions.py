"""ami/sessions.py: sessions read through Redis when it is shared and answers, from the database otherwise, and
never brought back by Redis after an outage."""

import time

import pytest
from django.core.cache import caches

from ami import cache as degrading
from ami.sessions import SessionStore
from tests import servers
from tests.servers import free_port

pytestmark = pytest.mark.django_db

throwaway_redis = servers.throwaway_redis  # the fixture, for this module


@pytest.fixture
def fresh_state(monkeypatch):
    monkeypatch.setattr(degrading, "_state",
                        {"errors": 0, "last_error": "", "down_until": 0.0, "logged_at": 0.0, "outage": False})


@pytest.fixture
def redis_sessions(settings, throwaway_redis, fresh_state):
    settings.CACHES = {"default": {"BACKEND": "ami.cache.RedisCache", "LOCATION": throwaway_redis.url,
                                   "KEY_PREFIX": "sessions-test"}}
    return caches["default"]


def signed_in_session():
    session = SessionStore()
    session["_auth_user_id"] = "42"
    session.save()
    return session.session_key


def test_a_shared_redis_serves_the_session_without_a_query(redis_sessions, django_assert_num_queries):
    key = signed_in_session()
    assert redis_sessions.get(SessionStore.cache_key_prefix + key)["_auth_user_id"] == "42"
    with django_assert_num_queries(0):
        assert SessionStore(key).load()["_auth_user_id"] == "42"


def test_the_copy_in_redis_expires_with_the_inactivity_timeout(redis_sessions, settings):
    key = signed_in_session()
    redis_key = redis_sessions.make_and_validate_key(SessionStore.cache_key_prefix + key)
    ttl = redis_sessions._cache.get_client().ttl(redis_key)
    assert settings.SESSION_COOKIE_AGE - 5 <= ttl <= settings.SESSION_COOKIE_AGE


def test_a_logout_deletes_the_session_in_redis_too(redis_sessions):
    key = signed_in_session()
    SessionStore(key).flush()
    assert redis_sessions.get(SessionStore.cache_key_prefix + key) is None
    assert SessionStore(key).load() == {}


def test_a_cache_of_one_process_is_not_used(settings, django_assert_num_queries):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    key = signed_in_session()
    assert caches["default"].get(SessionStore.cache_key_prefix + key) is None
    with django_assert_num_queries(1):
        assert SessionStore(key).load()["_auth_user_id"] == "42"


def test_while_redis_is_unreachable_sessions_come_from_the_database(settings, fresh_state,
                                                                    django_assert_num_queries):
    settings.CACHES = {"default": {"BACKEND": "ami.cache.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
                                   "OPTIONS": {"socket_connect_timeout": 0.5}}}
    key = signed_in_session()  # the database has it; the cache write failed
    assert degrading.degraded()
    with django_assert_num_queries(1):
        assert SessionStore(key).load()["_auth_user_id"] == "42"
    SessionStore(key).flush()  # a logout in another process: this one must not read it from its memory
    assert SessionStore(key).load() == {}


def test_a_session_ended_during_an_outage_does_not_come_back_from_redis(redis_sessions, monkeypatch):
    key = signed_in_session()  # in Redis
    monkeypatch.setattr(degrading, "_state", {**degrading._state, "down_until": time.monotonic() + 60,
                                             "outage": True})  # this process cannot reach Redis for now
    SessionStore(key).flush()  # the logout reaches the database only; Redis still holds the old session
    assert redis_sessions._cache.get(redis_sessions.make_and_validate_key(SessionStore.cache_key_prefix + key), None)
    assert SessionStore(key).load() == {}
    monkeypatch.setattr(degrading, "_state", {**degrading._state, "down_until": 0.0})
    redis_sessions.get("anything")  # the first call that reaches Redis again
    assert redis_sessions.get(SessionStore.cache_key_prefix + key) is None
    assert SessionStore(key).load() == {}
