"""jury/dashboard_cache.py: the juror's dashboard served from the cache, never stale, never someone else's."""

import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ami.models import CallStatus
from ami.services import transition_call
from jury import dashboard_cache
from jury.models import JuryMember, ReviewStatus
from jury.services import conflicts as conflict_services
from jury.services import reviews as review_services
from tests.ami.factories import UserFactory
from tests.applications.factories import ProposalFactory
from tests.jury import test_reviewer_views as reviewer
from tests.jury.factories import ReviewFactory
from tests.jury.test_reviewer_views import accepted, submit_snapshot, text

call, proposal, juror = reviewer.call, reviewer.proposal, reviewer.juror  # the fixtures, for this module

pytestmark = pytest.mark.django_db


def dashboard(client, call, query=""):
    response = client.get(f"/jury/{call.slug}/{query}")
    assert response.status_code == 200
    return response


def rows(response):
    return re.findall(r'<tr class="assigned-row" id="proposal-(\d+)">', text(response))


def test_the_second_request_is_served_from_the_cache_with_the_same_page(client, juror, call):
    client.force_login(juror)
    first = dashboard(client, call)
    second = dashboard(client, call)
    assert first["X-Page-Cache"] == "miss" and second["X-Page-Cache"] == "hit"
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", text(first)) == strip.sub("", text(second))
    assert "Tri des signalements sanitaires" in text(second)


def test_a_hit_runs_no_query_but_the_session_when_the_cache_is_not_redis(client, juror, call):
    """The user, the second-factor device and the seat come from the process's memory (ami/auth_memo.py), the
    page from the cache; the session too when the cache is Redis (ami/sessions.py), else from the database."""
    client.force_login(juror)
    dashboard(client, call)
    with CaptureQueriesContext(connection) as queries:
        assert dashboard(client, call)["X-Page-Cache"] == "hit"
    tables = [re.search(r'FROM "(\w+)"', query["sql"]).group(1) for query in queries.captured_queries]
    assert tables == ([] if isinstance(caches["default"], RedisCache) else ["django_session"])


def test_the_page_carries_the_visitors_own_csrf_token_never_the_placeholder(juror, call):
    client = Client(enforce_csrf_checks=True)
    client.force_login(juror)
    dashboard(client, call)
    hit = dashboard(client, call)
    assert hit["X-Page-Cache"] == "hit"
    assert dashboard_cache.CSRF_PLACEHOLDER not in text(hit)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text(hit)).group(1)
    # The logout form of the cached page works: the token matches this visitor's CSRF cookie.
    response = client.post("/compte/deconnexion/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert client.get(f"/jury/{call.slug}/").status_code == 302  # signed out: to the login page


def test_a_submitted_review_shows_at_once(client, juror, call, proposal):
    client.force_login(juror)
    assert 'id="count-submitted">Soumises : 0' in text(dashboard(client, call))
    review = JuryMember.objects.get(user=juror).reviews.get()
    data = {"scores": {c.pk: {"value": 4, "comment": "Bien."} for c in call.criteria.all()},
            "overall_opinion": "Bon projet.", "recommendation": "yes"}
    review_services.save_review(review=review, data=data, by=juror)
    assert review_services.submit_review(review=review, by=juror)  # an UPDATE: bumped by the service itself
    after = dashboard(client, call)
    assert after["X-Page-Cache"] == "miss"
    assert 'id="count-submitted">Soumises : 1' in text(after)


def test_a_new_assignment_a_conflict_and_a_new_snapshot_show_at_once(client, juror, call, proposal):
    member = JuryMember.objects.get(user=juror)
    client.force_login(juror)
    assert rows(dashboard(client, call)) == [str(proposal.pk)]
    second = ProposalFactory(call=call, reference="AMI2019-0002", title="Aide à l'instruction des dossiers")
    submit_snapshot(second)
    ReviewFactory(proposal=second, juror=member, status=ReviewStatus.ASSIGNED)
    assert rows(dashboard(client, call)) == [str(proposal.pk), str(second.pk)]
    second.title = "Titre du brouillon"
    second.save()
    submit_snapshot(second, number=2)  # what the jury reads is the latest snapshot
    assert "Titre du brouillon" in text(dashboard(client, call))
    conflict_services.add_staff_conflict(juror=member, proposal=second, reason="Ancien directeur",
                                         by=UserFactory(is_staff=True))
    page = dashboard(client, call)
    assert rows(page) == [str(proposal.pk)]
    assert "Titre du brouillon" not in text(page)


def test_a_phase_change_and_a_renamed_administration_show_at_once(client, juror, call, proposal):
    client.force_login(juror)
    assert 'id="phase-notice"' not in text(dashboard(client, call))
    transition_call(call=call, to_status=CallStatus.DELIBERATION, by=UserFactory(is_staff=True))
    assert 'id="phase-notice"' in text(dashboard(client, call))
    administration = proposal.administration
    administration.name = "Direction générale de la santé (DGS)"
    administration.save()
    assert "Direction générale de la santé (DGS)" in text(dashboard(client, call))


def test_each_juror_filter_and_language_has_its_own_page(client, juror, call, proposal):
    other = accepted(call=call, user__email="autre@example.gouv.fr")
    client.force_login(juror)
    mine = dashboard(client, call)
    assert rows(mine) == [str(proposal.pk)]
    assert rows(dashboard(client, call, "?parcours=scientifique")) == []
    english = client.get(f"/jury/{call.slug}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "My reviews" in text(english) or 'lang="en"' in text(english)
    other_client = Client()
    other_client.force_login(other.user)
    theirs = dashboard(other_client, call)
    assert rows(theirs) == [] and "juree@example.gouv.fr" not in text(theirs)
    assert "autre@example.gouv.fr" in text(theirs)


def test_a_pending_message_is_shown_and_that_page_is_not_stored(client, juror, call):
    client.force_login(juror)
    dashboard(client, call)
    storage = CookieStorage(None)
    client.cookies[CookieStorage.cookie_name] = storage._encode([Message(constants.SUCCESS, "Évaluation soumise.")])
    with_message = dashboard(client, call)
    assert "X-Page-Cache" not in with_message
    assert "Évaluation soumise." in text(with_message)
    assert "Évaluation soumise." not in text(dashboard(client, call))


def test_off_when_the_setting_says_zero(client, juror, call, settings):
    settings.JURY_DASHBOARD_CACHE_SECONDS = 0
    client.force_login(juror)
    assert "X-Page-Cache" not in dashboard(client, call)
    assert "X-Page-Cache" not in dashboard(client, call)


def test_a_memory_cache_of_one_process_is_used_only_when_the_site_runs_in_one_process(client, juror, call, settings):
    settings.SINGLE_PROCESS_CACHE = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    client.force_login(juror)
    assert "X-Page-Cache" not in dashboard(client, call)
    assert "X-Page-Cache" not in dashboard(client, call)


def test_an_unreachable_redis_renders_every_request_and_stores_nothing(client, juror, call, settings, monkeypatch):
    from ami import cache as shared_cache
    from tests.servers import free_port

    monkeypatch.setattr(shared_cache, "_state",
                        {"errors": 0, "last_error": "", "down_until": 0.0, "logged_at": 0.0, "outage": False})
    settings.CACHES = {"default": {
        "BACKEND": "ami.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        "OPTIONS": {"socket_connect_timeout": 0.5},
    }}
    client.force_login(juror)
    first = dashboard(client, call)
    second = dashboard(client, call)
    assert "X-Page-Cache" not in first and "X-Page-Cache" not in second
    assert rows(second) and shared_cache.state()["errors"] >= 1


def test_the_global_version_is_bumped_when_redis_comes_back():
    before = cache.get_many([dashboard_cache.GLOBAL_KEY]).get(dashboard_cache.GLOBAL_KEY)
    from ami import cache as shared_cache

    assert dashboard_cache.bump_global in shared_cache._recovery_hooks
    dashboard_cache.bump_global()
    assert cache.get(dashboard_cache.GLOBAL_KEY) != before
