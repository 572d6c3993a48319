"""The juror's pages: my juries, the charter, my dashboard, a proposal as submitted, its scoring form.

Every page of a call first finds the user's seat on that call's jury (404 for anyone else, staff
included), then sends them to the charter until they accept it. Reviews are only ever read through
`Review.objects.of_user(user)`, which drops conflicted proposals: those answer 404 everywhere.
"""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import CharField, Count, OuterRef, Prefetch, Subquery
from django.db.models.fields.json import KT
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ami import auth_memo
from applications.antivirus import jury_snapshot
from applications.models import Attachment, Submission
from applications.services.attachments import file_response
from jury import rules
from jury.dashboard_cache import cached_dashboard, csrf_context
from jury.forms import CharterForm, ConflictForm, DashboardFilterForm, ReviewForm
from jury.models import JuryMember, Review, ReviewStatus, Score
from jury.services import reviews as services


def _breadcrumb(current, *links):
    return {"links": [{"url": url, "title": title} for url, title in links], "current": current}


def _call_crumbs(call):
    return (reverse("jury:home"), _("Jury")), (reverse("jury:dashboard", args=[call.slug]), call.title)


def _seat(request, slug):
    """The user's seat on the jury of the call `slug`, with its call; 404 for anyone else, staff included.

    The seat and its call are served from this process's memory while the user's versions (read when the
    user was) and the call row's version are those they were read under (ami/auth_memo.py)."""
    user = request.user
    user_current = getattr(user, "auth_memo_versions", None)
    seat_key, call_key = ("seat", user.pk, slug), ("seat-call", user.pk, slug)
    if user_current is not None:
        _seen, call_id = auth_memo.peek(seat_key)
        if call_id is not None:
            current = _seat_versions(user_current, call_id)
            seat, _extra = auth_memo.recall(seat_key, current)
            call, _extra = auth_memo.recall(call_key, current)
            if seat is not None and call is not None:
                seat.call = call
                return seat
    seats = JuryMember.objects.select_related("call").filter(call__slug=slug, user=user)
    seat = get_object_or_404(seats)
    if user_current is None:
        return seat
    current = _seat_versions(user_current, seat.call_id)  # read before the rows that are remembered under it
    seat = get_object_or_404(seats)
    auth_memo.remember(seat_key, current, seat, extra=seat.call_id)
    auth_memo.remember(call_key, current, seat.call, extra=seat.call_id)
    return seat


def _seat_versions(user_current, call_id):
    call_version = auth_memo.versions([auth_memo.call_key(call_id)])
    return None if call_version is None else user_current + call_version


def juror_view(view):
    """Signed in, seated on this call's jury, charter accepted: the view receives the seat instead of the slug."""

    @login_required
    @wraps(view)
    def wrapper(request, slug, **kwargs):
        seat = _seat(request, slug)
        if not rules.has_accepted_charter(seat):
            messages.info(request, _("Avant d'accéder aux projets, prenez connaissance de la charte du jury."))
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            return redirect(reverse("jury:charter", args=[slug]) + (f"?{query}" if query else ""))
        return view(request, seat, **kwargs)

    return wrapper


def _my_reviews(request, seat):
    return Review.objects.of_user(request.user).filter(juror=seat)


def _review_or_404(request, seat, proposal_pk):
    return get_object_or_404(
        _my_reviews(request, seat).select_related("proposal__administration", "proposal__requested_track"),
        proposal_id=proposal_pk,
    )


def _latest_submission(proposal):
    """What the jury reads: the latest submitted snapshot, never the live draft."""
    return Submission.objects.filter(proposal=proposal).order_by("-number").first()


def _title(review, submission):
    """The title as submitted (the live one may be a draft being edited again)."""
    if submission is not None and submission.snapshot.get("title"):
        return submission.snapshot["title"]
    return review.proposal.title


# My juries and the charter


@login_required
def home(request):
    seats = list(JuryMember.objects.filter(user=request.user).select_related("call").order_by("-call__opens_at"))
    counts = {}
    rows = Review.objects.of_user(request.user).values("juror_id", "status").annotate(n=Count("id")).order_by()
    for row in rows:
        counts.setdefault(row["juror_id"], {})[row["status"]] = row["n"]
    for seat in seats:
        by_status = counts.get(seat.pk, {})
        seat.total = sum(by_status.values())
        seat.submitted = by_status.get(ReviewStatus.SUBMITTED, 0)
    context = {"seats": seats, "breadcrumb_data": _breadcrumb(_("Jury"))}
    return render(request, "jury/home.html", context)


def _safe_next(request, seat):
    target = request.POST.get("next") or request.GET.get("next") or ""
    prefix = reverse("jury:dashboard", args=[seat.call.slug])
    if target.startswith(prefix) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return prefix


@login_required
@require_http_methods(["GET", "POST"])
def charter(request, slug):
    seat = _seat(request, slug)
    next_url = _safe_next(request, seat)
    if rules.has_accepted_charter(seat):
        if request.method == "POST":
            messages.info(request, _("Vous avez déjà accepté la charte du jury : rien n'a changé."))
            return redirect(next_url)
        form = None
    else:
        form = CharterForm(request.POST if request.method == "POST" else None)
        form.helper.form_action = request.get_full_path()  # keeps ?next=
        if request.method == "POST" and form.is_valid():
            services.accept_charter(member=seat, by=request.user)
            messages.success(request, _("Merci : votre acceptation de la charte du jury est enregistrée."))
            return redirect(next_url)
    context = {
        "seat": seat, "call": seat.call, "form": form, "next_url": next_url,
        "breadcrumb_data": _breadcrumb(_("Charte du jury"), (reverse("jury:home"), _("Jury"))),
    }
    return render(request, "jury/charter.html", context)


# The dashboard


def _deadline(call):
    """The review deadline in Paris time, with the days left (negative once passed), or None."""
    if call.review_deadline is None:
        return None
    at = timezone.localtime(call.review_deadline)
    return {"at": at, "days_left": (at.date() - timezone.localdate()).days}


def _next_review(reviews):
    """A draft to finish first, else the first proposal not started."""
    for status in (ReviewStatus.DRAFT, ReviewStatus.ASSIGNED):
        for review in reviews:
            if review.status == status:
                return review
    return None


@juror_view
@cached_dashboard
def dashboard(request, seat):
    call = seat.call
    title = Subquery(
        Submission.objects.filter(proposal=OuterRef("proposal")).order_by("-number")
        .annotate(title=KT("snapshot__title")).values("title")[:1],
        output_field=CharField(),
    )
    reviews = list(
        _my_reviews(request, seat).select_related("proposal__administration", "proposal__requested_track")
        .annotate(snapshot_title=title).order_by("proposal__reference", "proposal_id")
    )
    tracks = list(call.tracks.all())
    tags = sorted({tag for review in reviews for tag in review.proposal.expertise_tags or []}, key=str.casefold)
    filters = DashboardFilterForm(request.GET or None, tracks=tracks, tags=tags)
    track_code, tag = filters.selected()
    shown = [
        review for review in reviews
        if (not track_code or (review.proposal.requested_track and review.proposal.requested_track.code == track_code))
        and (not tag or tag in (review.proposal.expertise_tags or []))
    ]
    progress = {status: sum(review.status == status for review in reviews) for status in ReviewStatus.values}
    context = {
        "seat": seat, "call": call, "reviews": shown, "total": len(reviews), "progress": progress,
        "filters": filters, "filtered": bool(track_code or tag), "next_review": _next_review(reviews),
        "deadline": _deadline(call), "can_edit": rules.is_review_phase(call),
        "breadcrumb_data": _breadcrumb(call.title, (reverse("jury:home"), _("Jury"))),
        **csrf_context(request),
    }
    return render(request, "jury/dashboard.html", context)


# A proposal, its review, the other reviews


def _other_reviews(review):
    """The other submitted reviews of the proposal (without jurors in conflict), with their jurors and notes."""
    scores = Score.objects.select_related("criterion").order_by("criterion__position", "criterion_id")
    return (
        Review.objects.filter(proposal_id=review.proposal_id, status=ReviewStatus.SUBMITTED)
        .exclude(pk=review.pk).without_conflicts()
        .select_related("juror__user").prefetch_related(Prefetch("scores", queryset=scores))
        .order_by("submitted_at", "pk")
    )


@juror_view
def proposal(request, seat, pk):
    review = _review_or_404(request, seat, pk)
    submission = _latest_submission(review.proposal)
    context = {
        "seat": seat, "call": seat.call, "review": review, "submission": submission,
        "snapshot": jury_snapshot(submission.snapshot) if submission else None, "title": _title(review, submission),
        "attachment_url_name": "jury:attachment", "attachment_url_slug": seat.call.slug,
        "my_scores": Score.objects.filter(review=review).select_related("criterion")
        .order_by("criterion__position", "criterion_id"),
        "others": list(_other_reviews(review)) if rules.can_see_other_reviews(review) else None,
        "can_edit": rules.can_edit_review(review, seat.call),
        "breadcrumb_data": _breadcrumb(review.proposal.reference or _("Projet"), *_call_crumbs(seat.call)),
    }
    return render(request, "jury/proposal.html", context)


def _refuse_final(request, seat, review):
    """A submitted review, or a call out of its review phase: nothing changes, the juror is told why."""
    if rules.is_submitted(review):
        if "submit" in request.POST:
            messages.info(request, _("Votre évaluation a déjà été soumise : rien n'a changé."))
        else:
            messages.error(request, _("Votre évaluation est soumise : elle est définitive et ne peut plus être "
                                      "modifiée (l'équipe du programme peut la rouvrir si nécessaire)."))
    else:
        messages.error(request, _("L'appel n'est pas en phase d'évaluation par le jury (%(status)s) : "
                                  "l'évaluation ne peut pas être modifiée.") % {
                                      "status": seat.call.get_status_display()})
    return redirect("jury:proposal", slug=seat.call.slug, pk=review.proposal_id)


def _save_and_maybe_submit(request, seat, review, form):
    """Saves the draft, then submits it when asked; returns (response, refusal messages)."""
    to_proposal = redirect("jury:proposal", slug=seat.call.slug, pk=review.proposal_id)
    try:
        services.save_review(review=review, data=form.review_data(), by=request.user)
    except services.AlreadySubmitted:
        return _refuse_final(request, seat, review), None
    except ValidationError as error:
        return None, error.messages
    if "submit" not in request.POST:
        messages.success(request, _("Brouillon enregistré. Vous pouvez y revenir à tout moment avant de soumettre."))
        return redirect("jury:review", slug=seat.call.slug, pk=review.proposal_id), None
    try:
        submitted = services.submit_review(review=review, by=request.user)
    except services.IncompleteReview as error:
        return None, [_("Brouillon enregistré, mais l'évaluation n'est pas soumise. Il manque :")] + error.messages
    except ValidationError as error:
        return None, error.messages
    if submitted:
        messages.success(request, _("Évaluation soumise. Vous voyez maintenant les évaluations des autres membres "
                                    "du jury sur ce projet."))
    else:
        messages.info(request, _("Votre évaluation a déjà été soumise : rien n'a changé."))
    return to_proposal, None


@juror_view
@require_http_methods(["GET", "POST"])
def review(request, seat, pk):
    review = _review_or_404(request, seat, pk)
    call = seat.call
    if not rules.can_edit_review(review, call):
        if request.method == "POST":
            return _refuse_final(request, seat, review)
        return redirect("jury:proposal", slug=call.slug, pk=review.proposal_id)
    criteria = list(call.criteria.all())
    initial = ReviewForm.initial_from(review, Score.objects.filter(review=review))
    data = request.POST if request.method == "POST" else None
    form = ReviewForm(data, initial=initial, criteria=criteria, scale_max=call.score_scale_max)
    refusal = None
    if request.method == "POST" and form.is_valid():
        response, refusal = _save_and_maybe_submit(request, seat, review, form)
        if response is not None:
            return response
    context = {
        "seat": seat, "call": call, "review": review, "form": form, "refusal": refusal,
        "title": _title(review, _latest_submission(review.proposal)),
        "deadline": _deadline(call),
        "breadcrumb_data": _breadcrumb(
            _("Évaluation"), *_call_crumbs(call),
            (reverse("jury:proposal", args=[call.slug, review.proposal_id]), review.proposal.reference or _("Projet")),
        ),
    }
    return render(request, "jury/review.html", context)


@juror_view
@require_http_methods(["GET", "POST"])
def declare_conflict(request, seat, pk):
    review = _review_or_404(request, seat, pk)
    form = ConflictForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.declare_conflict(review=review, reason=form.cleaned_data["reason"], by=request.user)
        messages.success(request, _("Conflit d'intérêts déclaré : le projet %(reference)s est retiré de vos "
                                    "évaluations et l'équipe du programme en est informée.") % {
                                        "reference": review.proposal.reference or review.proposal.title})
        return redirect("jury:dashboard", slug=seat.call.slug)
    context = {
        "seat": seat, "call": seat.call, "review": review, "form": form,
        "breadcrumb_data": _breadcrumb(
            _("Déclarer un conflit d'intérêts"), *_call_crumbs(seat.call),
            (reverse("jury:proposal", args=[seat.call.slug, review.proposal_id]),
             review.proposal.reference or _("Projet")),
        ),
    }
    return render(request, "jury/declare_conflict.html", context)


# Attachments


@juror_view
def attachment(request, seat, att_pk):
    """A file of an assigned proposal, only if it belongs to the submitted snapshot the jury reads."""
    proposals = _my_reviews(request, seat).values("proposal_id")
    # Never a file still pending its antivirus scan, or found infected.
    attachment = get_object_or_404(Attachment.objects.readable_by_jury(), pk=att_pk, proposal__in=proposals)
    submission = _latest_submission(attachment.proposal_id)
    if submission is None or att_pk not in {item.get("id") for item in submission.snapshot.get("attachments", [])}:
        raise Http404
    return file_response(attachment)
