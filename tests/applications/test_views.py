"""The applicant pages, for each persona: owner, colleague, outsider, anonymous, staff."""

import json
import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ami.models import AuditEvent, CallStatus, EligibilityQuestion
from applications.models import Administration, Membership, MembershipStatus, Proposal, ProposalStatus
from tests.ami.factories import CallFactory, TrackFactory, UserFactory
from tests.applications.factories import AdministrationFactory, MembershipFactory, ProposalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_call():
    call = CallFactory(status=CallStatus.OPEN, title="AMI IA 2019", slug="ami-ia-2019",
                       closes_at=datetime(2030, 5, 31, 21, 59, tzinfo=UTC))
    TrackFactory(call=call, name="Technique et métier")
    return call


@pytest.fixture
def owner():
    return MembershipFactory(administration__name="Direction générale de la santé", administration__acronym="DGS").user


@pytest.fixture
def colleague(owner):
    return MembershipFactory(administration=owner.memberships.get().administration).user


@pytest.fixture
def outsider():
    return MembershipFactory(administration__name="CHU de Bordeaux").user


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


@pytest.fixture
def draft(open_call, owner):
    return ProposalFactory(call=open_call, administration=owner.memberships.get().administration,
                           title="Tri des signalements", created_by=owner)


def text(response):
    return response.content.decode()


def form_data(proposal, **overrides):
    data = {"version": proposal.version, "title": proposal.title, "summary": "", "problem": "",
            "data_description": "", "ai_approach": "", "team": "", "expected_benefits": "",
            "requested_amount_eur": "", "requested_track": ""}
    return {**data, **overrides}


# Joining an administration

def test_anonymous_is_sent_to_login(client):
    for url in ["/mon-administration/", "/mon-administration/membres/", "/mes-projets/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/compte/connexion/")


def test_search_filters_by_name_acronym_or_ministry_without_javascript(client):
    AdministrationFactory(name="Direction générale des finances publiques", acronym="DGFiP", ministry="Economie")
    AdministrationFactory(name="Office français de la biodiversité", acronym="OFB", ministry="Transition écologique")
    AdministrationFactory(name="Direction proposée", acronym="DGFX", approved=False)
    client.force_login(UserFactory())
    page = text(client.get("/mon-administration/"))
    assert "Rejoindre mon administration" in page and 'list="administration-names"' in page
    assert '<option value="Office français de la biodiversité">' in page
    for query in ["dgfi", "finances", "ECONOMIE"]:
        page = text(client.get("/mon-administration/", {"q": query}))
        assert f"1 administration trouvée pour « {query} »" in page
        assert "Direction générale des finances publiques (DGFiP) — Economie" in page
        assert "biodiversité (OFB)" not in page
    assert "Aucune administration ne correspond à « DGFX »" in text(client.get("/mon-administration/", {"q": "DGFX"}))


def test_join_request_is_pending_until_confirmed(client):
    administration = AdministrationFactory(name="Autorité de sûreté nucléaire", acronym="ASN")
    user = UserFactory()
    client.force_login(user)
    page = text(client.post("/mon-administration/rejoindre/", {"administration": administration.pk}, follow=True))
    assert "Votre demande pour rejoindre Autorité de sûreté nucléaire (ASN) est envoyée" in page
    assert "Votre demande attend sa confirmation" in page
    membership = Membership.objects.get(user=user)
    assert (membership.administration, membership.status) == (administration, MembershipStatus.PENDING)
    assert "Rejoignez d'abord votre administration" in text(client.get("/mes-projets/"))


def test_joining_an_unapproved_administration_is_refused(client):
    hidden = AdministrationFactory(approved=False)
    client.force_login(UserFactory())
    page = text(client.post("/mon-administration/rejoindre/", {"administration": hidden.pk}, follow=True))
    assert "Choisissez votre administration dans la liste." in page
    assert Membership.objects.count() == 0


def test_propose_a_new_administration(client):
    user = UserFactory()
    client.force_login(user)
    data = {"name": "DDTM de l'Hérault", "acronym": "DDTM34", "kind": "deconcentrated",
            "ministry": "Transition écologique"}
    page = text(client.post("/mon-administration/nouvelle/", data, follow=True))
    assert "Votre proposition « DDTM de l&#x27;Hérault » est enregistrée" in page
    assert "Administration en cours de validation" in page
    administration = Administration.objects.get(acronym="DDTM34")
    assert administration.approved is False
    assert Membership.objects.get(user=user).status == MembershipStatus.PENDING
    again = text(client.post("/mon-administration/nouvelle/", {**data, "name": "ddtm de l'hérault"}))
    assert "Cette administration existe déjà dans le registre" in again


def test_an_active_member_sees_and_confirms_pending_members(client, owner, outsider):
    administration = owner.memberships.get().administration
    newcomer = MembershipFactory(administration=administration, status=MembershipStatus.PENDING,
                                 user__email="nouvelle@sante.gouv.fr")
    MembershipFactory(administration=outsider.memberships.get().administration, status=MembershipStatus.PENDING,
                      user__email="autre@chu-bordeaux.fr")
    client.force_login(owner)
    page = text(client.get("/mon-administration/membres/"))
    assert "nouvelle@sante.gouv.fr" in page and "autre@chu-bordeaux.fr" not in page
    page = text(client.post(f"/mon-administration/membres/{newcomer.pk}/confirmer/", follow=True))
    assert "est maintenant membre de Direction générale de la santé (DGS)" in page
    assert "Aucune demande en attente." in page
    newcomer.refresh_from_db()
    assert (newcomer.status, newcomer.confirmed_by) == (MembershipStatus.ACTIVE, owner)


def test_outsiders_get_404_on_confirming_and_on_the_members_page(client, owner, outsider):
    newcomer = MembershipFactory(administration=owner.memberships.get().administration, status=MembershipStatus.PENDING)
    client.force_login(outsider)
    assert client.post(f"/mon-administration/membres/{newcomer.pk}/confirmer/").status_code == 404
    client.force_login(newcomer.user)  # a pending member confirms nobody, not even themselves
    assert client.get("/mon-administration/membres/").status_code == 404
    assert client.post(f"/mon-administration/membres/{newcomer.pk}/confirmer/").status_code == 404
    client.logout()
    assert client.post(f"/mon-administration/membres/{newcomer.pk}/confirmer/").status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.status == MembershipStatus.PENDING


def test_staff_confirm_members_of_any_administration(client, staff):
    newcomer = MembershipFactory(status=MembershipStatus.PENDING, user__email="agent@ofb.gouv.fr")
    client.force_login(staff)
    assert "agent@ofb.gouv.fr" in text(client.get("/mon-administration/membres/"))
    client.post(f"/mon-administration/membres/{newcomer.pk}/confirmer/")
    newcomer.refresh_from_db()
    assert (newcomer.status, newcomer.confirmed_by) == (MembershipStatus.ACTIVE, staff)


# Mes projets

def test_my_proposals_groups_by_call_with_deadline_in_paris_time(client, owner, colleague, outsider, draft):
    closed = CallFactory(status=CallStatus.CLOSED, title="AMI IA 2018", opens_at=datetime(2018, 6, 14, tzinfo=UTC),
                         closes_at=datetime(2018, 10, 1, tzinfo=UTC))
    ProposalFactory(call=closed, administration=draft.administration, title="Contrôles ciblés",
                    status=ProposalStatus.SUBMITTED, reference="AMI2018-0001")
    ProposalFactory(call=draft.call, administration=outsider.memberships.get().administration, title="Recherche")
    for user in (owner, colleague):
        client.force_login(user)
        page = text(client.get("/mes-projets/"))
        assert re.findall(r'<h2 id="call-[\w-]+-title">([^<]+)</h2>', page) == ["AMI IA 2019", "AMI IA 2018"]
        assert "Clôture le 31 mai 2030 à 23 h 59 (heure de Paris) — dans " in page
        assert f'<a href="/mes-projets/{draft.pk}/modifier/">Tri des signalements</a>' in page
        assert "Contrôles ciblés" in page and "AMI2018-0001" in page and "Déposé" in page
        assert "Recherche" not in page
        assert page.count("Nouveau projet<span") == 1  # the open call only
        assert 'href="/mes-projets/nouveau/ami-ia-2019/"' in page
    client.force_login(outsider)
    page = text(client.get("/mes-projets/"))
    assert "Recherche" in page and "Tri des signalements" not in page


def test_staff_without_membership_see_no_project_in_my_proposals(client, staff, draft):
    client.force_login(staff)
    page = text(client.get("/mes-projets/"))
    assert "Rejoignez d'abord votre administration" in page and "Tri des signalements" not in page


def _my_proposals_queries(client, user):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/mes-projets/").status_code == 200
    return len(queries)


def test_my_proposals_query_count_does_not_grow_with_the_list(client, owner, open_call):
    administration = owner.memberships.get().administration
    client.force_login(owner)
    ProposalFactory(call=open_call, administration=administration)
    _my_proposals_queries(client, owner)  # warm: the user is then remembered by this process (ami/auth_memo.py)
    one = _my_proposals_queries(client, owner)
    ProposalFactory(call=open_call, administration=administration)
    ProposalFactory(call=CallFactory(status=CallStatus.CLOSED), administration=administration)
    assert _my_proposals_queries(client, owner) == one


# Creating a draft

def test_new_draft_then_reuse_of_the_existing_one(client, owner, colleague, open_call):
    client.force_login(owner)
    page = text(client.get("/mes-projets/nouveau/ami-ia-2019/"))
    assert "Nouveau projet" in page and "Créer quand même un autre brouillon" not in page
    first = {"administration": owner.memberships.get().administration_id, "title": "Tri des signalements"}
    response = client.post("/mes-projets/nouveau/ami-ia-2019/", first, follow=True)
    proposal = Proposal.objects.get()
    assert response.redirect_chain[-1][0] == f"/mes-projets/{proposal.pk}/modifier/"
    assert "Brouillon créé" in text(response)
    client.force_login(colleague)
    page = text(client.get("/mes-projets/nouveau/ami-ia-2019/"))
    assert "Votre administration a déjà commencé un brouillon" in page and "Créer quand même un autre brouillon" in page
    data = {"administration": proposal.administration_id, "title": "Un second projet"}
    response = client.post("/mes-projets/nouveau/ami-ia-2019/", data, follow=True)
    assert "vous le reprenez ci-dessous" in text(response)
    assert Proposal.objects.count() == 1
    client.post("/mes-projets/nouveau/ami-ia-2019/", {**data, "force_new": "on"})
    assert sorted(Proposal.objects.values_list("title", flat=True)) == ["Tri des signalements", "Un second projet"]


@pytest.mark.parametrize("status", [CallStatus.CLOSED, CallStatus.REVIEW])
def test_a_call_that_is_not_open_refuses_new_drafts_with_a_clear_message(client, owner, status):
    CallFactory(status=status, slug="ferme", title="AMI IA 2018")
    client.force_login(owner)
    for response in (client.get("/mes-projets/nouveau/ferme/"),
                     client.post("/mes-projets/nouveau/ferme/", {"title": "Trop tard"})):
        page = text(response)
        assert "Création impossible" in page
        assert "L&#x27;appel « AMI IA 2018 » n&#x27;est pas ouvert aux candidatures" in page
        assert 'id="new-draft"' not in page
    assert Proposal.objects.count() == 0


def test_new_draft_needs_a_confirmed_membership(client, open_call):
    pending = MembershipFactory(status=MembershipStatus.PENDING)
    client.force_login(pending.user)
    response = client.post("/mes-projets/nouveau/ami-ia-2019/", {"administration": pending.administration_id,
                                                                  "title": "X"}, follow=True)
    assert "Rejoignez d&#x27;abord votre administration pour créer un projet." in text(response)
    assert Proposal.objects.count() == 0


def test_new_draft_on_a_draft_call_is_404(client, owner):
    CallFactory(status=CallStatus.DRAFT, slug="pas-publie")
    client.force_login(owner)
    assert client.get("/mes-projets/nouveau/pas-publie/").status_code == 404


# Editing a draft

STEP_TITLES = ["Identité et contacts", "Le problème et les personnes concernées", "Les données",
               "L'approche par l'intelligence artificielle", "L'équipe et la gouvernance",
               "Les bénéfices attendus et leur mesure", "L'accompagnement demandé",
               "Les questions de recevabilité", "Les pièces jointes"]


def step_url(proposal, step):
    return f"/mes-projets/{proposal.pk}/modifier/{step}/"


def field_ids(page):
    ids = re.findall(r'<(?:input|textarea|select)[^>]* id="(id_[a-z_0-9]+)"', page)
    return [name for name in ids if name != "id_version"]


def test_step_one_shows_the_stepper_the_steps_list_and_the_administration(client, owner, draft):
    client.force_login(owner)
    page = text(client.get(f"/mes-projets/{draft.pk}/modifier/"))
    assert re.search(r'<h2 class="fr-stepper__title">\s*Identité et contacts\s*'
                     r'<span class="fr-stepper__state">Étape 1 sur 8</span>', page)
    assert 'data-fr-current-step="1" data-fr-steps="8"' in page
    assert re.search(r"Étape suivante :</span> Le problème et les personnes concernées</p>", page)
    menu = re.findall(r'<a class="fr-sidemenu__link" href="([^"]+)"[^>]*>([^<]+)</a>', page)
    expected_urls = [f"/mes-projets/{draft.pk}/modifier/"] + [step_url(draft, n) for n in range(2, 9)] + [
        f"/mes-projets/{draft.pk}/pieces/"]
    expected_titles = [f"{n}. {title}" for n, title in enumerate(STEP_TITLES[:8], 1)] + ["Les pièces jointes"]
    assert [(url, title.replace("&#x27;", "'")) for url, title in menu] == list(
        zip(expected_urls, expected_titles, strict=True))
    assert 'aria-current="page">1. Identité et contacts' in page
    assert "Direction générale de la santé (DGS)" in page and 'id="proposal-identity"' in page
    assert field_ids(page) == ["id_title", "id_summary"]
    assert f'data-autosave-url="/mes-projets/{draft.pk}/autosave/"' in page and 'data-step="1"' in page
    assert '<p id="autosave-status"' in page and 'src="/static/js/autosave.js"' in page
    assert 'src="/static/js/stepper.js"' in page
    assert "2000 caractères au maximum" in page
    assert 'value="previous"' not in page  # no previous step on the first one
    assert "<title>Étape 1 sur 8 : Identité et contacts — Modifier le brouillon" in page


@pytest.mark.parametrize(("step", "fields"), [
    (2, ["id_problem"]), (3, ["id_data_description"]), (4, ["id_ai_approach"]), (5, ["id_team"]),
    (6, ["id_expected_benefits"]), (7, ["id_requested_track", "id_requested_amount_eur"]), (8, []),
])
def test_each_step_shows_only_its_own_fields(client, owner, draft, step, fields):
    client.force_login(owner)
    page = text(client.get(step_url(draft, step)))
    assert field_ids(page) == fields
    assert f"Étape {step} sur 8" in page and f'data-step="{step}"' in page
    assert 'value="previous"' in page and 'value="next"' in page


@pytest.mark.parametrize("step", [0, 9, 10])
def test_a_step_that_does_not_exist_is_404(client, owner, draft, step):
    client.force_login(owner)
    assert client.get(step_url(draft, step)).status_code == 404


def test_support_step_lists_the_calls_tracks_with_their_budget(client, owner, draft):
    TrackFactory(name="Parcours d'un autre appel")
    client.force_login(owner)
    page = text(client.get(step_url(draft, 7)))
    assert re.findall(r'<option value="\d*"[^>]*>([^<]+)</option>', page) == [
        "Choisissez un parcours", "Technique et métier — enveloppe de 1\u00a0000\u00a0000 €"]
    assert "Parcours d&#x27;un autre appel" not in page


@pytest.mark.parametrize(("go", "destination"), [
    ("next", "/modifier/3/"), ("previous", "/modifier/"), ("stay", "/modifier/2/"), ("6", "/modifier/6/"),
    ("9", "/pieces/"), ("", "/modifier/2/"),
])
def test_every_way_out_of_a_step_saves_it_first(client, owner, draft, go, destination):
    client.force_login(owner)
    response = client.post(step_url(draft, 2), {"version": 1, "problem": "Dix mille signalements", "go": go})
    assert response.status_code == 302 and response["Location"] == f"/mes-projets/{draft.pk}{destination}"
    draft.refresh_from_db()
    assert (draft.problem, draft.version, draft.title) == ("Dix mille signalements", 2, "Tri des signalements")


def test_next_on_the_eligibility_step_leads_to_the_attachments(client, owner, draft):
    client.force_login(owner)
    response = client.post(step_url(draft, 8), {"version": 1, "go": "next"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/mes-projets/{draft.pk}/pieces/"
    assert "Après les 8 étapes du formulaire" in text(response)


def test_colleague_saves_and_html_is_escaped(client, colleague, draft):
    client.force_login(colleague)
    client.post(f"/mes-projets/{draft.pk}/modifier/", {"version": 1, "title": "<script>alert(1)</script>",
                                                       "summary": ""})
    response = client.post(step_url(draft, 2), {"version": 2, "problem": "Des <b>milliers</b> de signalements",
                                                 "go": "stay"}, follow=True)
    page = text(response)
    assert "Brouillon enregistré." in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Des &lt;b&gt;milliers&lt;/b&gt; de signalements" in page
    draft.refresh_from_db()
    assert (draft.title, draft.problem, draft.version) == (
        "<script>alert(1)</script>", "Des <b>milliers</b> de signalements", 3)


def test_errors_show_beside_each_field_and_in_a_summary_and_keep_the_text(client, owner, draft):
    client.force_login(owner)
    page = text(client.post(f"/mes-projets/{draft.pk}/modifier/",
                            {"version": 1, "title": "", "summary": "x" * 2001, "go": "next"}))
    summary = page[page.index('id="form-errors"'):page.index("</ul>", page.index('id="form-errors"'))]
    assert '<a href="#id_title">Titre du projet</a> : Ce champ est obligatoire.' in summary
    assert '<a href="#id_summary">Résumé</a> : Assurez-vous que cette valeur comporte au plus 2000' in summary
    assert '<p class="fr-message fr-message--error">Ce champ est obligatoire.</p>' in page
    assert "x" * 2001 + "</textarea>" in page
    draft.refresh_from_db()
    assert (draft.title, draft.version) == ("Tri des signalements", 1)


def test_edit_on_a_stale_version_keeps_the_typed_text_and_saves_nothing(client, owner, colleague, draft):
    client.force_login(colleague)
    client.post(step_url(draft, 2), {"version": 1, "problem": "Texte du collègue"})
    client.force_login(owner)
    page = text(client.post(step_url(draft, 2), {"version": 1, "problem": "Mon texte à moi", "go": "next"}))
    assert "Brouillon non enregistré" in page
    assert "Un membre de votre administration a modifié ce brouillon" in page
    assert "Mon texte à moi</textarea>" in page
    draft.refresh_from_db()
    assert (draft.problem, draft.version) == ("Texte du collègue", 2)


def test_outsider_gets_404_on_edit_and_autosave(client, outsider, draft):
    client.force_login(outsider)
    assert client.get(f"/mes-projets/{draft.pk}/modifier/").status_code == 404
    assert client.post(f"/mes-projets/{draft.pk}/modifier/", form_data(draft, title="Piraté")).status_code == 404
    response = client.post(f"/mes-projets/{draft.pk}/autosave/", form_data(draft, title="Piraté"))
    assert (response.status_code, response.json()) == (404, {"error": "Ce projet est introuvable."})
    draft.refresh_from_db()
    assert draft.title == "Tri des signalements"


def test_anonymous_edit_goes_to_login_and_autosave_says_session_expired(client, draft):
    response = client.get(f"/mes-projets/{draft.pk}/modifier/")
    assert response.status_code == 302 and response["Location"].startswith("/compte/connexion/")
    response = client.post(f"/mes-projets/{draft.pk}/autosave/", form_data(draft))
    assert response.status_code == 403
    assert response.json() == {"error": "Votre session a expiré.", "session_expired": True}


def test_staff_not_member_may_not_edit(client, staff, draft):
    client.force_login(staff)
    assert client.get(f"/mes-projets/{draft.pk}/modifier/").status_code == 403
    assert client.post(f"/mes-projets/{draft.pk}/autosave/", form_data(draft)).status_code == 404


def test_a_submitted_proposal_or_closed_call_is_not_editable(client, owner, draft):
    client.force_login(owner)
    draft.call.status = CallStatus.CLOSED
    draft.call.save()
    page = text(client.get(f"/mes-projets/{draft.pk}/modifier/", follow=True))
    assert "Ce projet ne peut plus être modifié" in page
    response = client.post(f"/mes-projets/{draft.pk}/autosave/", form_data(draft))
    assert (response.status_code, response.json()["error"]) == (400, "Ce projet n'est plus un brouillon modifiable.")


# Autosave

def test_autosave_answers_the_time_and_the_new_version(client, owner, draft):
    client.force_login(owner)
    response = client.post(f"/mes-projets/{draft.pk}/autosave/", form_data(draft, problem="Autosauvé"))
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 2 and re.fullmatch(r"\d\d:\d\d", body["saved_at"])
    draft.refresh_from_db()
    assert (draft.problem, draft.version) == ("Autosauvé", 2)


def test_autosave_conflict_is_409_and_saves_nothing(client, owner, draft):
    client.force_login(owner)
    client.post(f"/mes-projets/{draft.pk}/autosave/", form_data(draft, problem="Premier"))
    response = client.post(f"/mes-projets/{draft.pk}/autosave/", form_data(draft, problem="Second"))
    assert response.status_code == 409
    body = response.json()
    assert body["conflict"] is True
    assert body["error"].startswith("Un membre de votre administration a modifié ce brouillon")
    draft.refresh_from_db()
    assert (draft.problem, draft.version) == ("Premier", 2)


def test_autosave_invalid_input_is_400_with_the_field(client, owner, draft):
    client.force_login(owner)
    response = client.post(f"/mes-projets/{draft.pk}/autosave/", form_data(draft, title=""))
    assert response.status_code == 400
    assert response.json()["error"] == "Titre du projet : Ce champ est obligatoire."
    assert json.loads(response.content)["errors"]["title"][0]["code"] == "required"


def test_an_autosave_reads_only_what_it_saves(client, owner, draft):
    """The proposal and its call through the per-user queryset (which already requires the membership), the
    track once, the conditional UPDATE and the audit entry: no membership, jury seat or eligibility question
    read when no answer is posted, no savepoint."""
    EligibilityQuestion.objects.create(call=draft.call, position=1, text="Le projet est-il porté par un agent ?",
                                       ineligible_answer=False)
    track = draft.call.tracks.get()
    client.force_login(owner)
    client.post(f"/mes-projets/{draft.pk}/autosave/", form_data(draft, problem="Premier"))  # warms the process
    draft.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/mes-projets/{draft.pk}/autosave/", form_data(
            draft, problem="Second", requested_track=track.pk, requested_amount_eur="1000"))
    assert response.status_code == 200, response.content
    statements = [query["sql"] for query in queries.captured_queries]
    read = [re.search(r'FROM "(\w+)"', sql).group(1) for sql in statements
            if sql.startswith("SELECT") and "FROM" in sql]
    assert [table for table in read if table not in ("ami_auditevent", "django_session")] == [
        "applications_proposal", "ami_track"]
    assert not any("DISTINCT" in sql for sql in statements)
    # save_draft's own atomic block is a savepoint here (the test runs in a transaction); the audit entry adds none.
    assert [sql.split(" ")[0] for sql in statements if "SAVEPOINT" in sql] == ["SAVEPOINT", "RELEASE"]
    draft.refresh_from_db()
    assert (draft.problem, draft.requested_track, draft.requested_amount_eur) == ("Second", track, 1000)


def test_a_staff_member_of_the_administration_edits_its_draft(client, staff, draft):
    MembershipFactory(user=staff, administration=draft.administration)
    client.force_login(staff)
    assert client.get(f"/mes-projets/{draft.pk}/modifier/").status_code == 200
    response = client.post(f"/mes-projets/{draft.pk}/autosave/", form_data(draft, problem="Par l'équipe"))
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.problem == "Par l'équipe"


def test_autosave_refuses_get(client, owner, draft):
    client.force_login(owner)
    assert client.get(f"/mes-projets/{draft.pk}/autosave/").status_code == 405


# Steps with rules: the requested support, the eligibility questions; autosave of one step

def test_an_amount_over_the_tracks_budget_is_refused_beside_the_field(client, owner, draft):
    small = TrackFactory(call=draft.call, name="Scientifique", budget_eur=500_000)
    client.force_login(owner)
    data = {"version": 1, "requested_track": small.pk, "requested_amount_eur": "600000", "go": "next"}
    page = text(client.post(step_url(draft, 7), data))
    message = ("Le montant demandé (600\u00a0000 €) dépasse l&#x27;enveloppe du parcours « Scientifique » "
               "(500\u00a0000 €) : indiquez un montant inférieur ou égal à l&#x27;enveloppe.")
    assert f'<p class="fr-message fr-message--error">{message}</p>' in page
    assert "Le formulaire contient des erreurs" in page
    draft.refresh_from_db()
    assert (draft.requested_track, draft.requested_amount_eur, draft.version) == (None, 100_000, 1)
    response = client.post(f"/mes-projets/{draft.pk}/autosave/", {**data, "requested_amount_eur": "500000"})
    assert response.status_code == 200
    draft.refresh_from_db()
    assert (draft.requested_track, draft.requested_amount_eur, draft.version) == (small, 500_000, 2)


@pytest.mark.parametrize(("amount", "message"), [
    ("0", "Indiquez un montant en euros supérieur à zéro."),
    ("-5", "Indiquez un montant en euros supérieur à zéro."),
    ("12,5", "Indiquez un montant en euros, en chiffres, sans espace ni virgule."),
])
def test_the_amount_is_a_positive_whole_number_of_euros(client, owner, draft, amount, message):
    client.force_login(owner)
    page = text(client.post(step_url(draft, 7), {"version": 1, "requested_amount_eur": amount}))
    assert f'<p class="fr-message fr-message--error">{message}</p>' in page
    draft.refresh_from_db()
    assert (draft.requested_amount_eur, draft.version) == (100_000, 1)


def test_a_track_of_another_call_is_refused(client, owner, draft):
    other = TrackFactory(name="Ailleurs")
    client.force_login(owner)
    page = text(client.post(step_url(draft, 7), {"version": 1, "requested_track": other.pk}))
    assert "Sélectionnez un choix valide" in page
    draft.refresh_from_db()
    assert draft.requested_track is None


@pytest.fixture
def questions(draft):
    return [
        EligibilityQuestion.objects.create(call=draft.call, position=0, ineligible_answer=False,
                                           text="Le projet est-il porté par une administration publique ?"),
        EligibilityQuestion.objects.create(call=draft.call, position=1, ineligible_answer=True,
                                           text="Le projet est-il déjà financé par un autre programme ?",
                                           help_text="Un cofinancement partiel ne compte pas."),
    ]


def test_eligibility_answers_are_saved_and_an_ineligible_one_shows_a_warning(client, owner, draft, questions):
    public, funded = questions
    client.force_login(owner)
    page = text(client.get(step_url(draft, 8)))
    assert f'id="id_eligibility_{public.pk}_0"' in page and f'id="id_eligibility_{funded.pk}_1"' in page
    assert "Le projet est-il porté par une administration publique ?" in page
    assert "Un cofinancement partiel ne compte pas." in page
    assert page.count('class="fr-alert fr-alert--warning fr-alert--sm ami-ineligible-warning"') == 2
    assert page.count("ami-ineligible-warning\" id=\"eligibility_") == 2
    assert page.count(" hidden>") >= 2 and "risque d'être jugé irrecevable" in page
    response = client.post(step_url(draft, 8), {"version": 1, f"eligibility_{public.pk}": "true",
                                                 f"eligibility_{funded.pk}": "true", "go": "stay"}, follow=True)
    draft.refresh_from_db()
    assert draft.eligibility_answers == {str(public.pk): True, str(funded.pk): True}
    page = text(response)
    assert f'id="eligibility_{funded.pk}-warning">' in page  # shown: "yes, already funded" makes it ineligible
    assert f'id="eligibility_{public.pk}-warning" hidden>' in page
    assert re.search(rf'id="id_eligibility_{public.pk}_0" name="eligibility_{public.pk}" value="true" checked', page)


def test_unanswered_questions_keep_their_saved_answer_and_autosave_sends_one_step(client, owner, draft, questions):
    public, funded = questions
    draft.eligibility_answers = {str(public.pk): False, str(funded.pk): False}
    draft.save()
    client.force_login(owner)
    response = client.post(f"/mes-projets/{draft.pk}/autosave/", {"version": 1, f"eligibility_{funded.pk}": "true"})
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.eligibility_answers == {str(public.pk): False, str(funded.pk): True}
    assert (draft.title, draft.summary, draft.requested_amount_eur) == ("Tri des signalements", "Un résumé.", 100_000)


def test_autosave_saves_only_the_fields_of_the_step_it_posts(client, owner, draft):
    client.force_login(owner)
    response = client.post(f"/mes-projets/{draft.pk}/autosave/", {"version": 1, "problem": "Le problème"})
    assert response.status_code == 200
    draft.refresh_from_db()
    assert (draft.problem, draft.title, draft.summary, draft.requested_amount_eur, draft.version) == (
        "Le problème", "Tri des signalements", "Un résumé.", 100_000, 2)


def test_a_step_save_leaves_an_audit_entry_with_field_names_not_text(client, owner, draft):
    client.force_login(owner)
    client.post(step_url(draft, 2), {"version": 1, "problem": "Un texte confidentiel", "go": "next"})
    event = AuditEvent.objects.get(action="proposal.draft_saved")
    assert (event.actor, event.call, event.target_id, event.after) == (
        owner, draft.call, str(draft.pk), {"fields": ["problem"], "version": 2})
    assert "confidentiel" not in str(event.before) + str(event.after)


def test_autosave_leaves_an_audit_entry_naming_what_changed(client, owner, draft):
    client.force_login(owner)
    client.post(f"/mes-projets/{draft.pk}/autosave/", {"version": 1, "title": "Tri des signalements",
                                                       "summary": "Nouveau résumé"})
    event = AuditEvent.objects.get(action="proposal.draft_saved")
    assert (event.actor, event.after) == (owner, {"fields": ["summary"], "version": 2})


def test_field_url_points_to_the_step_that_edits_the_field():
    from applications.views import field_url

    assert (field_url(7, "title"), field_url(7, "team"), field_url(7, "requested_amount_eur"),
            field_url(7, "eligibility_answers")) == (
        "/mes-projets/7/modifier/#id_title", "/mes-projets/7/modifier/5/#id_team",
        "/mes-projets/7/modifier/7/#id_requested_amount_eur", "/mes-projets/7/modifier/8/#eligibility")
