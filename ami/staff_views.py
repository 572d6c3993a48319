"""The staff area ("Espace équipe"): the calls and their set-up. Staff only: others get 404, visitors the login."""

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ami import services, staff_forms
from ami.access import staff_required
from ami.models import CALL_TRANSITIONS, Call, CallStatus
from applications.models import ProposalStatus

# The label of each phase change's button; reopening is the only way back (to extend the deadline).
TRANSITION_LABELS = {
    (CallStatus.DRAFT, CallStatus.OPEN): gettext_lazy("Ouvrir aux candidatures"),
    (CallStatus.CLOSED, CallStatus.OPEN): gettext_lazy("Rouvrir les candidatures"),
    (CallStatus.OPEN, CallStatus.CLOSED): gettext_lazy("Clore les candidatures"),
    (CallStatus.CLOSED, CallStatus.ELIGIBILITY): gettext_lazy("Passer à l'examen de la recevabilité"),
    (CallStatus.ELIGIBILITY, CallStatus.REVIEW): gettext_lazy("Lancer l'évaluation par le jury"),
    (CallStatus.REVIEW, CallStatus.DELIBERATION): gettext_lazy("Passer à la délibération"),
    (CallStatus.DELIBERATION, CallStatus.ANNOUNCED): gettext_lazy("Annoncer les résultats"),
    (CallStatus.ANNOUNCED, CallStatus.FOLLOW_UP): gettext_lazy("Passer au suivi de l'expérimentation"),
    (CallStatus.FOLLOW_UP, CallStatus.ARCHIVED): gettext_lazy("Archiver l'appel"),
}


# Phase changes with side effects of their own happen on their feature's page, never through a bare button.
DEDICATED_PAGES = {
    CallStatus.ANNOUNCED: ("announce:page", gettext_lazy("Préparer et envoyer l'annonce des résultats")),
}
# Other staff pages of a call, linked from its set-up menu when their feature is installed.
CALL_PAGES = [
    ("jury_staff:jury", gettext_lazy("Jury et invitations")),
    ("jury_staff:assignment", gettext_lazy("Affectation des projets")),
    ("jury_staff:progress", gettext_lazy("Suivi des évaluations")),
    ("deliberation:board", gettext_lazy("Délibération")),
    ("announce:page", gettext_lazy("Annonce des résultats")),
    ("exports:page", gettext_lazy("Exports")),
    ("report:page", gettext_lazy("Rapport de sélection")),
    ("report:statistics", gettext_lazy("Statistiques")),
]


def _call(request, slug):
    return get_object_or_404(Call.objects.visible_to(request.user), slug=slug)


def _optional_url(name, *args):
    """The URL of another feature's page, or None while that page does not exist yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _call_context(call, section, current):
    """What every set-up page of a call shows: its menu (with the other features' pages) and breadcrumb."""
    links = [(url, label) for url, label in ((_optional_url(name, call.slug), label) for name, label in CALL_PAGES)
             if url]
    breadcrumb = _crumbs(call.title) if section == "overview" else _call_crumbs(call, current)
    return {"call": call, "section": section, "call_links": links, "breadcrumb_data": breadcrumb}


def _crumbs(current, *links):
    return {"links": [{"url": reverse("staff:home"), "title": _("Espace équipe")}]
            + [{"url": url, "title": title} for url, title in links], "current": current}


def _call_crumbs(call, current):
    return _crumbs(current, (reverse("staff:call", args=[call.slug]), call.title))


def _calls_with_counts():
    active = ~Q(proposals__status__in=[ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN])
    return Call.objects.order_by("-opens_at").annotate(
        draft_count=Count("proposals", filter=Q(proposals__status=ProposalStatus.DRAFT)),
        submitted_count=Count("proposals", filter=active),
    )


@staff_required
def home(request):
    context = {
        "calls": _calls_with_counts().exclude(status=CallStatus.ARCHIVED),
        "intake_url": _optional_url("applications:intake"),
        "pending_administrations_url": _optional_url("applications:pending_administrations"),
        "breadcrumb_data": {"current": _("Espace équipe")},
    }
    return render(request, "ami/staff/home.html", context)


@staff_required
def calls(request):
    context = {"calls": _calls_with_counts(), "breadcrumb_data": _crumbs(_("Les appels"))}
    return render(request, "ami/staff/calls.html", context)


@staff_required
def call_create(request):
    form = staff_forms.CallSetupForm(request.POST or None, submit=_("Créer l'appel"))
    if request.method == "POST" and form.is_valid():
        try:
            call = services.create_call(by=request.user, fields=form.setup_fields())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Appel « %(title)s » créé en brouillon : ajoutez ses parcours, "
                                        "ses critères et ses questions de recevabilité.") % {"title": call.title})
            return redirect("staff:call", slug=call.slug)
    context = {"form": form, "breadcrumb_data": _crumbs(_("Nouvel appel"), (reverse("staff:calls"), _("Les appels")))}
    return render(request, "ami/staff/call_create.html", context)


def _transitions(call):
    """The phases `call` may move to next, with their button label and what still stops them."""
    current = CallStatus(call.status)
    transitions = []
    for target in sorted(CALL_TRANSITIONS[current], key=list(CallStatus).index):
        if target in DEDICATED_PAGES:
            name, label = DEDICATED_PAGES[target]
            transitions.append({"status": target.value, "label": label, "url": _optional_url(name, call.slug),
                                "errors": []})
        else:
            transitions.append({"status": target.value, "label": TRANSITION_LABELS[(current, target)], "url": None,
                                "errors": services.readiness_errors(call, target)})
    return transitions


@staff_required
def call_overview(request, slug):
    call = _call(request, slug)
    context = {
        **_call_context(call, "overview", call.title),
        "tracks": list(call.tracks.all()),
        "criteria": list(call.criteria.all()),
        "questions": list(call.eligibility_questions.all()),
        "transitions": _transitions(call),
        "history": call.transitions.select_related("by"),
        "public": call.status != CallStatus.DRAFT,
    }
    return render(request, "ami/staff/call_overview.html", context)


@staff_required
def call_edit(request, slug):
    call = _call(request, slug)
    locked = services.locked_call_fields(call)
    # The form works on a copy, so that the page keeps the saved title whatever was typed.
    form = staff_forms.CallSetupForm(request.POST or None, instance=copy.copy(call), locked=locked)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_call(call=call, by=request.user, fields=form.setup_fields())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Paramètres de l'appel enregistrés."))
            return redirect("staff:call_edit", slug=form.cleaned_data["slug"])
    context = {**_call_context(call, "edit", _("Paramètres")), "form": form, "locked": bool(locked)}
    return render(request, "ami/staff/call_edit.html", context)


@staff_required
def call_clone(request, slug):
    call = _call(request, slug)
    initial = {"title": _("%(title)s (copie)") % {"title": call.title}, "slug": f"{call.slug}-copie"[:80]}
    form = staff_forms.CloneCallForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.clone_call(call=call, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Copie créée en brouillon, avec les parcours, les critères et les questions "
                                        "de « %(title)s ». Vérifiez ses paramètres.") % {"title": call.title})
            return redirect("staff:call", slug=new.slug)
    context = {**_call_context(call, "clone", _("Copier")), "form": form}
    return render(request, "ami/staff/call_clone.html", context)


def _formset_page(request, slug, *, formset_class, initial, save, lock_reason, template, section, title,
                  success, form_kwargs=None):
    """One page per set of rows (tracks, criteria, questions): a formset replaced as a whole by a service."""
    call = _call(request, slug)
    reason = lock_reason(call)
    data = request.POST if request.method == "POST" and not reason else None
    formset = formset_class(data, initial=initial(call), prefix="rows", form_kwargs=form_kwargs(call) if form_kwargs
                            else None)
    refusal = ""
    if data is not None and formset.is_valid():
        try:
            save(call=call, by=request.user, rows=formset.rows())
        except ValidationError as error:
            refusal = " ".join(error.messages)
        else:
            messages.success(request, success)
            return redirect(f"staff:{section}", slug=call.slug)
    if request.method == "POST" and reason:
        refusal = reason
    context = {
        **_call_context(call, section, title), "formset": formset, "lock_reason": reason, "refusal": refusal,
        "public_warning": not reason and call.status != CallStatus.DRAFT,
        "errors": formset.error_list() if formset.is_bound else [],
    }
    return render(request, template, context)


@staff_required
def tracks(request, slug):
    return _formset_page(
        request, slug, formset_class=staff_forms.TrackFormSet, initial=staff_forms.track_initial,
        save=services.save_tracks, lock_reason=services.tracks_lock_reason, template="ami/staff/tracks.html",
        section="tracks", title=_("Parcours et enveloppes"), success=_("Parcours enregistrés."),
    )


@staff_required
def criteria(request, slug):
    return _formset_page(
        request, slug, formset_class=staff_forms.CriterionFormSet, initial=staff_forms.criterion_initial,
        save=services.save_criteria, lock_reason=services.criteria_lock_reason, template="ami/staff/criteria.html",
        section="criteria", title=_("Critères et pondération"), success=_("Critères enregistrés."),
        form_kwargs=lambda call: {"scale_max": call.score_scale_max},
    )


@staff_required
def questions(request, slug):
    return _formset_page(
        request, slug, formset_class=staff_forms.QuestionFormSet, initial=staff_forms.question_initial,
        save=services.save_eligibility_questions, lock_reason=services.questions_lock_reason,
        template="ami/staff/questions.html", section="questions", title=_("Questions de recevabilité"),
        success=_("Questions de recevabilité enregistrées."),
    )


@staff_required
@require_POST
def call_transition(request, slug):
    call = _call(request, slug)
    target = request.POST.get("to_status", "")
    if target not in CallStatus.values:
        messages.error(request, _("Phase inconnue."))
        return redirect("staff:call", slug=call.slug)
    if target in DEDICATED_PAGES and target in CALL_TRANSITIONS[CallStatus(call.status)]:
        messages.error(request, _("Ce changement de phase se fait depuis sa propre page : %(page)s.")
                       % {"page": DEDICATED_PAGES[target][1]})
        return redirect("staff:call", slug=call.slug)
    try:
        call = services.transition_call(call=call, to_status=target, by=request.user)
    except ValidationError as error:
        messages.error(request, _("Changement de phase refusé : %(reasons)s") % {"reasons": " ".join(error.messages)})
    else:
        messages.success(request, _("L'appel est maintenant en phase « %(phase)s ».")
                         % {"phase": call.get_status_display()})
    return redirect("staff:call", slug=call.slug)
