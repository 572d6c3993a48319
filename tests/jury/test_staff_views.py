"""The staff jury pages: permissions, invitations, chair, conflicts, expertise, assignment, progress."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ami.models import AuditEvent, CallStatus, OutboundEmail
from applications.models import ProposalStatus
from jury.models import Conflict, JuryInvitation, JuryRole, Review, ReviewStatus
from tests.ami.factories import CallFactory, UserFactory
from tests.applications.factories import AdministrationFactory, MembershipFactory, ProposalFactory
from tests.conftest import session_queries
from tests.jury.factories import ConflictFactory, JuryMemberFactory, ReviewFactory

pytestmark = pytest.mark.django_db

PAGES = ["jury", "conflicts", "expertise", "assignment", "progress"]


def text(response):
    return html.unescape(response.content.decode())


@pytest.fixture
def call():
    return CallFactory(status=CallStatus.REVIEW, slug="ami-ia-2019", title="AMI IA 2019", reviews_per_proposal=1)


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, email="programme@exemple.gouv.fr"))
    return client


def url(name, call, *args):
    return reverse(f"jury_staff:{name}", args=[call.slug, *args])


def eligible(call, reference, **kwargs):
    return ProposalFactory(call=call, status=ProposalStatus.ELIGIBLE, reference=reference, **kwargs)


@pytest.mark.parametrize("page", PAGES)
def test_only_staff_see_the_jury_pages(client, call, page):
    response = client.get(url(page, call))
    assert response.status_code == 302 and response["Location"].startswith("/compte/connexion/")
    juror = JuryMemberFactory(call=call)
    owner = MembershipFactory().user
    for person in (juror.user, owner):
        client.force_login(person)
        assert client.get(url(page, call)).status_code == 404


@pytest.mark.parametrize("page", PAGES)
def test_staff_pages_render_and_unknown_call_is_404(staff_client, call, page):
    JuryMemberFactory(call=call, user__email="claire@exemple.fr")
    eligible(call, "AMI2019-0001")
    assert staff_client.get(url(page, call)).status_code == 200
    assert staff_client.get(reverse(f"jury_staff:{page}", args=["inconnu"])).status_code == 404


def test_jury_page_lists_members_and_invitations(staff_client, call):
    JuryMemberFactory(call=call, user__email="claire@exemple.fr", user__first_name="Claire",
                      user__last_name="Dupont", role=JuryRole.CHAIR, pair_label="B1", expertise=["NLP"], max_load=8)
    JuryInvitation.objects.create(call=call, email="attente@exemple.fr")
    page = text(staff_client.get(url("jury", call)))
    assert "Claire Dupont" in page and "Président du jury" in page and "NLP" in page
    assert "attente@exemple.fr" in page and "En attente" in page
    assert "Pas encore" in page  # charter not accepted


def test_check_conflicts_then_invite(staff_client, call):
    dgs = AdministrationFactory(name="Direction générale de la santé")
    eligible(call, "AMI2019-0001", administration=dgs, title="Tri des signalements")
    candidate = MembershipFactory(administration=dgs, user__email="agent@sante.gouv.fr").user
    data = {"email": candidate.email, "role": "member", "pair_label": "", "expertise": "santé"}

    page = text(staff_client.post(url("jury", call), {**data, "check": "Vérifier les conflits"}))
    assert "1 projet déposé lui serait caché" in page
    assert "AMI2019-0001 — Tri des signalements" in page
    assert not JuryInvitation.objects.exists()

    page = text(staff_client.post(url("jury", call), {**data, "email": "inconnu@exemple.fr", "check": "Vérifier"}))
    assert "Aucun compte n'existe pour cette adresse : aucun conflit ne peut encore être calculé." in page

    response = staff_client.post(url("jury", call), data, follow=True)
    assert "Invitation envoyée à agent@sante.gouv.fr." in text(response)
    invitation = JuryInvitation.objects.get()
    assert invitation.expertise == ["santé"]
    assert OutboundEmail.objects.get().key == f"jury-invitation:{invitation.pk}:1"


def test_invalid_invitation_keeps_the_form(staff_client, call):
    response = staff_client.post(url("jury", call), {"email": "pas-une-adresse", "role": "member"})
    assert "Saisissez une adresse électronique valide" in text(response)
    assert not JuryInvitation.objects.exists()


def test_resend_and_revoke(staff_client, call):
    staff_client.post(url("jury", call), {"email": "a@exemple.fr", "role": "member"})
    invitation = JuryInvitation.objects.get()
    staff_client.post(url("resend_invitation", call, invitation.pk))
    assert OutboundEmail.objects.count() == 2
    response = staff_client.post(url("revoke_invitation", call, invitation.pk), follow=True)
    assert "Invitation de a@exemple.fr annulée" in text(response)
    response = staff_client.post(url("resend_invitation", call, invitation.pk), follow=True)
    assert "ne peut pas être renvoyée" in text(response)
    assert OutboundEmail.objects.count() == 2
    other = JuryInvitation.objects.create(call=CallFactory(), email="b@exemple.fr")
    assert staff_client.post(url("revoke_invitation", call, other.pk)).status_code == 404


def test_a_second_chair_is_refused_with_a_message(staff_client, call):
    chair = JuryMemberFactory(call=call, role=JuryRole.CHAIR, user__first_name="Anne", user__last_name="Chef")
    member = JuryMemberFactory(call=call)
    response = staff_client.post(url("name_chair", call, member.pk), follow=True)
    assert "Anne Chef préside déjà ce jury : un jury n'a qu'un président." in text(response)
    member.refresh_from_db()
    assert member.role == JuryRole.MEMBER
    staff_client.post(url("remove_chair", call, chair.pk))
    staff_client.post(url("name_chair", call, member.pk))
    member.refresh_from_db()
    chair.refresh_from_db()
    assert (member.role, chair.role) == (JuryRole.CHAIR, JuryRole.MEMBER)
    assert AuditEvent.objects.filter(action__in=["jury.chair_named", "jury.chair_removed"]).count() == 2


def test_a_member_of_another_call_is_404(staff_client, call):
    stranger = JuryMemberFactory()
    assert staff_client.post(url("name_chair", call, stranger.pk)).status_code == 404
    assert staff_client.get(url("member_edit", call, stranger.pk)).status_code == 404


def test_edit_member_pair_expertise_and_maximum(staff_client, call):
    member = JuryMemberFactory(call=call)
    staff_client.post(url("member_edit", call, member.pk),
                      {"pair_label": " B3 ", "expertise": "NLP, justice, NLP", "max_load": "6"})
    member.refresh_from_db()
    assert (member.pair_label, member.expertise, member.max_load) == ("B3", ["NLP", "justice"], 6)
    event = AuditEvent.objects.get(action="jury.member_updated")
    assert (event.before["max_load"], event.after["max_load"]) == (None, 6)
    staff_client.post(url("member_edit", call, member.pk), {"pair_label": "B3", "expertise": "", "max_load": ""})
    member.refresh_from_db()
    assert (member.expertise, member.max_load) == ([], None)


def test_conflicts_page_add_and_remove(staff_client, call):
    juror = JuryMemberFactory(call=call, user__email="claire@exemple.fr")
    proposal = eligible(call, "AMI2019-0001")
    review = Review.objects.create(proposal=proposal, juror=juror)
    response = staff_client.post(url("conflicts", call), {"juror": juror.pk, "proposal": proposal.pk,
                                                          "reason": "Ancienne directrice du projet."}, follow=True)
    assert "Conflit d'intérêts enregistré" in text(response)
    conflict = Conflict.objects.get()
    assert conflict.reason == "Ancienne directrice du projet."
    assert not Review.objects.filter(pk=review.pk).exists()
    page = text(staff_client.get(url("conflicts", call)))
    assert "Ancienne directrice du projet." in page and "Signalé par l'équipe du programme" in page

    staff_client.post(url("remove_conflict", call, conflict.pk))
    assert not Conflict.objects.exists()


def test_conflicts_page_refuses_a_juror_of_another_call(staff_client, call):
    stranger = JuryMemberFactory()
    proposal = eligible(call, "AMI2019-0001")
    response = staff_client.post(url("conflicts", call), {"juror": stranger.pk, "proposal": proposal.pk,
                                                          "reason": "Motif."})
    page = text(response)
    assert "Choisissez un membre du jury de cet appel." in page
    assert "Le conflit n'a pas été enregistré" in page
    assert not Conflict.objects.exists()
    other = ConflictFactory()
    assert staff_client.post(url("remove_conflict", call, other.pk)).status_code == 404
    assert Conflict.objects.count() == 1


def test_automatic_conflicts_are_listed_without_a_remove_button(staff_client, call):
    administration = AdministrationFactory(name="Cour des comptes")
    eligible(call, "AMI2019-0001", administration=administration)
    juror = JuryMemberFactory(call=call)
    MembershipFactory(user=juror.user, administration=administration)
    page = text(staff_client.get(url("conflicts", call)))
    assert "Automatique (même administration ou ministère)" in page
    assert "Membre de l'administration qui porte le projet (Cour des comptes" in page
    assert "Retirer" not in page


def test_proposal_expertise(staff_client, call):
    proposal = eligible(call, "AMI2019-0001")
    response = staff_client.post(url("proposal_expertise", call, proposal.pk), {"tags": "vision, santé"}, follow=True)
    assert "Expertises de AMI2019-0001 enregistrées." in text(response)
    proposal.refresh_from_db()
    assert proposal.expertise_tags == ["vision", "santé"]
    draft = ProposalFactory(call=call, status=ProposalStatus.DRAFT)
    assert staff_client.post(url("proposal_expertise", call, draft.pk), {"tags": "x"}).status_code == 404


def test_assignment_page_runs_and_shows_loads_and_uncovered(staff_client, call):
    call.reviews_per_proposal = 2
    call.save()
    administration = AdministrationFactory()
    blocked = eligible(call, "AMI2019-0001", administration=administration)
    eligible(call, "AMI2019-0002")
    insider = JuryMemberFactory(call=call, user__first_name="Inès", user__last_name="Interne")
    JuryMemberFactory(call=call, user__first_name="Oscar", user__last_name="Externe")
    MembershipFactory(user=insider.user, administration=administration)

    response = staff_client.post(url("run_assignment", call), follow=True)

    page = text(response)
    assert "Affectation terminée : 3 évaluations créées, 0 retirées, 0 conservées." in page
    assert "1 projet(s) n'ont pas tous leurs évaluateurs" in page
    assert "Écart de charge : 1 projet" in page
    assert "AMI2019-0001" in page
    assert "Seulement 1 évaluateur sans conflit d'intérêts pour 2 évaluations demandées." in page
    assert Review.objects.filter(proposal=blocked).count() == 1


def test_assignment_refused_after_review_phase(staff_client, call):
    call.status = CallStatus.DELIBERATION
    call.save()
    eligible(call, "AMI2019-0001")
    JuryMemberFactory(call=call)
    response = staff_client.post(url("run_assignment", call), follow=True)
    assert "L'affectation n'est possible que" in text(response)
    assert not Review.objects.exists()


def test_move_assignment_forged_ids_and_conflicts(staff_client, call):
    proposal = eligible(call, "AMI2019-0001")
    source = JuryMemberFactory(call=call)
    conflicted = JuryMemberFactory(call=call, user__first_name="Carla", user__last_name="Conflit")
    free = JuryMemberFactory(call=call)
    ConflictFactory(juror=conflicted, proposal=proposal)
    review = Review.objects.create(proposal=proposal, juror=source)

    other_review = ReviewFactory(status=ReviewStatus.ASSIGNED)
    assert staff_client.post(url("move_assignment", call, other_review.pk), {"to_juror": free.pk}).status_code == 404
    assert staff_client.post(url("move_assignment", call, 999999), {"to_juror": free.pk}).status_code == 404

    response = staff_client.post(url("move_assignment", call, review.pk), {"to_juror": conflicted.pk}, follow=True)
    assert "Carla Conflit a un conflit d'intérêts avec ce projet : l'affectation est refusée." in text(response)
    response = staff_client.post(url("move_assignment", call, review.pk), {"to_juror": JuryMemberFactory().pk},
                                 follow=True)
    assert "Ce membre ne fait pas partie du jury de cet appel." in text(response)
    assert Review.objects.get(pk=review.pk).juror == source

    staff_client.post(url("move_assignment", call, review.pk), {"to_juror": free.pk})
    assert list(Review.objects.filter(proposal=proposal).values_list("juror", flat=True)) == [free.pk]


def _board(call, n_proposals, n_jurors=3):
    jurors = [JuryMemberFactory(call=call) for _ in range(n_jurors)]
    for i in range(n_proposals):
        proposal = eligible(call, f"AMI2019-{i:04d}")
        status = ReviewStatus.SUBMITTED if i % 2 else ReviewStatus.ASSIGNED
        Review.objects.create(proposal=proposal, juror=jurors[i % n_jurors], status=status)
    return jurors


@pytest.mark.parametrize("n_proposals", [1, 50])
def test_progress_board_has_a_fixed_number_of_queries(staff_client, call, django_assert_num_queries, n_proposals):
    _board(call, n_proposals, n_jurors=1 if n_proposals == 1 else 10)
    staff_client.get(url("progress", call))  # warm the session, the user and whether they sit on a jury
    with django_assert_num_queries(5 + session_queries()):
        response = staff_client.get(url("progress", call))
    assert response.status_code == 200


def test_progress_board_counts_and_highlights_late_jurors(staff_client, call):
    call.review_deadline = timezone.now() - timedelta(days=1)
    call.save()
    late = JuryMemberFactory(call=call, user__first_name="Léa", user__last_name="Retard")
    done = JuryMemberFactory(call=call, user__first_name="Dan", user__last_name="Fini")
    first, second = eligible(call, "AMI2019-0001"), eligible(call, "AMI2019-0002")
    Review.objects.create(proposal=first, juror=late, status=ReviewStatus.SUBMITTED)
    Review.objects.create(proposal=second, juror=late, status=ReviewStatus.DRAFT)
    Review.objects.create(proposal=first, juror=done, status=ReviewStatus.SUBMITTED)
    hidden = Review.objects.create(proposal=second, juror=done, status=ReviewStatus.ASSIGNED)
    ConflictFactory(juror=done, proposal=second)  # a conflicted review counts for nothing
    assert Review.objects.filter(pk=hidden.pk).exists()

    page = text(staff_client.get(url("progress", call)))
    assert "2 évaluations soumises sur 3 attendues (67 %)." in page
    assert "En retard : 1 manquante" in page
    assert page.count("ami-late") == 1
    assert "Terminé" in page
    assert "Dépassée" in page


def test_move_without_a_target_is_refused_with_a_message(staff_client, call):
    review = Review.objects.create(proposal=eligible(call, "AMI2019-0001"), juror=JuryMemberFactory(call=call))
    response = staff_client.post(url("move_assignment", call, review.pk), {"to_juror": ""}, follow=True)
    assert "Choisissez le nouvel évaluateur." in text(response)
    assert Review.objects.get().juror == review.juror
