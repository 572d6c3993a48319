"""Inviting jury members by email: a signed, expiring link, usable once, that creates or links the account."""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ami.audit import record
from ami.mail import queue_email
from ami.models import OutboundEmail, User
from jury.models import JuryInvitation, JuryMember, JuryRole

SALT = "jury-invitation"


def _signer():
    return signing.TimestampSigner(salt=SALT)


def max_age_days():
    return settings.JURY_INVITATION_MAX_AGE_DAYS


def make_token(invitation):
    return _signer().sign(str(invitation.pk))


def invitation_link(invitation):
    return settings.SITE_URL + reverse("jury:accept_invitation", args=[make_token(invitation)])


def invitation_from_token(token):
    """The invitation a link designates, if it may still be accepted; otherwise ValidationError in French."""
    try:
        pk = _signer().unsign(token, max_age=timedelta(days=max_age_days()))
    except signing.SignatureExpired:
        raise ValidationError(
            _("Ce lien d'invitation a expiré : il était valable %(days)s jours. Demandez à l'équipe du programme "
              "de vous en envoyer un nouveau.") % {"days": max_age_days()}
        ) from None
    except signing.BadSignature:
        raise ValidationError(
            _("Ce lien d'invitation n'est pas valide. Vérifiez qu'il a été copié en entier.")
        ) from None
    invitation = JuryInvitation.objects.select_related("call").filter(pk=pk).first()
    if invitation is None or invitation.revoked_at:
        raise ValidationError(_("Cette invitation a été annulée par l'équipe du programme."))
    if invitation.accepted_at:
        raise ValidationError(_("Cette invitation a déjà été utilisée : chaque lien ne sert qu'une fois."))
    return invitation


def normalise_tags(text_or_list):
    """"NLP, santé ,nlp" → ["NLP", "santé"]: trimmed, without duplicates (case-insensitive), order kept."""
    values = text_or_list.split(",") if isinstance(text_or_list, str) else text_or_list
    seen, tags = set(), []
    for value in values:
        tag = " ".join(value.split())[:40]
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            tags.append(tag)
    return tags


def has_chair(call, *, excluding_invitation=None):
    """A chair sits already, or a pending invitation names one."""
    pending = JuryInvitation.objects.filter(call=call, role=JuryRole.CHAIR, accepted_at=None, revoked_at=None)
    if excluding_invitation is not None:
        pending = pending.exclude(pk=excluding_invitation.pk)
    return call.jury_members.filter(role=JuryRole.CHAIR).exists() or pending.exists()


@transaction.atomic
def invite_juror(*, call, email, role=JuryRole.MEMBER, pair_label="", expertise=(), by):
    """Staff invite someone to the jury of `call`.

    Side effects: one JuryInvitation row, one audit entry "jury.invited", and the invitation email
    queued (see `send_invitation`). Refuses (ValidationError, nothing changed) someone already on
    the jury, a pending invitation to the same address, and a second chair.
    """
    email = email.strip().lower()
    if call.jury_members.filter(user__email__iexact=email).exists():
        raise ValidationError(_("%(email)s fait déjà partie du jury de cet appel.") % {"email": email})
    if call.jury_invitations.filter(email__iexact=email, accepted_at=None, revoked_at=None).exists():
        raise ValidationError(
            _("Une invitation est déjà en attente pour %(email)s : renvoyez-la plutôt.") % {"email": email}
        )
    if role == JuryRole.CHAIR and has_chair(call):
        raise ValidationError(_("Ce jury a déjà un président (ou une invitation à la présidence en attente)."))
    invitation = JuryInvitation.objects.create(
        call=call, email=email, role=role, pair_label=pair_label.strip(), expertise=normalise_tags(expertise),
        invited_by=by,
    )
    record(action="jury.invited", actor=by, call=call, target=invitation, before={}, after=_state(invitation))
    send_invitation(invitation=invitation, by=by)
    return invitation


def _state(invitation):
    return {
        "email": invitation.email, "role": invitation.role, "pair": invitation.pair_label,
        "expertise": invitation.expertise,
    }


@transaction.atomic
def send_invitation(*, invitation, by):
    """Queues the invitation email with a fresh link (also how staff resend it).

    Side effects: one outbox row, key `jury-invitation:<id>:<n>` where n counts the sends, so each
    deliberate resend is a new message and a double click is not; one audit entry
    "jury.invitation_sent". Refuses an accepted or revoked invitation.
    """
    invitation = JuryInvitation.objects.select_for_update().select_related("call").get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(_("Cette invitation n'est plus en attente : elle ne peut pas être renvoyée."))
    number = OutboundEmail.objects.filter(key__startswith=f"jury-invitation:{invitation.pk}:").count() + 1
    context = {
        "call_title": invitation.call.title,
        "role": invitation.get_role_display(),
        "link": invitation_link(invitation),
        "days": max_age_days(),
        "expires_on": timezone.localtime(timezone.now() + timedelta(days=max_age_days())),
    }
    email, _created = queue_email(
        key=f"jury-invitation:{invitation.pk}:{number}", to=invitation.email, template_prefix="emails/jury_invitation",
        context=context, call=invitation.call,
    )
    record(action="jury.invitation_sent", actor=by, call=invitation.call, target=invitation, before={},
           after={"email": invitation.email, "number": number})
    return email


@transaction.atomic
def revoke_invitation(*, invitation, by):
    """Cancels a pending invitation: its links stop working. Side effects: `revoked_at` set, one audit entry."""
    updated = JuryInvitation.objects.filter(pk=invitation.pk, accepted_at=None, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise ValidationError(_("Cette invitation n'est plus en attente."))
    record(action="jury.invitation_revoked", actor=by, call=invitation.call, target=invitation,
           before={"email": invitation.email}, after={"revoked": True})


def create_invited_account(*, invitation, first_name, last_name, password):
    """The account of someone who had none: active and verified, since the link reached their mailbox.

    Side effects: one User row, one audit entry "account.created_by_invitation".
    """
    user = User.objects.create_user(
        email=invitation.email, password=password, first_name=first_name, last_name=last_name,
        email_verified_at=timezone.now(),
    )
    record(action="account.created_by_invitation", actor=user, call=invitation.call, target=user, before={},
           after={"email": user.email})
    return user


@transaction.atomic
def accept_invitation(*, invitation, user):
    """`user` accepts: they join the jury with the role, pair and expertise of the invitation.

    Side effects: the invitation marked accepted (a conditional update: a link works once, even
    when clicked twice at the same time), one JuryMember row (or the existing seat linked), one
    audit entry "jury.invitation_accepted". When a chair was named meanwhile, the newcomer joins as
    a member (the audit entry says so). Refuses another address than the invited one.
    """
    if user.email.lower() != invitation.email.lower():
        raise ValidationError(
            _("Cette invitation est adressée à %(email)s : connectez-vous avec cette adresse.")
            % {"email": invitation.email}
        )
    now = timezone.now()
    if not JuryInvitation.objects.filter(pk=invitation.pk, accepted_at=None, revoked_at=None).update(accepted_at=now):
        raise ValidationError(_("Cette invitation a déjà été utilisée : chaque lien ne sert qu'une fois."))
    member = JuryMember.objects.filter(call=invitation.call, user=user).first()
    if member is None:
        member = _new_member(invitation, user)
    JuryInvitation.objects.filter(pk=invitation.pk).update(member=member)
    invitation.refresh_from_db()
    record(action="jury.invitation_accepted", actor=user, call=invitation.call, target=member, before={},
           after={**_state(invitation), "role": member.role, "user": user.email})
    return member


def _new_member(invitation, user):
    role = invitation.role
    if role == JuryRole.CHAIR and invitation.call.jury_members.filter(role=JuryRole.CHAIR).exists():
        role = JuryRole.MEMBER
    try:
        with transaction.atomic():
            return JuryMember.objects.create(
                call=invitation.call, user=user, role=role, pair_label=invitation.pair_label,
                expertise=invitation.expertise,
            )
    except IntegrityError:  # a chair named between the check and the insert
        return JuryMember.objects.create(
            call=invitation.call, user=user, role=JuryRole.MEMBER, pair_label=invitation.pair_label,
            expertise=invitation.expertise,
        )
