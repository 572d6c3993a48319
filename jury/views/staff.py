"""The staff side of the jury: members and invitations, conflicts, expertise, assignment, progress.

Staff only: visitors are sent to the login page, signed-in people who are not staff get a 404.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ami import ratelimits
from ami.access import staff_required
from ami.models import Call, OutboundEmail, User
from applications.models import Proposal, ProposalStatus
from jury.forms_staff import (
    InvitationForm,
    MemberForm,
    MoveForm,
    ProposalExpertiseForm,
    StaffConflictForm,
    tags_initial,
)
from jury.models import Conflict, JuryInvitation, Review
from jury.services import assignment as assignment_service
from jury.services import conflicts as conflict_service
from jury.services import invitations as invitation_service
from jury.services import members as member_service
from jury.services.progress import progress_board


def _call(request, slug):
    return get_object_or_404(Call.objects.visible_to(request.user), slug=slug)


def _crumbs(call, current):
    return {
        "links": [
            {"url": reverse("staff:home"), "title": _("Espace équipe")},
            {"url": reverse("staff:call", args=[call.slug]), "title": call.title},
        ],
        "current": current,
    }


def _page(request, call, template, section, title, **context):
    context.update(call=call, section=section, breadcrumb_data=_crumbs(call, title))
    return render(request, f"jury/staff/{template}", context)


def _error(request, error):
    for message in error.messages:
        messages.error(request, message)


# Members and invitations


def _invitation_rows(call):
    """Pending and past invitations with the date of their last email and whether that link expired."""
    sent = {}
    for key, created_at in OutboundEmail.objects.filter(call=call, key__startswith="jury-invitation:").values_list(
        "key", "created_at"
    ):
        invitation_id = int(key.split(":")[1])
        sent[invitation_id] = max(created_at, sent.get(invitation_id, created_at))
    max_age = timedelta(days=invitation_service.max_age_days())
    rows = []
    for invitation in call.jury_invitations.select_related("member").order_by("-created_at"):
        last = sent.get(invitation.pk)
        invitation.last_sent_at = last
        invitation.expired = bool(
            not invitation.accepted_at and not invitation.revoked_at and last and last + max_age < timezone.now()
        )
        rows.append(invitation)
    return rows


def _candidate_conflicts(call, email):
    """What staff see before inviting: the conflicts the person would have, if they have an account."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        return {"email": email, "has_account": False, "lines": []}
    return {"email": email, "has_account": True, "lines": conflict_service.conflicts_of(call=call, user=user)}


@staff_required
@ratelimits.per_user("jury-invitation", ratelimits.JURY_INVITATION)
def jury(request, slug):
    call = _call(request, slug)
    form = InvitationForm(request.POST or None, action=reverse("jury_staff:jury", args=[call.slug]))
    check = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "check" in request.POST:
            check = _candidate_conflicts(call, data["email"])
        else:
            try:
                invitation_service.invite_juror(
                    call=call, email=data["email"], role=data["role"], pair_label=data["pair_label"],
                    expertise=data["expertise"], by=request.user,
                )
            except ValidationError as error:
                _error(request, error)
            else:
                messages.success(request, _("Invitation envoyée à %(email)s.") % {"email": data["email"]})
                return redirect("jury_staff:jury", slug=call.slug)
    members = list(call.jury_members.select_related("user", "invitation").order_by("pair_label", "role", "id"))
    for member in members:
        member.invitation_row = getattr(member, "invitation", None)  # seated without an invitation: None
    return _page(
        request, call, "jury.html", "jury", _("Jury"),
        members=members, invitations=_invitation_rows(call), form=form, check=check,
        max_age_days=invitation_service.max_age_days(),
    )


def _invitation(request, slug, pk):
    call = _call(request, slug)
    return call, get_object_or_404(JuryInvitation.objects.filter(call=call), pk=pk)


@staff_required
@require_POST
@ratelimits.per_user("jury-invitation", ratelimits.JURY_INVITATION)
def resend_invitation(request, slug, pk):
    call, invitation = _invitation(request, slug, pk)
    try:
        invitation_service.send_invitation(invitation=invitation, by=request.user)
    except ValidationError as error:
        _error(request, error)
    else:
        messages.success(request, _("Invitation renvoyée à %(email)s, avec un nouveau lien.") % {
            "email": invitation.email})
    return redirect("jury_staff:jury", slug=call.slug)


@staff_required
@require_POST
def revoke_invitation(request, slug, pk):
    call, invitation = _invitation(request, slug, pk)
    try:
        invitation_service.revoke_invitation(invitation=invitation, by=request.user)
    except ValidationError as error:
        _error(request, error)
    else:
        messages.success(request, _("Invitation de %(email)s annulée : son lien ne fonctionne plus.") % {
            "email": invitation.email})
    return redirect("jury_staff:jury", slug=call.slug)


def _member(request, slug, pk):
    call = _call(request, slug)
    return call, get_object_or_404(call.jury_members.select_related("user"), pk=pk)


@staff_required
def member_edit(request, slug, pk):
    call, member = _member(request, slug, pk)
    initial = {"pair_label": member.pair_label, "expertise": tags_initial(member.expertise),
               "max_load": member.max_load}
    form = MemberForm(request.POST or None, initial=initial,
                      action=reverse("jury_staff:member_edit", args=[call.slug, member.pk]))
    if request.method == "POST" and form.is_valid():
        member_service.update_member(member=member, by=request.user, **form.cleaned_data)
        messages.success(request, _("Membre du jury mis à jour."))
        return redirect("jury_staff:jury", slug=call.slug)
    name = member.user.get_full_name() or member.user.email
    return _page(request, call, "member_edit.html", "jury", name, member=member, form=form)


@staff_required
@require_POST
def name_chair(request, slug, pk):
    call, member = _member(request, slug, pk)
    try:
        member_service.name_chair(member=member, by=request.user)
    except ValidationError as error:
        _error(request, error)
    else:
        messages.success(request, _("%(name)s préside le jury.") % {
            "name": member.user.get_full_name() or member.user.email})
    return redirect("jury_staff:jury", slug=call.slug)


@staff_required
@require_POST
def remove_chair(request, slug, pk):
    call, member = _member(request, slug, pk)
    member_service.remove_chair(member=member, by=request.user)
    messages.success(request, _("%(name)s n'est plus président du jury.") % {
        "name": member.user.get_full_name() or member.user.email})
    return redirect("jury_staff:jury", slug=call.slug)


# Conflicts of interest


def _submitted_proposals(call):
    return Proposal.objects.filter(call=call).submitted().select_related("administration").order_by("reference")


@staff_required
def conflicts(request, slug):
    call = _call(request, slug)
    jurors = call.jury_members.select_related("user").order_by("pair_label", "id")
    form = StaffConflictForm(request.POST or None, jurors=jurors, proposals=_submitted_proposals(call),
                             action=reverse("jury_staff:conflicts", args=[call.slug]))
    if request.method == "POST":
        if form.is_valid():
            try:
                conflict_service.add_staff_conflict(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                _error(request, error)
            else:
                messages.success(request, _("Conflit d'intérêts enregistré : ce membre ne verra pas ce projet."))
                return redirect("jury_staff:conflicts", slug=call.slug)
        else:
            messages.error(request, _("Le conflit n'a pas été enregistré : corrigez le formulaire."))
    juror_list = list(jurors)
    by_juror = conflict_service.conflicts_by_juror(call=call, jurors=juror_list, proposals=list(
        _submitted_proposals(call)))
    rows = [(juror, by_juror[juror.pk]) for juror in juror_list]
    return _page(request, call, "conflicts.html", "conflicts", _("Conflits d'intérêts"), rows=rows, form=form,
                 total=sum(len(lines) for _juror, lines in rows))


@staff_required
@require_POST
def remove_conflict(request, slug, pk):
    call = _call(request, slug)
    conflict = get_object_or_404(Conflict.objects.filter(juror__call=call).select_related("juror__user"), pk=pk)
    conflict_service.remove_conflict(conflict=conflict, by=request.user)
    messages.success(request, _("Conflit d'intérêts retiré."))
    return redirect("jury_staff:conflicts", slug=call.slug)


# Expertise of proposals


def _eligible(call):
    return Proposal.objects.filter(call=call, status=ProposalStatus.ELIGIBLE).select_related("administration")


@staff_required
def expertise(request, slug):
    call = _call(request, slug)
    proposals = list(_eligible(call).order_by("reference"))
    for proposal in proposals:
        proposal.form = ProposalExpertiseForm(
            initial={"tags": tags_initial(proposal.expertise_tags)}, auto_id=f"id_p{proposal.pk}_%s"
        )
    return _page(request, call, "expertise.html", "expertise", _("Expertises des projets"), proposals=proposals)


@staff_required
@require_POST
def proposal_expertise(request, slug, pk):
    call = _call(request, slug)
    proposal = get_object_or_404(_eligible(call), pk=pk)
    form = ProposalExpertiseForm(request.POST)
    if form.is_valid():
        member_service.set_proposal_expertise(proposal=proposal, tags=form.cleaned_data["tags"], by=request.user)
        messages.success(request, _("Expertises de %(reference)s enregistrées.") % {"reference": proposal.reference})
    else:
        messages.error(request, _("300 caractères au maximum pour les expertises d'un projet."))
    return redirect(reverse("jury_staff:expertise", args=[call.slug]) + f"#proposal-{proposal.pk}")


# Assignment


@staff_required
def assignment(request, slug):
    call = _call(request, slug)
    overview = assignment_service.assignment_overview(call=call)
    jurors = call.jury_members.select_related("user").order_by("pair_label", "id")
    move_form = MoveForm(jurors=jurors)
    return _page(request, call, "assignment.html", "assignment", _("Affectation des projets"),
                 overview=overview, move_form=move_form, jurors=list(jurors),
                 assignable=call.status in assignment_service.ASSIGNABLE_STATUSES)


@staff_required
@require_POST
def run_assignment(request, slug):
    call = _call(request, slug)
    try:
        summary = assignment_service.run_assignment(call=call, by=request.user)
    except ValidationError as error:
        _error(request, error)
    else:
        messages.success(request, _(
            "Affectation terminée : %(created)s évaluations créées, %(removed)s retirées, %(kept)s conservées."
        ) % {"created": summary.created, "removed": summary.removed, "kept": summary.kept})
        if summary.uncovered:
            messages.warning(request, _(
                "%(count)s projet(s) n'ont pas tous leurs évaluateurs : voir la liste ci-dessous."
            ) % {"count": len(summary.uncovered)})
    return redirect("jury_staff:assignment", slug=call.slug)


@staff_required
@require_POST
def move_assignment(request, slug, pk):
    call = _call(request, slug)
    review = get_object_or_404(Review.objects.filter(proposal__call=call).select_related("proposal"), pk=pk)
    form = MoveForm(request.POST, jurors=call.jury_members.select_related("user"))
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("jury_staff:assignment", slug=call.slug)
    try:
        target = assignment_service.move_assignment(review=review, to_juror=form.cleaned_data["to_juror"],
                                                    by=request.user)
    except ValidationError as error:
        _error(request, error)
    else:
        messages.success(request, _("%(reference)s est maintenant affecté à %(unit)s.") % {
            "reference": review.proposal.reference, "unit": target.label})
    return redirect(reverse("jury_staff:assignment", args=[call.slug]) + f"#proposal-{review.proposal_id}")


# Progress


@staff_required
def progress(request, slug):
    call = _call(request, slug)
    board = progress_board(call=call)
    return _page(request, call, "progress.html", "progress", _("Suivi des évaluations"), board=board)
