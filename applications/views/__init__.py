"""The applicant journey: joining an administration, "Mes projets", drafting a proposal."""

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ami.models import Call, CallStatus
from applications import rules, services
from applications.forms import (
    ATTACHMENTS_STEP,
    ELIGIBILITY_PREFIX,
    FORM_STEPS,
    MODEL_FIELDS,
    STEP_TITLES,
    AdministrationSearchForm,
    JoinAdministrationForm,
    JoinPostForm,
    NewDraftForm,
    ProposalDraftForm,
    ProposeAdministrationForm,
    eligibility_field_name,
    step_of_field,
)
from applications.models import Administration, Membership, Proposal, ProposalStatus

SEARCH_LIMIT = 20


def _breadcrumb(current, *links):
    return {"links": [{"url": url, "title": title} for url, title in links], "current": current}


# Joining an administration


@login_required
def my_administration(request):
    memberships = Membership.objects.filter(user=request.user).select_related("administration")
    search = AdministrationSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    results = Administration.objects.search(query)[:SEARCH_LIMIT] if query else Administration.objects.none()
    context = {
        "memberships": memberships,
        "has_active": any(m.status == "active" for m in memberships),
        "show_members_link": any(m.status == "active" for m in memberships),
        "search_form": search,
        "query": query,
        "join_form": JoinAdministrationForm(results=results) if query else None,
        "results_count": len(results) if query else 0,
        "suggestions": Administration.objects.filter(approved=True).values_list("name", flat=True),
        "breadcrumb_data": _breadcrumb(_("Mon administration")),
    }
    return render(request, "applications/my_administration.html", context)


@login_required
@require_POST
def join_administration(request):
    form = JoinPostForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choisissez votre administration dans la liste."))
        return redirect("applications:my_administration")
    administration = form.cleaned_data["administration"]
    membership = services.request_membership(user=request.user, administration=administration)
    if membership.status == "active":
        messages.info(request, _("Vous êtes déjà membre de %(name)s.") % {"name": administration})
    else:
        messages.success(request, _(
            "Votre demande pour rejoindre %(name)s est envoyée : "
            "un membre de cette administration ou l'équipe du programme la confirmera."
        ) % {"name": administration})
    return redirect("applications:my_administration")


@login_required
def propose_administration(request):
    form = ProposeAdministrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        administration, _membership = services.propose_administration(user=request.user, **form.cleaned_data)
        messages.success(request, _(
            "Votre proposition « %(name)s » est enregistrée : "
            "l'équipe du programme la validera, puis confirmera votre appartenance."
        ) % {"name": administration.name})
        return redirect("applications:my_administration")
    context = {
        "form": form,
        "breadcrumb_data": _breadcrumb(_("Proposer une administration"),
                                       (reverse("applications:my_administration"), _("Mon administration"))),
    }
    return render(request, "applications/propose_administration.html", context)


@login_required
def members(request):
    if not request.user.is_staff and rules.needs_membership(request.user):
        raise Http404(_("Vous n'êtes membre confirmé d'aucune administration."))
    confirmable = Membership.objects.confirmable_by(request.user).exclude(user=request.user)
    pending = (confirmable.pending().select_related("user", "administration")
               .order_by("administration__name", "created_at"))
    administrations = (Administration.objects.all() if request.user.is_staff
                       else Administration.objects.of_active_member(request.user))
    active = (Membership.objects.active().filter(administration__in=administrations)
              .select_related("user", "administration").order_by("administration__name", "user__last_name"))
    context = {
        "pending": pending,
        "active": active,
        "show_members_link": True,
        "breadcrumb_data": _breadcrumb(
            _("Membres"), (reverse("applications:my_administration"), _("Mon administration"))
        ),
    }
    return render(request, "applications/members.html", context)


@login_required
@require_POST
def confirm_member(request, pk):
    membership = get_object_or_404(
        Membership.objects.confirmable_by(request.user).pending().select_related("user", "administration"), pk=pk
    )
    try:
        services.confirm_membership(membership=membership, by=request.user)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("%(user)s est maintenant membre de %(name)s.") % {
        "user": membership.user, "name": membership.administration})
    return redirect("applications:members")


# Mes projets


@login_required
def my_proposals(request):
    from applications.views import submission  # the rows (status, missing items, receipts, decision) live there

    administrations = list(Administration.objects.of_active_member(request.user))
    proposals = submission.with_row_data(
        Proposal.objects.visible_to(request.user).filter(administration__in=administrations)
        .select_related("call", "administration").order_by("-call__opens_at", "call_id", "-updated_at"))
    by_call = {call: list(items) for call, items in groupby(proposals, key=lambda p: p.call)}
    if administrations:
        for call in Call.objects.filter(status=CallStatus.OPEN).exclude(pk__in=[c.pk for c in by_call]):
            by_call[call] = []
    # Open calls first (where there is work to do), then the most recent.
    ordered = sorted(by_call, key=lambda call: (not call.is_open, -call.opens_at.timestamp()))
    now = timezone.now()
    groups = [submission.call_group(call, by_call[call], now) for call in ordered]
    context = {
        "groups": groups,
        "administrations": administrations,
        "show_members_link": bool(administrations),
        "breadcrumb_data": _breadcrumb(_("Mes projets")),
    }
    return render(request, "applications/my_proposals.html", context)


# Drafts


def _new_draft_context(request, call, form, error=""):
    drafts = (Proposal.objects.visible_to(request.user)
              .filter(call=call, status=ProposalStatus.DRAFT, administration__in=form.fields["administration"].queryset)
              .select_related("administration") if form else Proposal.objects.none())
    return {
        "call": call, "form": form, "error": error, "drafts": drafts,
        "breadcrumb_data": _breadcrumb(_("Nouveau projet"), (reverse("applications:my_proposals"), _("Mes projets"))),
    }


@login_required
def new_draft(request, call_slug):
    call = get_object_or_404(Call.objects.visible_to(request.user), slug=call_slug)
    if not call.is_open:
        error = _("L'appel « %(call)s » n'est pas ouvert aux candidatures (%(status)s) : "
                  "il n'est pas possible d'y créer un projet.") % {
                      "call": call.title, "status": call.get_status_display()}
        return render(request, "applications/new_draft.html", _new_draft_context(request, call, None, error))
    administrations = Administration.objects.of_active_member(request.user)
    if not administrations:
        messages.warning(request, _("Rejoignez d'abord votre administration pour créer un projet."))
        return redirect("applications:my_administration")
    has_draft = Proposal.objects.filter(
        call=call, administration__in=administrations, status=ProposalStatus.DRAFT
    ).exists()
    form = NewDraftForm(request.POST or None, administrations=administrations, show_force_new=has_draft)
    if request.method == "POST" and form.is_valid():
        try:
            proposal, created = services.start_draft(
                call=call, administration=form.cleaned_data["administration"], by=request.user,
                force_new=form.cleaned_data["force_new"], title=form.cleaned_data["title"],
            )
        except ValidationError as error:
            context = _new_draft_context(request, call, None, error.message)
            return render(request, "applications/new_draft.html", context)
        if created:
            messages.success(request, _("Brouillon créé : il est enregistré automatiquement pendant la saisie."))
        else:
            messages.info(request, _(
                "Votre administration a déjà un brouillon pour cet appel : vous le reprenez ci-dessous."))
        return redirect("applications:edit_draft", pk=proposal.pk)
    return render(request, "applications/new_draft.html", _new_draft_context(request, call, form))


def member_proposal(request, pk, *related, refusal):
    """The proposal (with its call, administration and `related`) through the per-user queryset: outsiders get
    404, staff who are not members of its administration 403 with `refusal`.

    No DISTINCT: a user has one membership per administration, so the join yields one row at most."""
    proposals = Proposal.objects.visible_to(request.user).select_related("call", "administration", *related)
    proposal = get_object_or_404(proposals, pk=pk)
    if not rules.acts_for_administration(request.user, proposal):
        raise PermissionDenied(refusal)
    return proposal


def _editable_proposal(request, pk):
    return member_proposal(request, pk, "created_by",
                           refusal=_("Seuls les membres de l'administration porteuse modifient ce projet."))


def step_url(proposal_pk, number):
    """The page of step `number` of a draft: a section of the form, or the attachments (the last step)."""
    if number == ATTACHMENTS_STEP:
        return reverse("applications:attachments", args=[proposal_pk])
    if number == 1:
        return reverse("applications:edit_draft", args=[proposal_pk])
    return reverse("applications:edit_draft_step", args=[proposal_pk, number])


def field_url(proposal_pk, field_name):
    """The step page that edits `field_name`, with the field's anchor (for "what is missing" links)."""
    anchor = "eligibility" if field_name == "eligibility_answers" else f"id_{field_name}"
    return f"{step_url(proposal_pk, step_of_field(field_name))}#{anchor}"


def _anchors(step):
    if step is None:
        return "attachments"
    return " ".join("eligibility" if name == "eligibility_answers" else f"id_{name}" for name in step.fields)


def stepper_context(proposal, current):
    """What templates/applications/_stepper.html and _steps_menu.html show: where one is among the draft's pages.

    The DSFR stepper counts the form's sections (it draws at most 8 steps); the attachments page
    follows them in the list of steps, unnumbered.
    """
    form_steps = {step.number: step for step in FORM_STEPS}
    steps = [{"number": number, "title": title, "url": step_url(proposal.pk, number), "current": number == current,
              "numbered": number in form_steps, "anchors": _anchors(form_steps.get(number))}
             for number, title in STEP_TITLES.items()]
    return {"steps": steps, "current": steps[current - 1], "next": steps[current] if current < len(steps) else None,
            "previous": steps[current - 2] if current > 1 else None, "count": len(FORM_STEPS)}


def _destination(request, proposal, step):
    """Where the buttons (previous, save, next) and the list of steps lead once the step is saved."""
    go = request.POST.get("go", "")
    target = {"previous": step - 1, "next": step + 1}.get(go, step)
    if go.isdigit():
        target = int(go)
    return step_url(proposal.pk, min(max(target, 1), ATTACHMENTS_STEP))


def _draft_questions(proposal):
    return list(proposal.call.eligibility_questions.all())


@login_required
def edit_draft(request, pk, step=1):
    """One step of the proposal form; its buttons save the step before moving (nothing typed is lost)."""
    proposal = _editable_proposal(request, pk)
    if not 1 <= step <= len(FORM_STEPS):
        raise Http404(_("Cette étape n'existe pas."))
    if not rules.is_editable_draft(proposal):
        messages.error(request, _("Ce projet ne peut plus être modifié : ce n'est plus un brouillon, "
                                  "ou l'appel n'est plus ouvert aux candidatures."))
        return redirect("applications:my_proposals")
    form_step = FORM_STEPS[step - 1]
    questions = _draft_questions(proposal) if form_step.asks_eligibility else []
    # The form works on a copy of the proposal, so the page's heading keeps the saved title whatever was typed.
    form = ProposalDraftForm(request.POST or None, instance=proposal, fields=form_step.fields, questions=questions)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.save_draft(proposal=proposal, data=form.draft_data(), version=form.cleaned_data["version"],
                                by=request.user)
        except ValidationError as error:
            refusal = error.message  # shown above the form, which keeps the typed text
        else:
            messages.success(request, _("Brouillon enregistré."))
            return redirect(_destination(request, proposal, step))
    context = {
        "proposal": proposal,
        "form": form,
        "form_step": form_step,
        "stepper": stepper_context(proposal, step),
        "questions": questions,
        "refusal": refusal,
        "breadcrumb_data": _breadcrumb(proposal.title, (reverse("applications:my_proposals"), _("Mes projets"))),
    }
    return render(request, "applications/edit_draft.html", context)


def _posted_fields(request, proposal):
    """The draft fields and eligibility questions present in an autosave (one step posts only its own)."""
    fields = [name for name in MODEL_FIELDS if name in request.POST]
    if not any(key.startswith(ELIGIBILITY_PREFIX) for key in request.POST):
        return fields, []  # the call's questions are read only by the step that asks them
    questions = [question for question in _draft_questions(proposal)
                 if eligibility_field_name(question) in request.POST]
    return fields, questions


@require_POST
def autosave_draft(request, pk):
    """JSON for static/js/autosave.js: 200 saved, 400 invalid, 403 signed out, 404 unknown, 409 conflict.

    Saves only the fields present in the request: each step of the form posts its own.
    """
    if not request.user.is_authenticated:
        return JsonResponse({"error": _("Votre session a expiré."), "session_expired": True}, status=403)
    try:
        proposal = _editable_proposal(request, pk)
    except (Http404, PermissionDenied):
        return JsonResponse({"error": _("Ce projet est introuvable.")}, status=404)
    if not rules.is_editable_draft(proposal):
        return JsonResponse({"error": _("Ce projet n'est plus un brouillon modifiable.")}, status=400)
    fields, questions = _posted_fields(request, proposal)
    form = ProposalDraftForm(request.POST, instance=proposal, fields=fields, questions=questions)
    if not form.is_valid():
        first = next(iter(form.errors.items()))
        label = form.fields[first[0]].label if first[0] in form.fields else ""
        return JsonResponse({"error": f"{label} : {first[1][0]}" if label else first[1][0],
                             "errors": form.errors.get_json_data()}, status=400)
    try:
        version = services.save_draft(proposal=proposal, data=form.draft_data(), version=form.cleaned_data["version"],
                                      by=request.user)
    except services.DraftConflict as error:
        return JsonResponse({"error": error.message, "conflict": True}, status=409)
    except ValidationError as error:
        return JsonResponse({"error": error.message}, status=400)
    return JsonResponse({"saved_at": timezone.localtime().strftime("%H:%M"), "version": version})


