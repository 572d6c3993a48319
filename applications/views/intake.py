"""Programme staff: the intake of submissions (filters, eligibility check) and the proposed administrations."""

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ami.access import staff_required
from ami.models import EligibilityQuestion
from applications.forms_intake import (
    EligibilityForm,
    IntakeFilterForm,
    MergeAdministrationForm,
    RejectAdministrationForm,
)
from applications.models import PROPOSAL_TRANSITIONS, Administration, Membership, Proposal, ProposalStatus
from applications.services import intake as services
from applications.services.submission import build_snapshot

PAGE_SIZE = 50
DECISIONS = {ProposalStatus.ELIGIBLE, ProposalStatus.INELIGIBLE}


def _breadcrumb(current, *links):
    try:
        links = ((reverse("staff:home"), _("Espace équipe")), *links)
    except NoReverseMatch:
        pass
    return {"links": [{"url": url, "title": title} for url, title in links], "current": current}


def _questions_by_call(call_ids):
    questions = defaultdict(list)
    for question in EligibilityQuestion.objects.filter(call_id__in=call_ids):
        questions[question.call_id].append(question)
    return questions


# The intake list


@staff_required
def intake(request):
    form = IntakeFilterForm(request.GET or None)
    proposals = form.filter(
        Proposal.objects.visible_to(request.user).submitted()
        .select_related("call", "administration", "requested_track")
        .order_by("-call__opens_at", "call_id", "reference", "pk")
    )
    page = Paginator(proposals, PAGE_SIZE).get_page(request.GET.get("page"))
    questions = _questions_by_call({proposal.call_id for proposal in page})
    rows = [
        {"proposal": proposal,
         "flags": sum(row["flagged"] for row in services.eligibility_review(
             questions[proposal.call_id], services.live_answers(proposal, questions[proposal.call_id])))}
        for proposal in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form, "page": page, "rows": rows, "query": query.urlencode(),
        "breadcrumb_data": _breadcrumb(_("Dépôts")),
    }
    return render(request, "applications/staff/intake.html", context)


# One proposal


def _attachment_url_name():
    try:
        reverse("applications:download_attachment", args=[1])
    except NoReverseMatch:
        return None
    return "applications:download_attachment"


def _detail_context(request, proposal, form):
    submission = proposal.submissions.order_by("-number").first()
    questions = list(EligibilityQuestion.objects.filter(call_id=proposal.call_id))
    if submission is not None:
        content = submission.snapshot
        answered = services.snapshot_answers(content)
    else:  # submitted before snapshots existed (imported, demo data): the proposal as it is now
        content = build_snapshot(proposal=proposal, number=0, at=None, by=None)
        answered = services.live_answers(proposal, questions)
    review = services.eligibility_review(questions, answered)
    allowed = PROPOSAL_TRANSITIONS[ProposalStatus(proposal.status)] & DECISIONS
    return {
        "decided": proposal.status in DECISIONS,
        "proposal": proposal,
        "submission": submission,
        "snapshot": content,
        "attachment_url_name": _attachment_url_name() or "",
        "attachment_url_slug": "",
        "eligibility": review,
        "flagged": [row for row in review if row["flagged"]],
        "transitions": proposal.transitions.select_related("by"),
        "form": form if allowed else None,
        "breadcrumb_data": _breadcrumb(proposal.reference or proposal.title,
                                       (reverse("applications:intake"), _("Dépôts"))),
    }


@staff_required
def intake_detail(request, pk):
    proposal = get_object_or_404(
        Proposal.objects.visible_to(request.user).select_related("call", "administration", "requested_track"), pk=pk
    )
    allowed = {status.value for status in PROPOSAL_TRANSITIONS[ProposalStatus(proposal.status)] & DECISIONS}
    form = EligibilityForm(request.POST or None, initial={"expected_status": proposal.status}, allowed=allowed)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_eligibility(
                proposal=proposal, eligible=form.eligible, by=request.user,
                reason=form.cleaned_data["reason"], expected_status=form.cleaned_data["expected_status"],
            )
        except ValidationError as error:
            form.add_error(None, error.messages[0])
        else:
            messages.success(request, _("Décision enregistrée : le projet est « %(status)s ».")
                             % {"status": proposal.get_status_display()})
            return redirect("applications:intake_detail", pk=proposal.pk)
    return render(request, "applications/staff/intake_detail.html", _detail_context(request, proposal, form))


# Proposed administrations


def _pending_context(request, bound=None):
    """The proposed administrations with their forms; `bound` = (administration pk, form name, form) is
    shown in place of its blank form, with its errors."""
    pending = list(
        Administration.objects.filter(approved=False)
        .annotate(proposals_count=Count("proposals"))
        .prefetch_related(Prefetch("memberships", to_attr="requests",
                                   queryset=Membership.objects.pending().select_related("user")))
        .order_by("name")
    )
    registry = list(Administration.objects.filter(approved=True).order_by("name")) if pending else []
    items = []
    for administration in pending:
        duplicates = services.likely_duplicates(administration, registry)
        others = [(a.pk, f"{a} — {a.ministry}") for a in registry if a not in duplicates]
        choices = ([(_("Doublons probables"), [(a.pk, f"{a} — {a.ministry}") for a in duplicates])]
                   if duplicates else []) + [(_("Toutes les administrations"), others)]
        reject_url = reverse("applications:reject_administration", args=[administration.pk])
        merge_url = reverse("applications:merge_administration", args=[administration.pk])
        forms = {
            "reject": RejectAdministrationForm(administration=administration, action=reject_url),
            "merge": MergeAdministrationForm(administration=administration, action=merge_url, choices=choices,
                                             initial={"into": duplicates[0].pk if duplicates else None}),
        }
        if bound and bound[0] == administration.pk:
            forms[bound[1]] = bound[2]
        items.append({"administration": administration, "duplicates": duplicates, **forms})
    return {
        "items": items,
        "breadcrumb_data": _breadcrumb(_("Administrations à valider")),
    }


@staff_required
def pending_administrations(request):
    return render(request, "applications/staff/pending_administrations.html", _pending_context(request))


def _pending_administration(pk):
    return get_object_or_404(Administration.objects.filter(approved=False), pk=pk)


def _refused(request, error):
    messages.error(request, error.messages[0])
    return redirect("applications:pending_administrations")


@staff_required
@require_POST
def approve_administration(request, pk):
    administration = _pending_administration(pk)
    try:
        services.approve_administration(administration=administration, by=request.user)
    except ValidationError as error:
        return _refused(request, error)
    messages.success(request, _("« %(name)s » est ajoutée au registre ; les agents qui l'ont proposée en sont "
                                "membres confirmés et en sont informés par courriel.") % {"name": administration.name})
    return redirect("applications:pending_administrations")


@staff_required
@require_POST
def reject_administration(request, pk):
    administration = _pending_administration(pk)
    action = reverse("applications:reject_administration", args=[pk])
    form = RejectAdministrationForm(request.POST, administration=administration, action=action)
    if form.is_valid():
        try:
            services.reject_administration(administration=administration, by=request.user,
                                           reason=form.cleaned_data["reason"])
        except ValidationError as error:
            return _refused(request, error)
        messages.success(request, _("La proposition « %(name)s » est refusée ; le motif est envoyé par courriel "
                                    "à l'agent qui l'a proposée.") % {"name": administration.name})
        return redirect("applications:pending_administrations")
    context = _pending_context(request, bound=(pk, "reject", form))
    return render(request, "applications/staff/pending_administrations.html", context)


@staff_required
@require_POST
def merge_administration(request, pk):
    administration = _pending_administration(pk)
    action = reverse("applications:merge_administration", args=[pk])
    context = _pending_context(request)
    item = next(item for item in context["items"] if item["administration"].pk == administration.pk)
    form = MergeAdministrationForm(request.POST, administration=administration, action=action,
                                   choices=item["merge"].fields["into"].choices[1:])
    if form.is_valid():
        try:
            into = services.merge_administration(duplicate=administration, into=form.cleaned_data["into"],
                                                 by=request.user)
        except ValidationError as error:
            return _refused(request, error)
        messages.success(request, _("« %(duplicate)s » est fusionnée dans « %(name)s » : les demandes "
                                    "d'appartenance la concernent désormais.")
                         % {"duplicate": administration.name, "name": into.name})
        return redirect("applications:pending_administrations")
    item["merge"] = form
    return render(request, "applications/staff/pending_administrations.html", context)

