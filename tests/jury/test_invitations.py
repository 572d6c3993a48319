"""Jury invitations: a signed, expiring link, usable once, that creates or links the account."""

import html
import time
from unittest import mock
from urllib.parse import quote

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from ami.models import AuditEvent, CallStatus, OutboundEmail, User
from jury.models import JuryInvitation, JuryMember, JuryRole
from jury.services import invitations as service
from tests.ami.factories import CallFactory, UserFactory
from tests.jury.factories import JuryMemberFactory

pytestmark = pytest.mark.django_db

PASSWORD = "un mot de passe très solide"


@pytest.fixture
def call():
    return CallFactory(status=CallStatus.ELIGIBILITY, slug="ami-ia-2019", title="AMI IA 2019")


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, email="programme@exemple.gouv.fr")


def invite(call, staff, email="nouvelle.experte@inria.fr", **kwargs):
    return service.invite_juror(call=call, email=email, by=staff, **kwargs)


def text(response):
    return html.unescape(response.content.decode())


def link_path(invitation):
    return reverse("jury:accept_invitation", args=[service.make_token(invitation)])


def test_invitation_queues_one_email_with_a_working_link(call, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(call, staff, email=" Nouvelle.Experte@Inria.fr ", role=JuryRole.MEMBER, pair_label="B2",
                            expertise="NLP, santé, nlp")
    assert (invitation.email, invitation.pair_label, invitation.expertise) == (
        "nouvelle.experte@inria.fr", "B2", ["NLP", "santé"])
    email = OutboundEmail.objects.get()
    assert email.key == f"jury-invitation:{invitation.pk}:1"
    assert email.to == "nouvelle.experte@inria.fr"
    assert email.subject == "Invitation au jury : AMI IA 2019 — Invitation to the jury"
    path = email.body_text.split("http://127.0.0.1:8000", 1)[1].split()[0]
    assert service.invitation_from_token(path.split("/")[-2]) == invitation
    assert "valable 14 jours" in email.body_text
    assert len(mail.outbox) == 1
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["jury.invited", "jury.invitation_sent"]


def test_resend_is_a_new_message_with_a_new_key(call, staff):
    invitation = invite(call, staff)
    service.send_invitation(invitation=invitation, by=staff)
    assert list(OutboundEmail.objects.values_list("key", flat=True)) == [
        f"jury-invitation:{invitation.pk}:1", f"jury-invitation:{invitation.pk}:2"]


def test_a_second_pending_invitation_or_a_sitting_member_is_refused(call, staff):
    invite(call, staff)
    with pytest.raises(ValidationError, match="déjà en attente"):
        invite(call, staff, email="NOUVELLE.EXPERTE@inria.fr")
    member = JuryMemberFactory(call=call, user__email="deja@exemple.fr")
    with pytest.raises(ValidationError, match="fait déjà partie du jury"):
        invite(call, staff, email=member.user.email)
    assert JuryInvitation.objects.count() == 1


def test_a_second_chair_is_refused_at_invitation(call, staff):
    invite(call, staff, email="presidente@exemple.fr", role=JuryRole.CHAIR)
    with pytest.raises(ValidationError, match="déjà un président"):
        invite(call, staff, email="autre@exemple.fr", role=JuryRole.CHAIR)
    assert JuryInvitation.objects.count() == 1


def test_newcomer_creates_the_account_and_joins_the_jury(client, call, staff):
    invitation = invite(call, staff, role=JuryRole.CHAIR, pair_label="B1", expertise="NLP, justice")
    response = client.get(link_path(invitation))
    assert response.status_code == 200
    assert "Créez votre compte" in text(response)
    assert "nouvelle.experte@inria.fr" in text(response)

    response = client.post(link_path(invitation), {
        "first_name": "Claire", "last_name": "Dupont", "password1": PASSWORD, "password2": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("jury:charter", args=[call.slug])
    user = User.objects.get(email="nouvelle.experte@inria.fr")
    assert user.email_verified_at is not None and user.check_password(PASSWORD)
    member = JuryMember.objects.get(call=call, user=user)
    assert (member.role, member.pair_label, member.expertise, member.charter_accepted_at) == (
        JuryRole.CHAIR, "B1", ["NLP", "justice"], None)
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None and invitation.member == member
    assert int(client.session["_auth_user_id"]) == user.pk
    assert AuditEvent.objects.filter(action="jury.invitation_accepted", target_id=str(member.pk)).exists()


def test_weak_password_keeps_the_form_and_creates_nothing(client, call, staff):
    invitation = invite(call, staff)
    response = client.post(link_path(invitation), {
        "first_name": "Claire", "last_name": "Dupont", "password1": "123", "password2": "123"})
    assert response.status_code == 200
    assert "Créez votre compte" in text(response)
    assert not User.objects.filter(email=invitation.email).exists()
    assert not JuryMember.objects.exists()


def test_a_reused_link_is_refused_and_changes_nothing(client, call, staff):
    invitation = invite(call, staff)
    path = link_path(invitation)
    client.post(path, {"first_name": "Claire", "last_name": "Dupont", "password1": PASSWORD, "password2": PASSWORD})
    before = (JuryMember.objects.count(), AuditEvent.objects.count())
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 400
        assert "Cette invitation a déjà été utilisée : chaque lien ne sert qu'une fois." in text(response)
    assert (JuryMember.objects.count(), AuditEvent.objects.count()) == before


def test_an_expired_link_is_refused(client, call, staff):
    invitation = invite(call, staff)
    path = link_path(invitation)
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 15 * 24 * 3600):
        response = client.get(path)
    assert response.status_code == 400
    assert "Ce lien d'invitation a expiré : il était valable 14 jours." in text(response)
    assert not User.objects.filter(email=invitation.email).exists()


def test_expiry_follows_the_setting(client, call, staff, settings):
    settings.JURY_INVITATION_MAX_AGE_DAYS = 30
    path = link_path(invite(call, staff))
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 15 * 24 * 3600):
        assert client.get(path).status_code == 200


def test_a_revoked_or_forged_link_is_refused(client, call, staff):
    invitation = invite(call, staff)
    path = link_path(invitation)
    service.revoke_invitation(invitation=invitation, by=staff)
    response = client.get(path)
    assert response.status_code == 400
    assert "Cette invitation a été annulée par l'équipe du programme." in text(response)
    forged = reverse("jury:accept_invitation", args=[f"{invitation.pk + 1}:abc:def"])
    response = client.get(forged)
    assert response.status_code == 400
    assert "Ce lien d'invitation n'est pas valide." in text(response)


def test_existing_account_must_log_in_with_the_invited_address(client, call, staff):
    invitee = UserFactory(email="jure@exemple.fr")
    invitation = invite(call, staff, email="jure@exemple.fr")
    path = link_path(invitation)

    response = client.get(path)
    assert "Un compte existe déjà pour jure@exemple.fr" in text(response)
    assert f"/compte/connexion/?next={quote(path, safe='')}" in text(response)
    assert client.post(path, {"first_name": "X", "last_name": "Y", "password1": PASSWORD,
                              "password2": PASSWORD}).status_code == 200
    assert not JuryMember.objects.exists()

    client.force_login(UserFactory(email="quelquun.dautre@exemple.fr"))
    response = client.post(path)
    assert response.status_code == 403
    assert "Cette invitation est adressée à jure@exemple.fr" in text(response)
    assert not JuryMember.objects.exists()

    client.force_login(invitee)
    assert "Accepter l'invitation" in text(client.get(path))
    response = client.post(path)
    assert response["Location"] == reverse("jury:charter", args=[call.slug])
    assert JuryMember.objects.get().user == invitee


def test_a_chair_named_meanwhile_makes_the_invitee_a_member(call, staff):
    invitation = invite(call, staff, role=JuryRole.CHAIR)
    JuryMemberFactory(call=call, role=JuryRole.CHAIR)
    user = UserFactory(email=invitation.email)
    member = service.accept_invitation(invitation=invitation, user=user)
    assert member.role == JuryRole.MEMBER


def test_the_invited_address_only(call, staff):
    invitation = invite(call, staff)
    with pytest.raises(ValidationError, match="adressée à"):
        service.accept_invitation(invitation=invitation, user=UserFactory())
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
