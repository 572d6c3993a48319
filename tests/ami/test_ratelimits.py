"""Rate limits: sign-up, password reset, jury invitations (sent and accepted) and submission answer 429 once
over their limit, in French, and change nothing; other people and GETs are not counted."""

import pytest
from django.core import mail
from django.urls import reverse

from ami import ratelimits
from ami.models import CallStatus, User
from applications.models import ProposalStatus
from jury.models import JuryInvitation
from tests.ami.factories import CallFactory, TrackFactory, UserFactory
from tests.applications.factories import MembershipFactory, complete_draft

pytestmark = pytest.mark.django_db

STRONG = "Une phrase de passe solide 2026"


def limit_of(rate):
    return int(rate.split("/")[0])


def assert_429(response):
    assert response.status_code == 429
    html = response.content.decode()
    assert "<h1>Trop de demandes</h1>" in html
    assert "Patientez quelques minutes, puis réessayez." in html


def test_rates_are_the_documented_ones():
    assert (ratelimits.SIGNUP, ratelimits.PASSWORD_RESET, ratelimits.INVITATION_ACCEPT) == ("5/15m", "5/15m", "10/15m")
    assert (ratelimits.JURY_INVITATION, ratelimits.SUBMIT) == ("60/h", "10/m")


def signup(client, n, ip):
    return client.post("/compte/inscription/", {
        "email": f"agent{n}@interieur.gouv.fr", "first_name": "Camille", "last_name": "Martin",
        "password1": STRONG, "password2": STRONG,
    }, REMOTE_ADDR=ip)


def test_signup_is_limited_per_address(client):
    for n in range(limit_of(ratelimits.SIGNUP)):
        assert signup(client, n, "203.0.113.7").status_code == 200
    assert User.objects.count() == 5
    for _ in range(3):
        assert client.get("/compte/inscription/", REMOTE_ADDR="203.0.113.7").status_code == 200  # GETs are free

    assert_429(signup(client, 99, "203.0.113.7"))
    assert not User.objects.filter(email="agent99@interieur.gouv.fr").exists()
    assert len(mail.outbox) == 5
    assert signup(client, 100, "198.51.100.2").status_code == 200  # another address is not affected
    assert User.objects.filter(email="agent100@interieur.gouv.fr").exists()


def test_password_reset_is_limited_per_address(client):
    UserFactory(email="agent@x.gouv.fr")
    for _ in range(limit_of(ratelimits.PASSWORD_RESET)):
        response = client.post("/compte/mot-de-passe/", {"email": "agent@x.gouv.fr"}, REMOTE_ADDR="203.0.113.8")
        assert response.status_code == 302
    assert len(mail.outbox) == 5

    assert_429(client.post("/compte/mot-de-passe/", {"email": "agent@x.gouv.fr"}, REMOTE_ADDR="203.0.113.8"))
    assert len(mail.outbox) == 5


def test_jury_invitations_are_limited_per_staff_member(client):
    call = CallFactory(status=CallStatus.ELIGIBILITY, slug="ami-ia-2019")
    staff = UserFactory(is_staff=True)
    url = reverse("jury_staff:jury", args=[call.slug])
    client.force_login(staff)
    for n in range(limit_of(ratelimits.JURY_INVITATION)):
        response = client.post(url, {"email": f"expert{n}@inria.fr", "role": "member", "pair_label": "",
                                     "expertise": ""})
        assert response.status_code == 302, response.content.decode()[:500]
    assert JuryInvitation.objects.count() == 60

    assert_429(client.post(url, {"email": "expert-de-trop@inria.fr", "role": "member", "pair_label": "",
                                 "expertise": ""}))
    assert JuryInvitation.objects.count() == 60
    invitation = JuryInvitation.objects.first()
    resend = reverse("jury_staff:resend_invitation", args=[call.slug, invitation.pk])
    assert_429(client.post(resend))  # resending counts against the same limit
    assert client.get(url).status_code == 200

    client.force_login(UserFactory(is_staff=True))  # a colleague has a limit of their own
    response = client.post(url, {"email": "une-autre@inria.fr", "role": "member", "pair_label": "", "expertise": ""})
    assert response.status_code == 302


def test_accepting_an_invitation_is_limited_per_address(client):
    url = reverse("jury:accept_invitation", args=["jeton-invalide"])
    for _ in range(limit_of(ratelimits.INVITATION_ACCEPT)):
        assert client.post(url, REMOTE_ADDR="203.0.113.9").status_code != 429
    assert_429(client.post(url, REMOTE_ADDR="203.0.113.9"))


def test_submission_is_limited_per_user(client):
    call = CallFactory(status=CallStatus.OPEN)
    TrackFactory(call=call)
    owner = MembershipFactory().user
    colleague = MembershipFactory(administration=owner.memberships.get().administration).user
    draft = complete_draft(call=call, administration=owner.memberships.get().administration, created_by=owner)
    url = reverse("applications:submit_proposal", args=[draft.pk])
    client.force_login(owner)
    for _ in range(limit_of(ratelimits.SUBMIT)):
        response = client.post(url, {})  # no version: refused with a message, and counted
        assert response.status_code == 200
        assert "Le formulaire de dépôt est incomplet" in response.content.decode()

    assert_429(client.post(url, {"version": draft.version}))
    draft.refresh_from_db()
    assert draft.status == ProposalStatus.DRAFT and not draft.submissions.exists()

    client.force_login(colleague)
    response = client.post(url, {"version": draft.version})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == ProposalStatus.SUBMITTED


def test_the_429_page_carries_the_security_headers(client):
    for n in range(limit_of(ratelimits.SIGNUP) + 1):
        response = signup(client, n, "203.0.113.10")
    assert_429(response)
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
