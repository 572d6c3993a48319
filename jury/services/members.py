"""The jury of a call as staff shape it: the chair, the pairs, the expertise of members and proposals."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ami.audit import record
from jury.models import JuryMember, JuryRole
from jury.services.invitations import normalise_tags


def _member_state(member):
    return {
        "user": member.user.email, "role": member.role, "pair": member.pair_label, "expertise": member.expertise,
        "max_load": member.max_load,
    }


@transaction.atomic
def name_chair(*, member, by):
    """Makes `member` the chair of their call's jury.

    Side effects: the role saved, one audit entry "jury.chair_named". Refuses (ValidationError,
    nothing changed) when another member chairs already: staff first make them a plain member.
    """
    member = JuryMember.objects.select_for_update().select_related("user", "call").get(pk=member.pk)
    if member.role == JuryRole.CHAIR:
        return member
    chair = member.call.jury_members.filter(role=JuryRole.CHAIR).select_related("user").first()
    if chair is not None:
        raise ValidationError(
            _("%(name)s préside déjà ce jury : un jury n'a qu'un président. Retirez-lui d'abord la présidence.")
            % {"name": chair.user.get_full_name() or chair.user.email}
        )
    before = _member_state(member)
    member.role = JuryRole.CHAIR
    try:
        with transaction.atomic():
            member.save(update_fields=["role"])
    except IntegrityError:
        raise ValidationError(_("Ce jury a déjà un président.")) from None
    record(action="jury.chair_named", actor=by, call=member.call, target=member, before=before,
           after=_member_state(member))
    return member


@transaction.atomic
def remove_chair(*, member, by):
    """The chair becomes a plain member. Side effects: the role saved, one audit entry "jury.chair_removed"."""
    member = JuryMember.objects.select_for_update().select_related("user", "call").get(pk=member.pk)
    if member.role != JuryRole.CHAIR:
        return member
    before = _member_state(member)
    member.role = JuryRole.MEMBER
    member.save(update_fields=["role"])
    record(action="jury.chair_removed", actor=by, call=member.call, target=member, before=before,
           after=_member_state(member))
    return member


@transaction.atomic
def update_member(*, member, pair_label, expertise, max_load, by):
    """Changes a member's pair, expertise tags and maximum load (None: no maximum).

    Side effects: the member saved and one audit entry "jury.member_updated" with before and after
    (none when nothing changed). The reviews already assigned stay: staff re-run the assignment.
    """
    member = JuryMember.objects.select_for_update().select_related("user", "call").get(pk=member.pk)
    before = _member_state(member)
    member.pair_label = pair_label.strip()
    member.expertise = normalise_tags(expertise)
    member.max_load = max_load
    after = _member_state(member)
    if after != before:
        member.save(update_fields=["pair_label", "expertise", "max_load"])
        record(action="jury.member_updated", actor=by, call=member.call, target=member, before=before, after=after)
    return member


@transaction.atomic
def set_proposal_expertise(*, proposal, tags, by):
    """Staff tag a proposal with the expertise it needs (used by the automatic assignment).

    Side effects: `Proposal.expertise_tags` saved, one audit entry "proposal.expertise_set".
    """
    before = {"expertise": proposal.expertise_tags}
    proposal.expertise_tags = normalise_tags(tags)
    proposal.save(update_fields=["expertise_tags", "updated_at"])
    record(action="proposal.expertise_set", actor=by, call=proposal.call, target=proposal, before=before,
           after={"expertise": proposal.expertise_tags})
    return proposal
