"""Business actions on proposals. Each function lists its side effects."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ami import audit
from applications import rules
from applications.models import (
    PROPOSAL_TRANSITIONS,
    Administration,
    Membership,
    MembershipStatus,
    Proposal,
    ProposalStatus,
    ProposalTransition,
)

# The proposal fields an applicant edits in a draft (everything else belongs to the workflow).
DRAFT_FIELDS = (
    "title", "summary", "problem", "data_description", "ai_approach", "team",
    "expected_benefits", "requested_amount_eur", "requested_track", "eligibility_answers",
)

# The sections of the proposal form, in order: (title, draft fields). The form shows one section per
# step (applications.forms.FORM_STEPS); a reader of a proposal can group its fields the same way.
PROPOSAL_SECTIONS = (
    (gettext_lazy("Identité et contacts"), ("title", "summary")),
    (gettext_lazy("Le problème et les personnes concernées"), ("problem",)),
    (gettext_lazy("Les données"), ("data_description",)),
    (gettext_lazy("L'approche par l'intelligence artificielle"), ("ai_approach",)),
    (gettext_lazy("L'équipe et la gouvernance"), ("team",)),
    (gettext_lazy("Les bénéfices attendus et leur mesure"), ("expected_benefits",)),
    (gettext_lazy("L'accompagnement demandé"), ("requested_track", "requested_amount_eur")),
    (gettext_lazy("Les questions de recevabilité"), ("eligibility_answers",)),
)


class DraftConflict(ValidationError):
    """The draft changed since the editor loaded it: nothing was saved."""


@transaction.atomic
def transition_proposal(*, proposal, to_status, by=None, reason=""):
    """Moves `proposal` to `to_status` when the transition table allows it.

    Side effects: locks and saves the proposal's status; writes one ProposalTransition row.
    Raises ValidationError (nothing saved) for a refused transition.
    """
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    current, target = ProposalStatus(locked.status), ProposalStatus(to_status)
    if target not in PROPOSAL_TRANSITIONS[current]:
        raise ValidationError(
            _("Passage impossible du statut « %(from)s » au statut « %(to)s ».")
            % {"from": current.label, "to": target.label},
            code="illegal_transition",
        )
    locked.status = target
    locked.save(update_fields=["status", "updated_at"])
    ProposalTransition.objects.create(proposal=locked, from_status=current, to_status=target, by=by, reason=reason)
    proposal.status = target
    return locked


def next_reference(call):
    """The next free reference of the call, such as AMI2019-0042 (call this under a lock on the call)."""
    taken = Proposal.objects.filter(call=call).exclude(reference="").count()
    return f"{call.reference_prefix}-{taken + 1:04d}"


@transaction.atomic
def assign_reference_and_submit(*, proposal, by=None, at=None):
    """Gives a draft its reference and marks it submitted (used by the demo and the submission flow).

    Side effects: locks the call row (references stay sequential), saves the proposal,
    writes one ProposalTransition row.
    """
    from ami.models import Call

    call = Call.objects.select_for_update(no_key=True).get(pk=proposal.call_id)
    if not proposal.reference:
        proposal.reference = next_reference(call)
    proposal.submitted_at = at or timezone.now()
    proposal.save(update_fields=["reference", "submitted_at", "updated_at"])
    return transition_proposal(proposal=proposal, to_status=ProposalStatus.SUBMITTED, by=by)


@transaction.atomic
def request_membership(*, user, administration):
    """Asks to join `administration`; returns the membership (an existing one is returned unchanged,
    except a revoked one, which asks again).

    Side effects: creates (or moves back to pending) one Membership row in status PENDING, with one
    audit entry "membership.requested"; nothing when the membership already exists (pending or active).
    """
    membership, created = Membership.objects.select_for_update().get_or_create(
        user=user, administration=administration, defaults={"status": MembershipStatus.PENDING}
    )
    before = None
    if not created and membership.status == MembershipStatus.REVOKED:
        before = {"status": MembershipStatus.REVOKED}
        membership.status = MembershipStatus.PENDING
        membership.confirmed_by, membership.confirmed_at = None, None
        membership.save(update_fields=["status", "confirmed_by", "confirmed_at"])
    if created or before:
        audit.record(action="membership.requested", actor=user, target=membership, before=before,
                     after={"administration": administration.pk, "status": MembershipStatus.PENDING})
    return membership


@transaction.atomic
def propose_administration(*, user, name, kind, ministry, acronym=""):
    """Proposes an administration missing from the registry and asks to join it.

    Side effects: creates one Administration with approved=False (programme staff validate it),
    with one audit entry "administration.proposed", and one pending Membership for `user` (see
    request_membership).
    """
    administration = Administration.objects.create(
        name=name.strip(), acronym=acronym.strip(), kind=kind, ministry=ministry.strip(), approved=False
    )
    audit.record(action="administration.proposed", actor=user, target=administration, after={
        "name": administration.name, "acronym": administration.acronym, "kind": administration.kind,
        "ministry": administration.ministry, "approved": False})
    return administration, request_membership(user=user, administration=administration)


@transaction.atomic
def confirm_membership(*, membership, by):
    """Confirms a pending membership on behalf of `by` (staff, or an active member of the same administration).

    Side effects: one conditional UPDATE of the membership (status ACTIVE, confirmed_by, confirmed_at)
    and one audit entry "membership.confirmed"; nothing when it was no longer pending.
    Raises PermissionDenied (nothing saved) for anyone else. Returns True when this call confirmed it.
    """
    if not rules.can_confirm_membership(by, membership):
        raise PermissionDenied(_("Seul un membre confirmé de cette administration peut confirmer ses membres."))
    now = timezone.now()
    confirmed = Membership.objects.filter(pk=membership.pk, status=MembershipStatus.PENDING).update(
        status=MembershipStatus.ACTIVE, confirmed_by=by, confirmed_at=now
    )
    if confirmed:
        membership.status, membership.confirmed_by, membership.confirmed_at = MembershipStatus.ACTIVE, by, now
        audit.record(action="membership.confirmed", actor=by, target=membership,
                     before={"status": MembershipStatus.PENDING},
                     after={"administration": membership.administration_id, "status": MembershipStatus.ACTIVE,
                            "user": membership.user_id})
    return bool(confirmed)


@transaction.atomic
def start_draft(*, call, administration, by, force_new=False, title=""):
    """Returns the administration's draft for `call`, creating one when there is none (or when `force_new`).

    Returns (proposal, created). Side effects: locks the call row so that two colleagues clicking at
    the same time get one draft; creates at most one Proposal in status DRAFT.
    Raises ValidationError (nothing saved) when the call is not open.
    """
    from ami.models import Call

    call = Call.objects.select_for_update(no_key=True).get(pk=call.pk)
    if not call.is_open:
        raise ValidationError(
            _("Cet appel n'est pas ouvert aux candidatures : il n'est pas possible d'y créer un projet."),
            code="call_not_open",
        )
    if not force_new:
        existing = Proposal.objects.filter(call=call, administration=administration, status=ProposalStatus.DRAFT)
        draft = existing.order_by("-updated_at", "-pk").first()
        if draft is not None:
            return draft, False
    proposal = Proposal.objects.create(
        call=call, administration=administration, created_by=by,
        title=title.strip() or _("Projet sans titre"), status=ProposalStatus.DRAFT,
    )
    return proposal, True


def _stored_value(value):
    """A value as the database compares it (a track by its id), to tell which fields a save changes."""
    return getattr(value, "pk", value)


def changed_fields(proposal, values):
    """The names, among `values`, whose value differs from the proposal as it was read."""
    return [name for name, value in values.items()
            if getattr(proposal, Proposal._meta.get_field(name).attname) != _stored_value(value)]


@transaction.atomic
def save_draft(*, proposal, data, version, by):
    """Saves the editable fields of a draft if nobody saved it since `version` was read.

    `data` maps names of DRAFT_FIELDS to cleaned values (other keys are ignored; absent ones keep
    their value, so a step of the form saves only its own fields). Side effects: one conditional
    UPDATE of the proposal that increments its version, and one audit entry "proposal.draft_saved"
    naming the changed fields and the new version (never their text) when something changed;
    nothing at all on a version conflict (raises DraftConflict) or when the proposal is no longer
    a draft (raises ValidationError). Returns the new version.
    """
    values = {name: data[name] for name in DRAFT_FIELDS if name in data}
    changed = changed_fields(proposal, values)
    updated = Proposal.objects.filter(pk=proposal.pk, version=version, status=ProposalStatus.DRAFT).update(
        **values, version=F("version") + 1, updated_at=timezone.now()
    )
    if not updated:
        current = Proposal.objects.filter(pk=proposal.pk).values_list("status", flat=True).first()
        if current != ProposalStatus.DRAFT:
            raise ValidationError(
                _("Ce projet n'est plus un brouillon : il ne peut plus être modifié."), code="not_draft"
            )
        raise DraftConflict(
            _("Un membre de votre administration a modifié ce brouillon pendant que vous le modifiiez. "
              "Vos modifications ne sont pas enregistrées : elles restent affichées ci-dessous. "
              "Copiez-les, rechargez la page pour voir la version enregistrée, puis reportez-les."),
            code="conflict",
        )
    for name, value in values.items():
        setattr(proposal, name, value)
    proposal.version = version + 1
    if changed:
        audit.record(action="proposal.draft_saved", actor=by, call=proposal.call, target=proposal,
                     after={"fields": changed, "version": proposal.version})
    return proposal.version
