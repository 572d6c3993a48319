"""The applicant pages, for each persona: owner, colleague, outsider, anonymous, staff."""

import json
import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ami.models import CallStatus
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
        assert "Clôture des candidatures : 31 mai 2030, 23:59 (heure de Paris)" in page
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

def test_edit_page_shows_fieldsets_the_calls_tracks_and_autosave(client, owner, draft):
    TrackFactory(name="Parcours d'un autre appel")
    client.force_login(owner)
    page = text(client.get(f"/mes-projets/{draft.pk}/modifier/"))
    legends = re.findall(r'<legend class="fr-fieldset__legend">([^<]+)</legend>', page)
    assert legends == ["Identité du projet", "Le problème à résoudre", "Les données",
                       "L'approche par l'intelligence artificielle", "L'équipe",
                       "Les bénéfices attendus", "L'accompagnement demandé"]
    assert "Technique et métier" in page and "Parcours d&#x27;un autre appel" not in page
    assert f'data-autosave-url="/mes-projets/{draft.pk}/autosave/"' in page
    assert '<p id="autosave-status"' in page and 'src="/static/js/autosave.js"' in page
    assert "6000 caractères au maximum" in page


def test_colleague_saves_and_html_is_escaped(client, colleague, draft):
    client.force_login(colleague)
    data = form_data(draft, title="<script>alert(1)</script>", problem="Des <b>milliers</b> de signalements")
    response = client.post(f"/mes-projets/{draft.pk}/modifier/", data, follow=True)
    page = text(response)
    assert "Brouillon enregistré." in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Des &lt;b&gt;milliers&lt;/b&gt; de signalements" in page
    draft.refresh_from_db()
    assert (draft.title, draft.version) == ("<script>alert(1)</script>", 2)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text(client.get("/mes-projets/"))


def test_edit_validates_lengths_and_required_title(client, owner, draft):
    client.force_login(owner)
    page = text(client.post(f"/mes-projets/{draft.pk}/modifier/", form_data(draft, title="", problem="x" * 6001)))
    assert "Le formulaire contient des erreurs" in page
    assert "au plus 6000 caractères" in page
    draft.refresh_from_db()
    assert (draft.title, draft.version) == ("Tri des signalements", 1)


def test_edit_on_a_stale_version_keeps_the_typed_text_and_saves_nothing(client, owner, colleague, draft):
    client.force_login(colleague)
    client.post(f"/mes-projets/{draft.pk}/modifier/", form_data(draft, problem="Texte du collègue"))
    client.force_login(owner)
    page = text(client.post(f"/mes-projets/{draft.pk}/modifier/", form_data(draft, problem="Mon texte à moi")))
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


def test_autosave_refuses_get(client, owner, draft):
    client.force_login(owner)
    assert client.get(f"/mes-projets/{draft.pk}/autosave/").status_code == 405
