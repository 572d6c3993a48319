"""The staff area: call set-up pages, for staff only."""

import html
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ami.models import AuditEvent, Call, CallStatus, CallTransition, Criterion, EligibilityQuestion, Track
from applications.models import ProposalStatus
from tests.ami.factories import CallFactory, CriterionFactory, TrackFactory, UserFactory, ready_call
from tests.applications.factories import MembershipFactory, ProposalFactory
from tests.jury.factories import JuryMemberFactory

pytestmark = pytest.mark.django_db

PAGES = ["", "appels/", "appels/nouveau/", "appels/{slug}/", "appels/{slug}/parametres/", "appels/{slug}/copier/",
         "appels/{slug}/parcours/", "appels/{slug}/criteres/", "appels/{slug}/recevabilite/"]


@pytest.fixture
def staff(client):
    user = UserFactory(is_staff=True, email="programme@numerique.gouv.fr")
    client.force_login(user)
    return user


def page(client, url, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.status_code
    return text(response)


def text(response):
    return html.unescape(response.content.decode())


def call_fields(**overrides):
    fields = {
        "title": "AMI Intelligence artificielle 2026", "slug": "ami-ia-2026", "reference_prefix": "AMI2026",
        "description": "Expérimenter l'IA dans les administrations.", "eligibility_text": "Les administrations.",
        "opens_at": "2026-04-02T09:00", "closes_at": "2026-05-31T23:59", "review_deadline": "",
        "jury_date": "2026-07-04", "announcement_date": "", "score_scale_max": "5", "reviews_per_proposal": "2",
        "min_reviews_for_normalisation": "4", "disagreement_threshold": "25", "max_file_mb": "10",
        "max_total_mb": "30",
    }
    fields.update(overrides)
    return fields


def formset_data(rows, initial=0):
    data = {"rows-TOTAL_FORMS": str(len(rows)), "rows-INITIAL_FORMS": str(initial), "rows-MIN_NUM_FORMS": "0",
            "rows-MAX_NUM_FORMS": "1000"}
    for index, row in enumerate(rows):
        data.update({f"rows-{index}-{key}": value for key, value in row.items()})
    return data


# Permissions


@pytest.mark.parametrize("persona", ["applicant", "juror"])
@pytest.mark.parametrize("url", PAGES)
def test_people_who_are_not_staff_get_404(client, persona, url):
    call = ready_call(slug="ami-x")
    user = MembershipFactory().user if persona == "applicant" else JuryMemberFactory(call=call).user
    client.force_login(user)
    assert client.get("/equipe/" + url.format(slug=call.slug)).status_code == 404


@pytest.mark.parametrize("url", PAGES)
def test_visitors_are_sent_to_the_login_page(client, url):
    response = client.get("/equipe/" + url.format(slug=ready_call(slug="ami-x").slug))
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/connexion/?next=/equipe/")


@pytest.mark.parametrize("persona", ["applicant", "juror", "anonymous"])
def test_only_staff_change_a_phase_or_the_set_up(client, persona):
    call = ready_call(slug="ami-x")
    if persona != "anonymous":
        client.force_login(MembershipFactory().user if persona == "applicant" else JuryMemberFactory(call=call).user)
    assert client.post("/equipe/appels/ami-x/phase/", {"to_status": "open"}).status_code in (302, 404)
    client.post("/equipe/appels/ami-x/criteres/", formset_data([{"position": "0", "title": "Seul", "weight": "100"}]))
    client.post("/equipe/appels/ami-x/parametres/", call_fields(slug="ami-x", title="Piraté"))
    call.refresh_from_db()
    assert (call.status, call.title, call.criteria.count()) == (CallStatus.DRAFT, call.title, 2)
    assert call.title != "Piraté"
    assert not CallTransition.objects.exists()


def test_staff_see_every_page_and_the_header_link(client, staff):
    call = ready_call(slug="ami-x")
    for url in PAGES:
        assert "Espace équipe" in page(client, "/equipe/" + url.format(slug=call.slug))


def test_the_header_link_is_for_staff_only(client):
    client.force_login(MembershipFactory().user)
    assert "Espace équipe" not in page(client, "/")


# Home and the list of calls


def test_home_lists_the_calls_with_their_phase_and_proposal_counts(client, staff):
    call = CallFactory(title="AMI ouvert", slug="ouvert", status=CallStatus.OPEN)
    ProposalFactory.create_batch(2, call=call, status=ProposalStatus.DRAFT)
    ProposalFactory(call=call, status=ProposalStatus.SUBMITTED)
    ProposalFactory(call=call, status=ProposalStatus.WITHDRAWN)
    CallFactory(title="AMI archivé", status=CallStatus.ARCHIVED)
    content = page(client, "/equipe/")
    assert "AMI ouvert" in content
    assert "AMI archivé" not in content  # the full list has it
    assert "AMI archivé" in page(client, "/equipe/appels/")
    row = content[content.index('id="call-row-ouvert"'):]
    assert '<td class="draft-count">2</td>' in row
    assert '<td class="submitted-count">1</td>' in row
    assert "Ouvert aux candidatures" in row
    assert 'href="/equipe/appels/ouvert/"' in row


def test_home_links_to_intake_pages_when_they_exist(client, staff):
    from django.urls import NoReverseMatch, reverse

    content = page(client, "/equipe/")
    for name, label in [("applications:intake", "Projets déposés"),
                        ("applications:pending_administrations", "Administrations à valider")]:
        try:
            url = reverse(name)
        except NoReverseMatch:
            assert label not in content.split('id="staff-shortcuts"')[1].split("</ul>")[0]
        else:
            assert f'href="{url}"' in content


def test_list_of_calls_keeps_a_fixed_number_of_queries(client, staff):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            page(client, "/equipe/appels/")
        return len(captured)

    CallFactory()
    queries()  # the staff user is then remembered by this process (ami/auth_memo.py)
    one = queries()
    CallFactory.create_batch(2)
    assert queries() == one


# Creating, editing and cloning a call


def test_staff_create_a_draft_call_with_paris_times(client, staff):
    response = client.post("/equipe/appels/nouveau/", call_fields())
    assert response.status_code == 302
    call = Call.objects.get(slug="ami-ia-2026")
    assert response["Location"] == "/equipe/appels/ami-ia-2026/"
    assert call.status == CallStatus.DRAFT
    assert call.opens_at == datetime(2026, 4, 2, 7, 0, tzinfo=UTC)  # 9:00 in Paris, summer time
    assert call.closes_at == datetime(2026, 5, 31, 21, 59, tzinfo=UTC)
    assert AuditEvent.objects.filter(action="call.create", actor=staff, call=call).count() == 1
    content = page(client, response["Location"])
    assert "31 mai 2026, 23:59" in content
    assert "Brouillon" in content


def test_the_edit_form_shows_the_dates_in_paris_time(client, staff):
    CallFactory(slug="ami-x", opens_at=datetime(2026, 1, 15, 8, 30, tzinfo=UTC),
                closes_at=datetime(2026, 3, 1, 22, 59, tzinfo=UTC))
    content = page(client, "/equipe/appels/ami-x/parametres/")
    assert 'value="2026-01-15T09:30"' in content
    assert 'value="2026-03-01T23:59"' in content
    assert "Clôture des candidatures (heure de Paris)" in content


def test_closing_before_opening_is_refused_and_creates_nothing(client, staff):
    response = client.post("/equipe/appels/nouveau/", call_fields(closes_at="2026-04-01T09:00"))
    assert "La date de clôture doit être postérieure à la date d'ouverture." in text(response)
    assert not Call.objects.exists()


def test_a_taken_slug_is_refused(client, staff):
    CallFactory(slug="ami-ia-2026")
    response = client.post("/equipe/appels/nouveau/", call_fields())
    assert "existe déjà" in text(response)
    assert Call.objects.count() == 1


def test_staff_edit_a_call_and_the_change_is_audited(client, staff):
    call = CallFactory(slug="ami-ia-2026", title="Ancien titre")
    response = client.post("/equipe/appels/ami-ia-2026/parametres/", call_fields(title="Nouveau titre",
                                                                                  max_file_mb="20"))
    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.title, call.max_file_mb, call.jury_date.isoformat()) == ("Nouveau titre", 20, "2026-07-04")
    event = AuditEvent.objects.get(action="call.update")
    assert event.before["title"] == "Ancien titre"
    assert event.after["title"] == "Nouveau titre"


def test_an_open_call_keeps_its_slug_and_prefix(client, staff):
    CallFactory(slug="ami-ia-2026", reference_prefix="AMI2026", status=CallStatus.OPEN)
    content = page(client, "/equipe/appels/ami-ia-2026/parametres/")
    assert "certains paramètres sont figés" in content
    client.post("/equipe/appels/ami-ia-2026/parametres/",
                call_fields(slug="autre", reference_prefix="AUTRE", closes_at="2026-06-15T23:59"))
    call = Call.objects.get()
    assert (call.slug, call.reference_prefix) == ("ami-ia-2026", "AMI2026")  # disabled fields: posted values ignored
    assert call.closes_at == datetime(2026, 6, 15, 21, 59, tzinfo=UTC)  # the deadline may still move


def test_total_attachment_size_cannot_be_below_one_file(client, staff):
    CallFactory(slug="ami-ia-2026")
    response = client.post("/equipe/appels/ami-ia-2026/parametres/", call_fields(max_file_mb="20", max_total_mb="10"))
    assert "La taille totale ne peut pas être inférieure à celle d'un fichier." in text(response)
    assert Call.objects.get().max_file_mb == 10


def test_staff_clone_a_call_with_its_tracks_criteria_and_questions(client, staff):
    call = ready_call(slug="ami-ia-2019", title="AMI IA 2019", score_scale_max=4, max_file_mb=12)
    EligibilityQuestion.objects.create(call=call, text="Porté par l'État ?", ineligible_answer=False)
    content = page(client, "/equipe/appels/ami-ia-2019/copier/")
    assert 'value="ami-ia-2019-copie"' in content
    response = client.post("/equipe/appels/ami-ia-2019/copier/", {
        "title": "AMI IA 2020", "slug": "ami-ia-2020", "opens_at": "2020-04-01T09:00", "closes_at": "2020-05-31T23:59"})
    assert response["Location"] == "/equipe/appels/ami-ia-2020/"
    new = Call.objects.get(slug="ami-ia-2020")
    assert (new.cloned_from, new.status, new.score_scale_max, new.max_file_mb) == (call, "draft", 4, 12)
    assert list(new.criteria.values_list("weight", flat=True)) == [60, 40]
    assert new.tracks.count() == 1
    assert list(new.eligibility_questions.values_list("text", flat=True)) == ["Porté par l'État ?"]
    assert "Copie de « AMI IA 2019 »" in page(client, "/equipe/appels/ami-ia-2020/")


# Tracks


def test_staff_add_two_tracks(client, staff):
    CallFactory(slug="ami-x")
    rows = [{"code": "technique", "name": "Accompagnement technique et métier", "budget_eur": "3500000",
             "max_laureates": "11"},
            {"code": "scientifique", "name": "Accompagnement scientifique", "budget_eur": "500000",
             "max_laureates": "4"},
            {"code": "", "name": "", "budget_eur": "", "max_laureates": ""}]  # the blank extra row
    response = client.post("/equipe/appels/ami-x/parcours/", formset_data(rows))
    assert response.status_code == 302
    assert list(Track.objects.values_list("code", "budget_eur", "position")) == [
        ("technique", 3_500_000, 0), ("scientifique", 500_000, 1)]
    content = page(client, "/equipe/appels/ami-x/parcours/")
    assert "4\u202f000\u202f000\u00a0€" in content
    assert 'value="Accompagnement scientifique"' in content


def test_two_tracks_with_one_code_are_refused(client, staff):
    CallFactory(slug="ami-x")
    row = {"code": "technique", "name": "Un", "budget_eur": "1", "max_laureates": "1"}
    response = client.post("/equipe/appels/ami-x/parcours/", formset_data([row, {**row, "name": "Deux"}]))
    assert "Deux parcours ne peuvent pas avoir le même code." in text(response)
    assert not Track.objects.exists()


def test_a_track_requested_by_a_proposal_cannot_be_deleted(client, staff):
    call = CallFactory(slug="ami-x")
    kept, requested = TrackFactory(call=call, code="a"), TrackFactory(call=call, code="b")
    ProposalFactory(call=call, requested_track=requested)
    rows = [{"id": kept.pk, "code": "a", "name": kept.name, "budget_eur": "1", "max_laureates": "1"},
            {"id": requested.pk, "code": "b", "name": requested.name, "budget_eur": "1", "max_laureates": "1",
             "DELETE": "on"}]
    response = client.post("/equipe/appels/ami-x/parcours/", formset_data(rows, initial=2))
    assert "est demandé par des projets" in text(response)
    assert Track.objects.filter(call=call).count() == 2
    assert Track.objects.get(pk=kept.pk).budget_eur == 1_000_000  # nothing saved


def test_a_row_of_another_call_cannot_be_edited(client, staff):
    CallFactory(slug="ami-x")
    other = TrackFactory(code="autre")
    rows = [{"id": other.pk, "code": "autre", "name": "Volé", "budget_eur": "1", "max_laureates": "1"}]
    response = client.post("/equipe/appels/ami-x/parcours/", formset_data(rows, initial=0))
    assert "rechargez la page" in text(response)
    other.refresh_from_db()
    assert other.name != "Volé"


def test_tracks_are_frozen_from_deliberation_on(client, staff):
    call = CallFactory(slug="ami-x", status=CallStatus.DELIBERATION)
    track = TrackFactory(call=call, code="a")
    content = page(client, "/equipe/appels/ami-x/parcours/")
    assert "figés depuis le début de la délibération" in content
    rows = [{"id": track.pk, "code": "a", "name": "Changé", "budget_eur": "1", "max_laureates": "1"}]
    client.post("/equipe/appels/ami-x/parcours/", formset_data(rows, initial=1))
    track.refresh_from_db()
    assert track.budget_eur == 1_000_000


# Criteria


def criterion(title, weight, position, **extra):
    return {"position": str(position), "title": title, "weight": str(weight), "description": "", "rubric": "",
            **extra}


def test_criteria_whose_weights_do_not_sum_to_100_are_refused_and_nothing_is_saved(client, staff):
    call = CallFactory(slug="ami-x")
    existing = CriterionFactory(call=call, title="Existant", weight=15, position=0)
    rows = [criterion("Existant", 100, 0, id=existing.pk), criterion("Impact", 50, 1),
            criterion("Pertinence de l'IA", 35, 2)]
    response = client.post("/equipe/appels/ami-x/criteres/", formset_data(rows, initial=1))
    content = text(response)
    assert "Rien n'a été enregistré" in content
    assert "La somme des poids des critères doit être égale à 100 (actuellement 185)." in content
    assert list(Criterion.objects.values_list("title", "weight")) == [("Existant", 15)]


def test_the_total_is_shown_next_to_the_criteria(client, staff):
    call = CallFactory(slug="ami-x")
    CriterionFactory(call=call, weight=60, position=0)
    CriterionFactory(call=call, weight=25, position=1)
    content = page(client, "/equipe/appels/ami-x/criteres/")
    assert "<strong>Total : 85 / 100</strong>" in content
    assert "js/weights.js" in content


def test_staff_replace_criteria_with_rubrics(client, staff):
    call = CallFactory(slug="ami-x", score_scale_max=2)
    old = CriterionFactory(call=call, title="Ancien", weight=100, position=0)
    rows = [criterion("Ancien", 100, 0, id=old.pk, DELETE="on"),
            criterion("Impact", 60, 0, rubric="Absent\r\nCorrect\r\nRemarquable\r\n"),
            criterion("Données", 40, 1)]
    response = client.post("/equipe/appels/ami-x/criteres/", formset_data(rows, initial=1))
    assert response.status_code == 302
    assert list(call.criteria.values_list("title", "weight", "rubric")) == [
        ("Impact", 60, ["Absent", "Correct", "Remarquable"]), ("Données", 40, [])]
    event = AuditEvent.objects.get(action="call.criteria")
    assert [row["title"] for row in event.before["criteria"]] == ["Ancien"]


def test_a_rubric_needs_one_line_per_score_level(client, staff):
    CallFactory(slug="ami-x", score_scale_max=5)
    rows = [criterion("Impact", 100, 0, rubric="Absent\nCorrect")]
    content = text(client.post("/equipe/appels/ami-x/criteres/", formset_data(rows)))
    assert "La grille doit compter 6 lignes, une par note de 0 à 5 (elle en compte 2)." in content
    assert not Criterion.objects.exists()


def test_criteria_are_frozen_once_the_jury_scores(client, staff):
    call = ready_call(slug="ami-x", status=CallStatus.REVIEW)
    content = page(client, "/equipe/appels/ami-x/criteres/")
    assert "figés depuis le début de l'évaluation" in content
    first = call.criteria.first()
    client.post("/equipe/appels/ami-x/criteres/", formset_data([criterion("Seul", 100, 0, id=first.pk)], initial=1))
    assert call.criteria.count() == 2


# Eligibility questions


def test_staff_set_the_eligibility_questions_and_their_ineligible_answer(client, staff):
    CallFactory(slug="ami-x")
    rows = [{"text": "Le projet est-il porté par une administration de l'État ?", "help_text": "",
             "ineligible_answer": "False"},
            {"text": "Le projet a-t-il déjà été financé ?", "help_text": "Par ce programme.",
             "ineligible_answer": "True"}]
    assert client.post("/equipe/appels/ami-x/recevabilite/", formset_data(rows)).status_code == 302
    assert list(EligibilityQuestion.objects.values_list("position", "ineligible_answer")) == [(0, False), (1, True)]
    content = page(client, "/equipe/appels/ami-x/")
    assert "« non » rend le projet irrecevable" in content


def test_a_question_needs_its_ineligible_answer(client, staff):
    CallFactory(slug="ami-x")
    rows = [{"text": "Une question ?", "help_text": "", "ineligible_answer": ""}]
    content = text(client.post("/equipe/appels/ami-x/recevabilite/", formset_data(rows)))
    assert "Réponse qui rend le projet irrecevable" in content
    assert not EligibilityQuestion.objects.exists()


def test_questions_are_frozen_once_applicants_started_answering(client, staff):
    call = CallFactory(slug="ami-x", status=CallStatus.OPEN)
    assert 'id="locked-notice"' not in page(client, "/equipe/appels/ami-x/recevabilite/")
    ProposalFactory(call=call)
    assert "Les questions de recevabilité sont figées" in page(client, "/equipe/appels/ami-x/recevabilite/")
    rows = [{"text": "Trop tard ?", "help_text": "", "ineligible_answer": "True"}]
    client.post("/equipe/appels/ami-x/recevabilite/", formset_data(rows))
    assert not EligibilityQuestion.objects.exists()


# Phases


def test_staff_open_a_ready_call_and_see_the_history(client, staff):
    ready_call(slug="ami-x")
    content = page(client, "/equipe/appels/ami-x/")
    assert "Ouvrir aux candidatures" in content
    response = client.post("/equipe/appels/ami-x/phase/", {"to_status": "open"}, follow=True)
    content = text(response)
    assert "L'appel est maintenant en phase « Ouvert aux candidatures »." in content
    assert "Clore les candidatures" in content
    history = content[content.index('id="transition-history"'):]
    assert "programme@numerique.gouv.fr" in history
    assert Call.objects.get().status == CallStatus.OPEN
    assert AuditEvent.objects.filter(action="call.transition", actor=staff).count() == 1


def test_opening_a_call_that_is_not_ready_says_why(client, staff):
    call = CallFactory(slug="ami-x")
    CriterionFactory(call=call, weight=70)
    content = page(client, "/equipe/appels/ami-x/")
    assert "actuellement 70" in content  # told before trying
    response = client.post("/equipe/appels/ami-x/phase/", {"to_status": "open"}, follow=True)
    content = text(response)
    assert "Changement de phase refusé" in content
    assert "aucun parcours" in content
    call.refresh_from_db()
    assert call.status == CallStatus.DRAFT


def test_an_illegal_or_unknown_phase_is_refused(client, staff):
    ready_call(slug="ami-x")
    content = text(client.post("/equipe/appels/ami-x/phase/", {"to_status": "announced"}, follow=True))
    assert "Passage impossible" in content
    content = text(client.post("/equipe/appels/ami-x/phase/", {"to_status": "nimporte"}, follow=True))
    assert "Phase inconnue." in content
    assert Call.objects.get().status == CallStatus.DRAFT


def test_an_opened_call_appears_on_the_public_home_page(client, staff):
    from django.test import Client

    visitor = Client()
    ready_call(slug="ami-x", title="AMI public")
    assert "AMI public" not in text(visitor.get("/"))
    client.post("/equipe/appels/ami-x/phase/", {"to_status": "open"})
    assert "AMI public" in text(visitor.get("/"))


def test_the_creation_page_slug_is_reserved(client, staff):
    response = client.post("/equipe/appels/nouveau/", call_fields(slug="nouveau"))
    assert "Cet identifiant est réservé" in text(response)
    assert not Call.objects.exists()


def test_results_are_announced_from_the_announcement_page_only(client, staff):
    from django.urls import NoReverseMatch, reverse

    ready_call(slug="ami-x", status=CallStatus.DELIBERATION)
    content = page(client, "/equipe/appels/ami-x/")
    assert 'name="to_status" value="announced"' not in content
    try:
        assert f'href="{reverse("announce:page", args=["ami-x"])}"' in content
    except NoReverseMatch:
        assert "depuis sa propre page" in content
    content = text(client.post("/equipe/appels/ami-x/phase/", {"to_status": "announced"}, follow=True))
    assert "Ce changement de phase se fait depuis sa propre page" in content
    assert Call.objects.get().status == CallStatus.DELIBERATION


def test_editing_the_criteria_of_a_published_call_warns_first(client, staff):
    ready_call(slug="ami-x", status=CallStatus.OPEN)
    assert "L'appel est publié : une modification se voit aussitôt" in page(client, "/equipe/appels/ami-x/criteres/")
    ready_call(slug="brouillon")
    assert 'id="public-warning"' not in page(client, "/equipe/appels/brouillon/criteres/")
