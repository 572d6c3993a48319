"""The attachments of a draft (the last step of the proposal form) and their download."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applications import rules
from applications.forms import ATTACHMENTS_STEP, AttachmentForm
from applications.models import Attachment
from applications.services import attachments as services
from applications.views import _breadcrumb, _editable_proposal, stepper_context


def _not_editable(request, proposal):
    messages.error(request, _("Les pièces jointes ne peuvent plus être modifiées : ce projet n'est plus un "
                              "brouillon, ou l'appel n'est plus ouvert aux candidatures."))
    return redirect("applications:attachments", pk=proposal.pk)


def _renamed(request, uploaded_name, attachment):
    if uploaded_name != attachment.original_name:
        messages.info(request, _("Le nom du fichier a été simplifié en « %(name)s ».") % {
            "name": attachment.original_name})


def _history_row(attachment):
    return {"attachment": attachment, "successor": getattr(attachment, "replaced_by", None)}


def _page_context(request, proposal, form):
    rows = list(proposal.attachments.select_related("uploaded_by", "replaced_by").order_by("uploaded_at", "pk"))
    current = [a for a in rows if a.replaced_at is None]
    max_file, max_total = services.limits(proposal.call)
    return {
        "proposal": proposal,
        "form": form,
        "current": current,
        "history": [_history_row(a) for a in reversed(rows) if a.replaced_at is not None],
        "used": sum(a.size for a in current),
        "max_file": max_file,
        "max_total": max_total,
        "editable": rules.is_editable_draft(proposal),
        "stepper": stepper_context(proposal, ATTACHMENTS_STEP),
        "breadcrumb_data": _breadcrumb(_("Pièces jointes"), (reverse("applications:my_proposals"), _("Mes projets")),
                                       (reverse("applications:edit_draft", args=[proposal.pk]), proposal.title)),
    }


def _upload_form(request, proposal):
    return AttachmentForm(request.POST or None, request.FILES or None, call=proposal.call,
                          submit=_("Joindre le fichier"), form_id="attachment-form")


@login_required
def attachments(request, pk):
    """The current attachments, their history and (on a draft) the upload form."""
    proposal = _editable_proposal(request, pk)
    form = _upload_form(request, proposal)
    if request.method == "POST":
        if not rules.is_editable_draft(proposal):
            return _not_editable(request, proposal)
        if form.is_valid():
            uploaded = form.cleaned_data["file"]
            uploaded_name = uploaded.name
            try:
                attachment = services.add_attachment(proposal=proposal, uploaded_file=uploaded,
                                                     label=form.cleaned_data["label"], by=request.user)
            except ValidationError as error:
                form.add_error("file", error)
            else:
                messages.success(request, _("« %(name)s » est joint au projet.") % {"name": attachment.original_name})
                _renamed(request, uploaded_name, attachment)
                return redirect("applications:attachments", pk=proposal.pk)
    return render(request, "applications/attachments.html", _page_context(request, proposal, form))


@login_required
def replace_attachment(request, pk, att_pk):
    """A form to put a new PDF in place of a current attachment; the old one stays in the history."""
    proposal = _editable_proposal(request, pk)
    attachment = get_object_or_404(proposal.attachments.current(), pk=att_pk)
    if not rules.is_editable_draft(proposal):
        return _not_editable(request, proposal)
    form = AttachmentForm(request.POST or None, request.FILES or None, call=proposal.call, with_label=False,
                          submit=_("Remplacer le fichier"), form_id="replace-form")
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        uploaded_name = uploaded.name
        try:
            new = services.replace_attachment(attachment=attachment, uploaded_file=uploaded, by=request.user)
        except ValidationError as error:
            form.add_error("file", error)
        else:
            messages.success(request, _("« %(old)s » est remplacé par « %(new)s » ; l'ancien fichier reste dans "
                                        "l'historique.") % {"old": attachment.original_name,
                                                            "new": new.original_name})
            _renamed(request, uploaded_name, new)
            return redirect("applications:attachments", pk=proposal.pk)
    context = {
        "proposal": proposal,
        "attachment": attachment,
        "form": form,
        "breadcrumb_data": _breadcrumb(
            _("Remplacer une pièce"), (reverse("applications:my_proposals"), _("Mes projets")),
            (reverse("applications:attachments", args=[proposal.pk]), _("Pièces jointes"))),
    }
    return render(request, "applications/replace_attachment.html", context)


@login_required
@require_POST
def remove_attachment(request, pk, att_pk):
    proposal = _editable_proposal(request, pk)
    attachment = get_object_or_404(proposal.attachments.all(), pk=att_pk)
    if not rules.is_editable_draft(proposal):
        return _not_editable(request, proposal)
    try:
        services.remove_attachment(attachment=attachment, by=request.user)
    except ValidationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("« %(name)s » est retiré du projet ; il reste dans l'historique.") % {
            "name": attachment.original_name})
    return redirect("applications:attachments", pk=proposal.pk)


def download_attachment(request, att_pk):
    """The file, for the members of the proposal's administration and staff; 404 for everyone else."""
    attachment = get_object_or_404(Attachment.objects.of_administrations_of(request.user), pk=att_pk)
    return services.file_response(attachment)
