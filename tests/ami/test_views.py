"""Public pages and open data (CONTRACT.md)."""

import csv
import html
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from ami.models import CallStatus
from jury.models import Outcome
from jury.opendata import COLUMNS
from tests.ami.factories import CallFactory, TrackFactory, UserFactory, ready_call
from tests.applications.factories import AdministrationFactory, ProposalFactory
from tests.jury.factories import DecisionFactory

pytestmark = pytest.mark.django_db


def announced_call():
    call = CallFactory(slug="ami-test", status=CallStatus.ANNOUNCED)
    track = TrackFactory(
        call=call, name="Accompagnement technique et métier", budget_eur=3_500_000, max_laureates=11, position=0
    )
    other = TrackFactory(call=call, name="Accompagnement scientifique", budget_eur=500_000, max_laureates=4, position=1)
    admin = AdministrationFactory(name="Direction générale de la santé", kind="central")
    DecisionFactory(
        proposal=ProposalFactory(call=call, administration=admin, reference="AMI-0002", title="Tri des signalements"),
        track=track,
        granted_amount_eur=320_000,
        score=Decimal("91.25"),
        rank=1,
    )
    DecisionFactory(
        proposal=ProposalFactory(call=call, reference="AMI-0001", title="Deuxième"),
        track=track,
        granted_amount_eur=300_000,
        score=Decimal("88.5"),
        rank=2,
    )
    DecisionFactory(
        proposal=ProposalFactory(call=call, reference="AMI-0003", title="Science"),
        track=other,
        granted_amount_eur=120_000,
        score=Decimal("80"),
        rank=1,
    )
    DecisionFactory(
        proposal=ProposalFactory(call=call, reference="AMI-0004", title="Attente"),
        track=track,
        outcome=Outcome.WAITING_LIST,
        granted_amount_eur=None,
        score=Decimal("70"),
        rank=3,
    )
    return call


def test_home_lists_open_calls_first_and_hides_drafts(client):
    CallFactory(
        title="Appel annoncé",
        status=CallStatus.ANNOUNCED,
        opens_at=timezone.now() - timedelta(days=300),
        closes_at=timezone.now() - timedelta(days=200),
    )
    CallFactory(title="Appel ouvert", status=CallStatus.OPEN, opens_at=timezone.now() - timedelta(days=400))
    CallFactory(title="Appel en préparation", status=CallStatus.DRAFT)
    content = client.get("/").content.decode()
    assert content.index("Appel ouvert") < content.index("Appel annoncé")
    assert "Appel en préparation" not in content
    assert "(heure de Paris)" in content


def test_call_page_shows_dates_criteria_weights_and_budgets(client):
    call = ready_call(slug="ami-x", status=CallStatus.OPEN)
    response = client.get("/appels/ami-x/")
    content = response.content.decode()
    assert response.status_code == 200
    for criterion in call.criteria.all():
        assert criterion.title in content
    assert "60&nbsp;%" in content and "40&nbsp;%" in content
    assert "1\u202f000\u202f000\u00a0€" in content
    assert "Qui peut candidater" in content


def test_unknown_slug_and_draft_call_give_the_dsfr_404(client):
    CallFactory(slug="brouillon", status=CallStatus.DRAFT)
    for url in ["/appels/inconnu/", "/appels/brouillon/"]:
        response = client.get(url)
        assert response.status_code == 404
        assert "Page non trouvée" in response.content.decode()


def test_staff_can_preview_a_draft_call(client):
    CallFactory(slug="brouillon", status=CallStatus.DRAFT, title="En préparation")
    client.force_login(UserFactory(is_staff=True))
    assert "En préparation" in client.get("/appels/brouillon/").content.decode()


@pytest.mark.parametrize("suffix", ["laureats/", "laureats.csv", "laureats.json"])
def test_results_are_404_before_announcement(client, suffix):
    call = ready_call(slug="pas-encore", status=CallStatus.DELIBERATION)
    DecisionFactory(proposal=ProposalFactory(call=call), track=call.tracks.get())
    assert client.get(f"/appels/pas-encore/{suffix}").status_code == 404


def test_open_data_csv_columns_and_values(client):
    announced_call()
    response = client.get("/appels/ami-test/laureats.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert rows[0] == {
        "appel": "ami-test",
        "reference": "AMI-0002",
        "titre": "Tri des signalements",
        "administration": "Direction générale de la santé",
        "type_administration": "Direction d'administration centrale",
        "accompagnement": "Accompagnement technique et métier",
        "montant_accompagnement_eur": "320000",
        "score_pondere": "91.25",
        "rang": "1",
    }
    assert [(r["reference"], r["rang"]) for r in rows] == [("AMI-0002", "1"), ("AMI-0001", "2"), ("AMI-0003", "1")]


def test_open_data_json_is_the_same_rows_in_rank_order(client):
    announced_call()
    rows = json.loads(client.get("/appels/ami-test/laureats.json").content)
    assert [list(row) for row in rows] == [COLUMNS] * 3
    assert rows[1]["score_pondere"] == 88.5
    assert rows[1]["montant_accompagnement_eur"] == 300000
    assert rows[2]["accompagnement"] == "Accompagnement scientifique"


def test_open_data_is_french_whatever_the_language(client):
    announced_call()
    client.cookies["django_language"] = "en"
    rows = json.loads(client.get("/appels/ami-test/laureats.json").content)
    assert rows[0]["type_administration"] == "Direction d'administration centrale"


def test_laureates_page_lists_tracks_and_amounts(client):
    announced_call()
    content = client.get("/appels/ami-test/laureats/").content.decode()
    assert "3 projets lauréats" in content
    assert "Tri des signalements" in content and "Attente" not in content
    assert "620\u202f000\u00a0€ accordés sur une enveloppe de 3\u202f500\u202f000\u00a0€" in content
    assert "91,25" in content


def test_english_translation(client):
    announced_call()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    content = client.get("/appels/ami-test/laureats/").content.decode()
    assert "3 laureate projects" in content
    assert "€320,000" in content


def test_healthz_reports_each_component(client):
    response = client.get("/healthz")
    payload = response.json()
    assert response.status_code == 200
    assert payload["status"] == "ok"
    assert payload["database"]["ok"] is True
    assert payload["cache"]["ok"] is True
    assert "workers" in payload and "broker" in payload


def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    from ami import health

    monkeypatch.setattr(health, "database", lambda: (False, "OperationalError"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "backend": "OperationalError"}


# The public page cache (ami/page_cache.py)


@pytest.fixture
def public_cache(settings):
    """Turns the cache on (the test settings turn it off) on a fresh version: no page of another test."""
    from ami import page_cache

    settings.PUBLIC_PAGE_CACHE_SECONDS = 60
    page_cache.bump()
    yield page_cache
    page_cache.bump()


def csrf_value(content):
    import re

    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', content)


def test_home_is_served_from_the_cache_without_any_query(client, public_cache, django_assert_num_queries):
    CallFactory(title="Appel ouvert", status=CallStatus.OPEN)
    first = client.get("/")
    assert first["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get("/")
    assert second.status_code == 200 and second["X-Page-Cache"] == "hit"
    assert "Appel ouvert" in second.content.decode()
    assert second["Content-Type"] == "text/html; charset=utf-8"


def test_call_and_laureates_pages_and_open_data_are_cached(client, public_cache, django_assert_num_queries):
    announced_call()
    for url in ["/appels/ami-test/", "/appels/ami-test/laureats/", "/appels/ami-test/laureats.csv",
                "/appels/ami-test/laureats.json"]:
        first = client.get(url)
        with django_assert_num_queries(0):
            second = client.get(url)
        assert second["X-Page-Cache"] == "hit", url
        assert second["Content-Type"] == first["Content-Type"]
        assert second.get("Content-Disposition") == first.get("Content-Disposition")
    assert "Tri des signalements" in client.get("/appels/ami-test/laureats/").content.decode()
    assert client.get("/appels/ami-test/laureats.csv").content.decode().startswith(",".join(COLUMNS))


def test_each_visitor_gets_their_own_csrf_token_from_a_cached_page(public_cache):
    from django.test import Client

    CallFactory(status=CallStatus.OPEN)
    Client().get("/")  # fills the cache
    visitor = Client(enforce_csrf_checks=True)
    response = visitor.get("/")
    content = response.content.decode()
    assert response["X-Page-Cache"] == "hit"
    assert public_cache.CSRF_PLACEHOLDER not in content
    assert "csrftoken" in response.cookies and "Cookie" in response["Vary"]
    tokens = set(csrf_value(content))
    assert len(tokens) == 1
    # The language switch of the cached page works for this visitor (a foreign token would be a 403).
    switched = visitor.post("/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": tokens.pop()})
    assert switched.status_code == 302
    assert Client().get("/").content.decode() != content  # another visitor, another token


def test_a_change_of_phase_reaches_the_pages_once_committed(
    client, public_cache, django_capture_on_commit_callbacks
):
    from ami.services import transition_call

    call = ready_call(slug="ami-x", status=CallStatus.OPEN, title="Appel phase")
    assert "Ouvert aux candidatures" in client.get("/appels/ami-x/").content.decode()
    assert client.get("/appels/ami-x/")["X-Page-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        transition_call(call=call, to_status=CallStatus.CLOSED)
    # Not committed yet: the bump waits (a page rendered now from the old data could outlive it).
    assert public_cache.bump in callbacks
    assert "Ouvert aux candidatures" in client.get("/appels/ami-x/").content.decode()
    for callback in callbacks:
        callback()
    response = client.get("/appels/ami-x/")
    assert response["X-Page-Cache"] == "miss"
    assert "Candidatures closes" in response.content.decode()
    assert "Candidatures closes" in client.get("/").content.decode()


@pytest.mark.parametrize("change", ["criterion", "track", "decision"])
def test_criteria_tracks_and_decisions_invalidate_the_pages(client, public_cache, django_capture_on_commit_callbacks,
                                                            change):
    from tests.ami.factories import CriterionFactory

    call = announced_call()
    client.get("/appels/ami-test/")
    client.get("/appels/ami-test/laureats/")
    with django_capture_on_commit_callbacks(execute=True):
        if change == "criterion":
            CriterionFactory(call=call, title="Critère ajouté", position=9)
        elif change == "track":
            TrackFactory(call=call, name="Parcours ajouté", position=5)
        else:
            DecisionFactory(proposal=ProposalFactory(call=call, title="Projet repêché"), track=call.tracks.first(),
                            granted_amount_eur=1000, score=Decimal("60"), rank=9)
    expected = {"criterion": "Critère ajouté", "track": "Parcours ajouté", "decision": "Projet repêché"}[change]
    url = "/appels/ami-test/laureats/" if change == "decision" else "/appels/ami-test/"
    assert expected in client.get(url).content.decode()


def test_another_process_sees_a_bump_within_two_seconds(client, public_cache, monkeypatch):
    from django.core.cache import cache

    call = ready_call(slug="ami-y", status=CallStatus.OPEN)
    client.get("/appels/ami-y/")
    # Another worker renamed the call: the database changed and it bumped the shared version.
    type(call).objects.filter(pk=call.pk).update(title="Titre renommé ailleurs")
    cache.incr(public_cache.VERSION_KEY)
    clock = [public_cache._local["read_at"] + 1]
    monkeypatch.setattr(public_cache.time, "monotonic", lambda: clock[0])
    assert "Titre renommé ailleurs" not in client.get("/appels/ami-y/").content.decode()  # trusted copy, 1 s old
    clock[0] += public_cache.LOCAL_VERSION_SECONDS
    assert "Titre renommé ailleurs" in client.get("/appels/ami-y/").content.decode()


def test_signed_in_visitors_and_staff_never_get_the_cached_page(client, public_cache):
    CallFactory(title="Appel public", status=CallStatus.OPEN)
    CallFactory(title="Appel en préparation", status=CallStatus.DRAFT)
    client.get("/")
    assert client.get("/")["X-Page-Cache"] == "hit"
    staff = UserFactory(is_staff=True, email="staff@example.gouv.fr")
    client.force_login(staff)
    response = client.get("/")
    content = response.content.decode()
    assert "X-Page-Cache" not in response
    assert "Appel en préparation" in content and "staff@example.gouv.fr" in content
    client.logout()
    client.force_login(UserFactory(email="agent@example.gouv.fr"))
    content = client.get("/").content.decode()
    assert "agent@example.gouv.fr" in content and "Appel en préparation" not in content


def test_language_query_string_and_messages_bypass_or_split_the_cache(client, public_cache):
    announced_call()
    client.get("/appels/ami-test/laureats/")
    client.cookies["django_language"] = "en"
    english = client.get("/appels/ami-test/laureats/")
    assert english["X-Page-Cache"] == "miss" and "3 laureate projects" in english.content.decode()
    del client.cookies["django_language"]
    assert "X-Page-Cache" not in client.get("/appels/ami-test/laureats/?utm_source=lettre")
    # A pending message is shown once, on a page rendered for this visitor.
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest

    storage = CookieStorage(HttpRequest())
    client.cookies["messages"] = storage._encode([__import__("django.contrib.messages.storage.base",
                                                             fromlist=["Message"]).Message(20, "Bienvenue !")])
    response = client.get("/appels/ami-test/laureats/")
    assert "X-Page-Cache" not in response and "Bienvenue !" in response.content.decode()


def test_pages_live_at_most_five_seconds_in_a_cache_private_to_each_process(public_cache, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 600
    from django.core.cache import cache
    from django.core.cache.backends.locmem import LocMemCache

    expected = 5 if isinstance(cache, LocMemCache) else 600
    assert public_cache.page_seconds() == expected


def test_unknown_and_unannounced_pages_are_not_cached(client, public_cache):
    ready_call(slug="pas-encore", status=CallStatus.DELIBERATION)
    for url in ["/appels/pas-encore/laureats/", "/appels/inconnu/"]:
        client.get(url)
        response = client.get(url)
        assert response.status_code == 404 and "X-Page-Cache" not in response


def test_a_hit_is_served_from_the_process_memory_without_the_shared_cache(client, public_cache, monkeypatch):
    from django.core.cache import cache

    CallFactory(title="Appel ouvert", status=CallStatus.OPEN)
    client.get("/")

    def no_round_trip(*args, **kwargs):
        raise AssertionError("the shared cache was read for a page this process already holds")

    monkeypatch.setattr(cache, "get", no_round_trip)
    response = client.get("/")
    assert response["X-Page-Cache"] == "hit" and "Appel ouvert" in response.content.decode()


def test_a_page_from_another_process_is_taken_from_the_shared_cache_until_it_expires(client, public_cache,
                                                                                    monkeypatch):
    CallFactory(title="Appel ouvert", status=CallStatus.OPEN)
    client.get("/")
    public_cache._local_pages.clear()  # as in another process: only the shared cache holds the page
    assert client.get("/")["X-Page-Cache"] == "hit"
    public_cache._local_pages.clear()
    later = public_cache.time.time() + public_cache.page_seconds() + 1
    monkeypatch.setattr(public_cache.time, "time", lambda: later)
    assert client.get("/")["X-Page-Cache"] == "miss"


def test_laureates_show_summaries_and_filter_by_track_and_administration_type(client):
    call = announced_call()
    call.proposals.filter(reference="AMI-0002").update(summary="Trier dix mille signalements par an.")
    track = call.tracks.get(name="Accompagnement scientifique")
    science = call.proposals.get(reference="AMI-0003")
    science.administration.kind = "university"
    science.administration.save()

    page = html.unescape(client.get(reverse("laureates", args=[call.slug])).content.decode())
    assert "Trier dix mille signalements par an." in page
    assert page.count('class="laureate-row"') == 3

    page = html.unescape(client.get(reverse("laureates", args=[call.slug]), {"parcours": track.code}).content.decode())
    assert page.count('class="laureate-row"') == 1 and "Science" in page and "Tri des signalements" not in page
    assert "1 lauréat correspond à ces filtres." in page

    page = html.unescape(client.get(reverse("laureates", args=[call.slug]), {"type": "central"}).content.decode())
    assert "Science" not in page and "Tri des signalements" in page
    assert "Université ou organisme de recherche" in page  # offered as a filter


def test_open_data_csv_neutralises_formulas_like_the_exports(client):
    call = announced_call()
    call.proposals.filter(reference="AMI-0002").update(title='=HYPERLINK("http://x")')

    rows = list(csv.reader(io.StringIO(client.get(reverse("laureates_csv", args=[call.slug])).content.decode())))
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")"
