"""Public pages and open data (CONTRACT.md)."""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
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
