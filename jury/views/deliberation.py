"""The deliberation pages (chair of the call's jury and staff) and the audit trail (staff)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ami.audit import verify
from ami.models import AuditEvent, Call
from applications.antivirus import jury_snapshot
from applications.models import Proposal
from jury.algorithms.selection import Envelope
from jury.forms_deliberation import DecisionForm, JournalFilterForm, MinutesForm, SettingsForm, WhatIfForm
from jury.models import Decision, JuryMember, JuryRole, Review
from jury.services import deliberation as services
from jury.services.conflicts import is_conflicted
from jury.services.ranking import CANDIDATE_STATUSES, rank_call

JOURNAL_PAGE_SIZE = 50
SNAPSHOT_TEMPLATE = "applications/_snapshot.html"


def _call(request, slug, *, deciding=False):
    """The call if the user deliberates on it. Outsiders get 404; when `deciding`, an ordinary juror of
    the call gets a clear refusal (403) instead."""
    call = get_object_or_404(Call.objects.visible_to(request.user), slug=slug)
    role = services.jury_role(request.user, call)
    if not services.can_deliberate(request.user, role):
        if deciding and role == JuryRole.MEMBER:
            raise PermissionDenied(_("Seul le président du jury ou l'équipe du programme peut prendre les "
                                     "décisions de la délibération."))
        raise Http404
    return call, role


def _refused(request, error):
    return render(request, "jury/deliberation/refused.html", {"message": " ".join(error.args[:1])}, status=403)


def _breadcrumb(call, current, *links):
    base = [(reverse("deliberation:board", args=[call.slug]), _("Délibération"))]
    return {"links": [{"url": url, "title": title} for url, title in (*base, *links)], "current": current}


def _juror_names(call):
    return {pk: (f"{first} {last}".strip() or email) for pk, first, last, email in JuryMember.objects.filter(
        call=call).values_list("pk", "user__first_name", "user__last_name", "user__email")}


def _lines(rows, data, selection):
    """Rows of the ranking with their decision and why they are on the agenda."""
    track_names = {tb.track.pk: tb.track.name for tb in data.tracks}
    return [{"row": row, "decision": data.decisions.get(row.id), "reasons": services.agenda_reasons(row),
             "optimal": row.id in selection.selected, "track_name": track_names.get(row.track_id, "")}
            for row in rows]


@login_required
def board(request, slug):
    call, _role = _call(request, slug)
    deliberation = services.get_deliberation(call)
    data = services.board(call, deliberation=deliberation)
    names = _juror_names(call)
    context = {
        "call": call,
        "deliberation": deliberation,
        "data": data,
        "tracks": [{"board": tb, "lines": _lines(tb.rows, data, data.selection)} for tb in data.tracks],
        "agenda": _lines(data.agenda, data, data.selection),
        "unranked": _lines(data.ranking.unranked, data, data.selection),
        "jurors": [{"name": names.get(j.juror_id, j.juror_id), "correction": j} for j in data.ranking.jurors],
        "settings_form": SettingsForm(initial={
            "rank_by": deliberation.rank_by, "administration_cap": deliberation.administration_cap,
            "ministry_cap": deliberation.ministry_cap}, action=reverse("deliberation:settings", args=[call.slug])),
        "breadcrumb_data": {"links": [], "current": _("Délibération")},
    }
    return render(request, "jury/deliberation/board.html", context)


@login_required
@require_POST
def save_settings(request, slug):
    call, _role = _call(request, slug, deciding=True)
    form = SettingsForm(request.POST, action="")
    if not form.is_valid():
        messages.error(request, _("Réglages non enregistrés : vérifiez les plafonds (un nombre entier d'au moins 1)."))
        return redirect("deliberation:board", call.slug)
    try:
        services.save_settings(call=call, by=request.user, **form.cleaned_data)
    except PermissionDenied as error:
        return _refused(request, error)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Réglages du classement enregistrés."))
    return redirect("deliberation:board", call.slug)


@login_required
def selection(request, slug):
    call, _role = _call(request, slug)
    deliberation = services.get_deliberation(call)
    tracks = list(call.tracks.all())
    ranking = rank_call(call, rank_by=deliberation.rank_by, track_ids=[t.pk for t in tracks])
    caps = services.caps_of(deliberation)
    base = services.run_selection(ranking, tracks=tracks, caps=caps, call_id=call.pk)
    form = WhatIfForm(request.GET or None, tracks=tracks, candidates=ranking.candidates())
    scenario = None
    if request.GET and form.is_valid():
        envelopes = {pk: Envelope(budget=b, max_count=m) for pk, (b, m) in form.envelopes(tracks).items()}
        scenario = services.run_selection(
            ranking, tracks=tracks, caps=caps, envelopes=envelopes,
            forced_in={int(pk) for pk in form.cleaned_data["forced_in"]},
            forced_out={int(pk) for pk in form.cleaned_data["forced_out"]})
    shown = scenario if scenario is not None and scenario.feasible else None
    per_track = []
    for track in tracks:
        rows = ranking.by_track[track.pk]
        waiting = {pk: n for n, pk in enumerate(base.waiting.get(track.pk, []), start=1)}
        per_track.append({
            "track": track,
            "rows": [{"row": r, "plain": r.id in base.plain, "optimal": r.id in base.selected,
                      "scenario": shown is not None and r.id in shown.selected, "waiting": waiting.get(r.id)}
                     for r in rows],
            "totals": base.totals.get(track.pk, (0, 0)),
            "scenario_totals": shown.totals.get(track.pk, (0, 0)) if shown else None,
            "scenario_envelope": shown.envelopes.get(track.pk) if shown else None,
            "waiting": [ranking.rows[pk] for pk in base.waiting.get(track.pk, [])][:services.WAITING_LIST_LENGTH],
        })
    context = {
        "call": call, "deliberation": deliberation, "base": base, "scenario": scenario, "form": form,
        "per_track": per_track, "rows": ranking.rows,
        "scenario_differences": shown.differences if shown else [],
        "breadcrumb_data": _breadcrumb(call, _("Sélection sous enveloppe")),
    }
    return render(request, "jury/deliberation/selection.html", context)


@login_required
@require_POST
def apply_optimal(request, slug):
    call, _role = _call(request, slug, deciding=True)
    try:
        changed = services.apply_optimal(call=call, by=request.user)
    except PermissionDenied as error:
        return _refused(request, error)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Proposition optimale appliquée : %(count)s décision(s) provisoire(s) modifiée(s).")
                         % {"count": changed})
    return redirect("deliberation:board", call.slug)


def _snapshot_context(request, call, proposal):
    submission = proposal.submissions.order_by("-number").first()
    snapshot = submission.snapshot if submission else None
    if snapshot and not request.user.is_staff:  # the chair reads as the jury does: files declared clean only
        snapshot = jury_snapshot(snapshot)
    context = {"snapshot": snapshot, "snapshot_template": None,
               "attachment_url_name": "", "attachment_url_slug": ""}
    if submission is None:
        return context
    try:
        get_template(SNAPSHOT_TEMPLATE)
    except TemplateDoesNotExist:
        return context
    context["snapshot_template"] = SNAPSHOT_TEMPLATE
    try:
        if request.user.is_staff:
            reverse("applications:download_attachment", args=[0])
            context["attachment_url_name"] = "applications:download_attachment"
        else:
            reverse("jury:attachment", args=[call.slug, 0])
            context.update(attachment_url_name="jury:attachment", attachment_url_slug=call.slug)
    except NoReverseMatch:
        pass
    return context


def _proposal_page(request, call, proposal, form, status=200):
    deliberation = services.get_deliberation(call)
    ranking = rank_call(call, rank_by=deliberation.rank_by)
    reviews = (Review.objects.filter(proposal=proposal).without_conflicts().select_related("juror__user")
               .prefetch_related("scores__criterion").order_by("juror__pair_label", "id"))
    context = {
        "call": call, "proposal": proposal, "deliberation": deliberation, "row": ranking.rows.get(proposal.pk),
        "reviews": reviews, "criteria": list(call.criteria.all()), "form": form,
        "decision": Decision.objects.filter(proposal=proposal).select_related("track", "decided_by").first(),
        "can_decide": not deliberation.is_locked or request.user.is_staff,
        "breadcrumb_data": _breadcrumb(call, proposal.reference or proposal.title),
        **_snapshot_context(request, call, proposal),
    }
    return render(request, "jury/deliberation/proposal.html", context, status=status)


def _decision_form(call, proposal, data=None):
    deliberation = services.get_deliberation(call)
    decision = Decision.objects.filter(proposal=proposal).first()
    initial = {"track": proposal.requested_track_id, "granted_amount_eur": proposal.requested_amount_eur}
    if decision:
        initial.update(outcome=decision.outcome, track=decision.track_id or proposal.requested_track_id,
                       granted_amount_eur=decision.granted_amount_eur or proposal.requested_amount_eur,
                       reason=decision.reason, override_reason=decision.override_reason)
    return DecisionForm(data, initial=initial, call=call, locked=deliberation.is_locked,
                        action=reverse("deliberation:decide", args=[call.slug, proposal.pk]))


def _candidate(request, call, pk):
    """A proposal under deliberation; 404 for a chair in conflict of interest with it (staff decide on it)."""
    candidate = get_object_or_404(Proposal.objects.filter(call=call, status__in=CANDIDATE_STATUSES), pk=pk)
    seat = None if request.user.is_staff else JuryMember.objects.filter(call=call, user=request.user).first()
    if seat is not None and is_conflicted(juror=seat, proposal=candidate):
        raise Http404
    return candidate


@login_required
def proposal(request, slug, pk):
    call, _role = _call(request, slug)
    candidate = _candidate(request, call, pk)
    return _proposal_page(request, call, candidate, _decision_form(call, candidate))


@login_required
@require_POST
def decide(request, slug, pk):
    try:
        call, _role = _call(request, slug, deciding=True)
    except PermissionDenied as error:
        return _refused(request, error)
    candidate = _candidate(request, call, pk)
    if services.get_deliberation(call).is_locked and not request.user.is_staff:
        return _refused(request, PermissionDenied(services.locked_refusal()))
    form = _decision_form(call, candidate, request.POST)
    if not form.is_valid():
        return _proposal_page(request, call, candidate, form, status=400)
    try:
        services.decide(call=call, proposal=candidate, by=request.user, **form.cleaned_data)
    except PermissionDenied as error:
        return _refused(request, error)
    except ValidationError as error:
        for message in error.messages:
            form.add_error(None, message)
        return _proposal_page(request, call, candidate, form, status=400)
    messages.success(request, _("Décision enregistrée pour « %(title)s ».") % {"title": candidate.title})
    return redirect("deliberation:board", call.slug)


@login_required
def lock(request, slug):
    try:
        call, _role = _call(request, slug, deciding=request.method == "POST")
    except PermissionDenied as error:
        return _refused(request, error)
    deliberation = services.get_deliberation(call)
    if request.method == "POST":
        try:
            services.lock_decisions(call=call, by=request.user)
        except PermissionDenied as error:
            return _refused(request, error)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect("deliberation:lock", call.slug)
        messages.success(request, _("Décisions arrêtées. Toute modification demande désormais l'équipe du "
                                    "programme et un motif."))
        return redirect("deliberation:board", call.slug)
    context = {
        "call": call, "deliberation": deliberation, "problems": services.lock_problems(call, deliberation),
        "next_phase": services.next_phase(call), "breadcrumb_data": _breadcrumb(call, _("Arrêter les décisions")),
    }
    return render(request, "jury/deliberation/lock.html", context)


@login_required
def minutes(request, slug):
    call, _role = _call(request, slug, deciding=request.method == "POST")
    deliberation = services.get_deliberation(call)
    form = MinutesForm(request.POST or None, call=call, initial={
        "held_on": deliberation.held_on or call.jury_date, "minutes": deliberation.minutes,
        "present_members": list(deliberation.present_members.all())})
    if request.method == "POST" and form.is_valid():
        try:
            services.save_minutes(call=call, by=request.user, **form.cleaned_data)
        except PermissionDenied as error:
            return _refused(request, error)
        messages.success(request, _("Procès-verbal enregistré."))
        return redirect("deliberation:minutes", call.slug)
    context = {"call": call, "deliberation": deliberation, "form": form,
               "breadcrumb_data": _breadcrumb(call, _("Procès-verbal"))}
    return render(request, "jury/deliberation/minutes.html", context)


@login_required
def minutes_print(request, slug):
    call, _role = _call(request, slug)
    deliberation = services.get_deliberation(call)
    data = services.board(call, deliberation=deliberation)
    decisions = (Decision.objects.filter(proposal__call=call).select_related("proposal__administration", "track")
                 .order_by("track__position", "outcome", "rank", "proposal__reference"))
    context = {
        "call": call, "deliberation": deliberation, "decisions": decisions,
        "present": deliberation.present_members.select_related("user"),
        "agenda": _lines([row for row in data.agenda if row.flagged], data, data.selection),
    }
    return render(request, "jury/deliberation/minutes_print.html", context)


@login_required
def journal(request):
    if not request.user.is_staff:
        raise Http404
    ok, broken_id, checked = verify()
    calls = list(Call.objects.order_by("-opens_at"))
    actions = list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())
    form = JournalFilterForm(request.GET or None, calls=calls, actions=actions)
    events = AuditEvent.objects.select_related("call").order_by("-id")
    if form.is_valid():
        if form.cleaned_data["call"]:
            events = events.filter(call__slug=form.cleaned_data["call"])
        if form.cleaned_data["action"]:
            events = events.filter(action=form.cleaned_data["action"])
    page = Paginator(events, JOURNAL_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"ok": ok, "broken_id": broken_id, "checked": checked, "form": form, "page": page,
               "query": query.urlencode(), "breadcrumb_data": {"links": [], "current": _("Journal d'audit")}}
    return render(request, "jury/deliberation/journal.html", context)
