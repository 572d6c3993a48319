"""Reviewing and submitting a proposal, reopening or withdrawing it, its receipts; the rows of "Mes projets"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, prefetch_related_objects
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ami import ratelimits
from applications import rules
from applications.models import ProposalStatus, Submission
from applications.services import submission as services
from applications.views import field_url, member_proposal


def _submissions():
    return Prefetch("submissions", queryset=Submission.objects.order_by("number"))


def with_row_data(proposals):
    """What a row of "Mes projets" reads, in a fixed number of queries."""
    return proposals.select_related("requested_track", "decision", "decision__track").prefetch_related(
        *services.draft_prefetches(), _submissions())


def missing_links(proposal, missing):
    """Each missing item with the page (the step of the form, or the attachments) that fixes it."""
    return [{"message": item, "url": reverse("applications:attachments", args=[proposal.pk])
             if item.field == "attachments" else field_url(proposal.pk, item.field)} for item in missing]


def proposal_row(proposal, now):
    """A proposal with what its owners may do now, what is missing, its receipts and, once public, its decision."""
    is_draft = proposal.status == ProposalStatus.DRAFT
    decision = getattr(proposal, "decision", None) if proposal.call.results_public else None
    return {
        "proposal": proposal,
        "is_draft": is_draft,
        "editable": rules.is_editable_draft(proposal),
        "missing": missing_links(proposal, services.missing_items(proposal)) if is_draft else [],
        "submissions": list(proposal.submissions.all()),
        "can_submit": services.can_submit(proposal, now),
        "can_reopen": services.can_reopen(proposal, now),
        "can_withdraw": services.can_withdraw(proposal, now),
        "decision": decision,
    }


def call_group(call, proposals, now):
    return {"call": call, "deadline": services.deadline_text(call, now),
            "accepts_submissions": call.accepts_submissions(now),
            "proposals": [proposal_row(proposal, now) for proposal in proposals]}


def _breadcrumb(current, *links):
    return {"links": [{"url": url, "title": title} for url, title in links], "current": current}


def _member_proposal(request, pk, *, row_data=True):
    """The proposal through the per-user queryset (outsiders 404); only members of its administration act on it.

    `row_data`: with what the review page shows (the services that act on it read the proposal again, locked):
    its submissions, and for a draft the call's questions and the current attachments (what is missing, the
    snapshot to come); a submitted proposal shows its last snapshot instead. The decision is read only when
    shown, once results are public."""
    proposal = member_proposal(request, pk, *(("requested_track",) if row_data else ()),
                               refusal=_("Seuls les membres de l'administration porteuse agissent sur ce projet."))
    if row_data:
        drafting = proposal.status == ProposalStatus.DRAFT
        prefetch_related_objects([proposal], _submissions(), *(services.draft_prefetches() if drafting else ()))
    return proposal


def _review_context(request, proposal, refusal=None):
    now = timezone.now()
    row = proposal_row(proposal, now)
    latest = row["submissions"][-1] if row["submissions"] else None
    if row["is_draft"] or latest is None:
        snapshot = services.build_snapshot(proposal=proposal, number=len(row["submissions"]) + 1, at=None, by=None)
    else:
        snapshot = latest.snapshot
    return {
        **row,
        "snapshot": snapshot,
        "latest": latest,
        "deadline": services.deadline_text(proposal.call, now),
        "refusal": refusal or [],
        "attachment_url_name": "applications:download_attachment",
        "breadcrumb_data": _breadcrumb(proposal.title, (reverse("applications:my_proposals"), _("Mes projets"))),
    }


@login_required
@require_GET
def review_proposal(request, pk):
    proposal = _member_proposal(request, pk)
    return render(request, "applications/review_proposal.html", _review_context(request, proposal))


def _posted_version(request):
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


@login_required
@require_POST
@ratelimits.per_user("submit", ratelimits.SUBMIT)
def submit_proposal(request, pk):
    proposal = _member_proposal(request, pk, row_data=False)
    version = _posted_version(request)
    if version is None:
        refusal = [_("Le formulaire de dépôt est incomplet : rechargez la page, relisez le projet et déposez-le.")]
        proposal = _member_proposal(request, pk)
        return render(request, "applications/review_proposal.html", _review_context(request, proposal, refusal))
    try:
        submission = services.submit_proposal(proposal=proposal, version=version, by=request.user)
    except services.AlreadySubmitted as replay:
        messages.info(request, _already_submitted_message(replay.submission))
        return redirect("applications:review_proposal", pk=proposal.pk)
    except services.SubmissionRefused as error:
        proposal = _member_proposal(request, pk)  # as stored: nothing changed
        return render(request, "applications/review_proposal.html",
                      _review_context(request, proposal, error.messages))
    messages.success(request, _(
        "Votre projet est déposé sous la référence %(reference)s (dépôt n° %(number)s). Le récépissé est "
        "envoyé par courriel ; vous pouvez aussi le télécharger ci-dessous.") % {
            "reference": submission.snapshot["reference"], "number": submission.number})
    return redirect("applications:review_proposal", pk=proposal.pk)


def _already_submitted_message(submission):
    if submission is None:
        return _("Ce projet a déjà été déposé : rien n'a été déposé une seconde fois.")
    return _("Ce projet a déjà été déposé (référence %(reference)s, dépôt n° %(number)s) : rien n'a été "
             "déposé une seconde fois.") % {"reference": submission.snapshot["reference"],
                                             "number": submission.number}


@login_required
@require_POST
def reopen_proposal(request, pk):
    proposal = _member_proposal(request, pk, row_data=False)
    was_withdrawn = proposal.status == ProposalStatus.WITHDRAWN
    try:
        services.reopen_proposal(proposal=proposal, by=request.user)
    except services.SubmissionRefused as error:
        messages.error(request, error.messages[0])
        return redirect("applications:my_proposals")
    if was_withdrawn:
        messages.success(request, _("Le projet est de nouveau un brouillon : déposez-le avant la clôture pour "
                                    "qu'il soit examiné."))
    else:
        messages.success(request, _(
            "Le projet est de nouveau un brouillon modifiable ; sa référence %(reference)s est conservée. "
            "Déposez-le à nouveau avant la clôture : le jury lira le dernier dépôt.") % {
                "reference": proposal.reference})
    return redirect("applications:edit_draft", pk=proposal.pk)


@login_required
@require_POST
def withdraw_proposal(request, pk):
    proposal = _member_proposal(request, pk, row_data=False)
    try:
        services.withdraw_proposal(proposal=proposal, by=request.user)
    except services.SubmissionRefused as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Le projet « %(title)s » est retiré : il ne sera pas examiné. Vous pouvez "
                                    "le rétablir en brouillon jusqu'à la clôture.") % {"title": proposal.title})
    return redirect("applications:my_proposals")


@require_GET
def receipt(request, pk, number):
    """The receipt PDF: members of the administration and staff; anyone else (anonymous included) 404."""
    submission = get_object_or_404(
        Submission.objects.of_administrations_of(request.user).select_related("proposal__call").distinct(),
        proposal_id=pk, number=number)
    if not submission.receipt_pdf:  # the worker has not run yet: render it now (it is kept once)
        services.render_receipt_pdf(submission=submission)
    try:
        handle = submission.receipt_pdf.open("rb")
    except FileNotFoundError:
        raise Http404(_("Ce récépissé est introuvable.")) from None
    response = FileResponse(handle, as_attachment=True, filename=services.receipt_filename(submission),
                            content_type="application/pdf")
    response["X-Content-Type-Options"] = "nosniff"
    return response
