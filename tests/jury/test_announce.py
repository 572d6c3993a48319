import html

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from ami.models import CallStatus, EmailStatus, OutboundEmail
from applications.models import ProposalStatus
from jury.models import AnnouncementTemplate, Deliberation, Outcome
from jury.services import announce
from tests.ami.factories import CallFactory, TrackFactory, UserFactory
from tests.applications.factories import AdministrationFactory, MembershipFactory, ProposalFactory
from tests.jury.factories import DecisionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def call():
    """A locked deliberation: one laureate (two contacts), one waiting, one not selected."""
    call = CallFactory(status=CallStatus.DELIBERATION, title="AMI IA test")
    track = TrackFactory(call=call, name="Parcours technique")
    for n, outcome in enumerate([Outcome.LAUREATE, Outcome.WAITING_LIST, Outcome.NOT_SELECTED], start=1):
        administration = AdministrationFactory()
        owner = MembershipFactory(administration=administration, user__email=f"porteur{n}@example.gouv.fr").user
        proposal = ProposalFactory(
            call=call, administration=administration, reference=f"AMI-{n:04d}", created_by=owner,
            title=f"Projet <b>{n}</b>", status=ProposalStatus.ELIGIBLE,
        )
        if n == 1:
            colleague = MembershipFactory(administration=administration, user__email="collegue@example.gouv.fr").user
            proposal.submissions.create(number=1, proposal_version=1, snapshot={}, sha256="0" * 64,
                                        submitted_by=colleague, submitted_at=timezone.now())
            MembershipFactory(administration=administration)  # a member who neither wrote nor submitted it
        DecisionFactory(proposal=proposal, outcome=outcome, track=track, rank=n, granted_amount_eur=
                        120_000 if outcome == Outcome.LAUREATE else None, reason=f"Motif {n}.")
    Deliberation.objects.create(call=call, locked_at=timezone.now())
    return call


def test_recipients_are_the_author_and_the_submitters_still_active(call):
    laureate = call.proposals.get(reference="AMI-0001")

    assert announce.recipients(laureate) == ["collegue@example.gouv.fr", "porteur1@example.gouv.fr"]


def test_recipients_fall_back_to_every_active_member(call):
    proposal = call.proposals.get(reference="AMI-0002")
    proposal.created_by = None
    proposal.save()

    assert announce.recipients(proposal) == ["porteur2@example.gouv.fr"]


def test_preview_counts_by_outcome(call):
    assert announce.preview_counts(call) == {"laureate": (1, 2), "waiting_list": (1, 1), "not_selected": (1, 1)}


def test_announce_queues_one_message_per_contact_and_publishes(call, django_capture_on_commit_callbacks):
    staff = UserFactory(is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert announce.announce_call(call=call, by=staff) == 4

    call.refresh_from_db()
    assert call.status == CallStatus.ANNOUNCED
    assert sorted(m.to[0] for m in mail.outbox) == [
        "collegue@example.gouv.fr", "porteur1@example.gouv.fr", "porteur2@example.gouv.fr", "porteur3@example.gouv.fr",
    ]
    laureate_mail = next(m for m in mail.outbox if m.to == ["porteur1@example.gouv.fr"])
    assert laureate_mail.subject == (
        "AMI IA test : votre projet « Projet <b>1</b> » est lauréat / Your project is a laureate"
    )
    assert "Accompagnement attribué : Parcours technique, 120\u202f000\u00a0€." in laureate_mail.body
    assert "Projet &lt;b&gt;1&lt;/b&gt;" in laureate_mail.alternatives[0][0]
    assert set(OutboundEmail.objects.values_list("kind", flat=True)) == {
        "announce:laureate", "announce:waiting_list", "announce:not_selected",
    }
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


def test_announcing_twice_is_refused_and_sends_nothing_more(call, django_capture_on_commit_callbacks):
    staff = UserFactory(is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        announce.announce_call(call=call, by=staff)
    with pytest.raises(ValidationError, match="Seul un appel en phase de délibération"):
        announce.announce_call(call=call, by=staff)

    assert OutboundEmail.objects.count() == 4
    assert len(mail.outbox) == 4


def test_announcing_before_the_lock_is_refused_and_changes_nothing(call):
    Deliberation.objects.filter(call=call).update(locked_at=None)

    with pytest.raises(ValidationError, match="pas encore arrêtées"):
        announce.announce_call(call=call, by=UserFactory(is_staff=True))
    call.refresh_from_db()
    assert call.status == CallStatus.DELIBERATION
    assert OutboundEmail.objects.count() == 0


def test_staff_templates_replace_the_defaults(call, django_capture_on_commit_callbacks):
    AnnouncementTemplate.objects.create(call=call, outcome=Outcome.NOT_SELECTED, subject="Décision : {{ reference }}",
                                        body_text="Projet {{ titre }} — {{ motif }}", body_html="")
    with django_capture_on_commit_callbacks(execute=True):
        announce.announce_call(call=call, by=UserFactory(is_staff=True))

    message = next(m for m in mail.outbox if m.to == ["porteur3@example.gouv.fr"])
    assert (message.subject, message.body, message.alternatives) == (
        "Décision : AMI-0003", "Projet Projet <b>3</b> — Motif 3.", [],
    )


def test_a_template_cannot_reach_objects_only_strings(call):
    template = AnnouncementTemplate(call=call, outcome=Outcome.LAUREATE, subject="{{ reference }}{{ user.email }}",
                                    body_text="{{ settings.SECRET_KEY }}{{ request }}{{ proposal.pk }}")
    decision = call.proposals.get(reference="AMI-0001").decision

    subject, text, _ = announce.render(template, announce.placeholders_for(decision))
    assert (subject, text) == ("AMI-0001", "")
    with pytest.raises(ValidationError, match="Modèle invalide"):
        announce.check_template("{{ titre.__class__ }}")


def test_a_broken_template_is_refused():
    with pytest.raises(ValidationError, match="Modèle invalide"):
        announce.check_template("{% if %}")


# --- views --------------------------------------------------------------------------------------


def test_the_announce_page_shows_counts_previews_and_placeholders(client, call):
    client.force_login(UserFactory(is_staff=True))
    raw = client.get(reverse("announce:page", args=[call.slug])).content.decode()
    page = html.unescape(raw)

    assert "<b>1</b>" not in raw and "Projet &lt;b&gt;1&lt;/b&gt;" in raw  # escaped in the preview
    assert "AMI IA test : votre projet « Projet <b>1</b> » est lauréat" in page
    assert 'id="announce-form"' in page
    assert "4 messages partiront" in page


def test_the_announce_page_lists_what_blocks(client, call):
    Deliberation.objects.filter(call=call).update(locked_at=None)
    client.force_login(UserFactory(is_staff=True))
    page = html.unescape(client.get(reverse("announce:page", args=[call.slug])).content.decode())

    assert "Les décisions du jury ne sont pas encore arrêtées" in page
    assert 'id="announce-form"' not in page


def test_announcing_needs_the_confirmation_box(client, call):
    client.force_login(UserFactory(is_staff=True))
    response = client.post(reverse("announce:announce", args=[call.slug]), follow=True)

    assert "Cochez la case de confirmation" in html.unescape(response.content.decode())
    call.refresh_from_db()
    assert call.status == CallStatus.DELIBERATION


def test_announce_then_outbox_shows_progress(client, call, django_capture_on_commit_callbacks):
    client.force_login(UserFactory(is_staff=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("announce:announce", args=[call.slug]), {"confirm": "on"}, follow=True)

    page = html.unescape(response.content.decode())
    assert "Résultats annoncés : 4 messages partent." in page
    assert client.get(reverse("announce:outbox_status", args=[call.slug])).json() == {
        "total": 4, "sent": 4, "failed": 0, "queued": 0, "percent": 100,
    }
    assert client.get(reverse("laureates", args=[call.slug])).status_code == 200


def test_saving_a_broken_template_says_why_and_keeps_the_old_one(client, call):
    client.force_login(UserFactory(is_staff=True))
    response = client.post(
        reverse("announce:save_template", args=[call.slug, "laureate"]),
        {"laureate-subject": "{% if %}", "laureate-body_text": "x", "laureate-body_html": ""}, follow=True,
    )

    assert "Modèle invalide" in html.unescape(response.content.decode())
    assert not AnnouncementTemplate.objects.exists()


def test_retry_puts_failed_messages_back(client, call, django_capture_on_commit_callbacks):
    OutboundEmail.objects.create(key="x", to="a@example.gouv.fr", subject="s", body_text="t", call=call,
                                 status=EmailStatus.FAILED, attempts=5)
    client.force_login(UserFactory(is_staff=True))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("announce:retry", args=[call.slug]))

    assert OutboundEmail.objects.get(key="x").status == EmailStatus.SENT


@pytest.mark.parametrize("persona", ["applicant", "juror"])
def test_outsiders_get_404(client, call, persona):
    user = MembershipFactory().user if persona == "applicant" else UserFactory()
    client.force_login(user)
    for name in ("page", "outbox", "outbox_status"):
        assert client.get(reverse(f"announce:{name}", args=[call.slug])).status_code == 404
    assert client.post(reverse("announce:announce", args=[call.slug]), {"confirm": "on"}).status_code == 404
    call.refresh_from_db()
    assert call.status == CallStatus.DELIBERATION


def test_outbox_pages_keep_the_status_filter(client, call):
    OutboundEmail.objects.bulk_create(
        OutboundEmail(key=f"k{n}", to=f"a{n}@example.gouv.fr", subject="s", body_text="t", call=call,
                      status=EmailStatus.FAILED) for n in range(55)
    )
    client.force_login(UserFactory(is_staff=True))
    page = client.get(reverse("announce:outbox", args=[call.slug]), {"statut": "failed"}).content.decode()

    assert 'href="?statut=failed&amp;page=2"' in page
    assert page.count("a0@example.gouv.fr") + page.count("a54@example.gouv.fr") >= 1
    second = client.get(reverse("announce:outbox", args=[call.slug]), {"statut": "failed", "page": 2}).content.decode()
    assert second.count("@example.gouv.fr</td>") == 5
