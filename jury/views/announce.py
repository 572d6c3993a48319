"""Staff announce the results: templates with preview, a confirmation with counts, the outbox's progress."""

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ami.access import staff_call as _staff_call
from ami.mail import retry_failed
from ami.models import EmailStatus, OutboundEmail
from jury.models import AnnouncementTemplate, Outcome
from jury.services import announce


class TemplateForm(forms.ModelForm):
    class Meta:
        model = AnnouncementTemplate
        fields = ["subject", "body_text", "body_html"]
        widgets = {"body_text": forms.Textarea(attrs={"rows": 12}), "body_html": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self):
        cleaned = super().clean()
        for name in ("subject", "body_text", "body_html"):
            try:
                announce.check_template(cleaned.get(name) or "")
            except ValidationError as error:
                self.add_error(name, error)
        return cleaned


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy("J'ai vérifié les messages et je confirme l'annonce des résultats"), required=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


def _previews(call, templates):
    previews = {}
    for decision in announce.decisions_to_announce(call):
        if decision.outcome not in previews:
            previews[decision.outcome] = announce.render(templates[decision.outcome],
                                                         announce.placeholders_for(decision))
    return previews


@login_required
def announce_page(request, slug):
    call = _staff_call(request, slug)
    templates = announce.templates_of(call)
    previews = _previews(call, templates)
    counts = announce.preview_counts(call)
    outcomes = [
        {
            "value": outcome,
            "label": label,
            "proposals": counts[outcome][0],
            "messages": counts[outcome][1],
            "form": TemplateForm(instance=templates[outcome], prefix=outcome),
            "preview": previews.get(outcome),
        }
        for outcome, label in Outcome.choices
    ]
    return render(request, "jury/announce/announce.html", {
        "call": call,
        "errors": announce.announce_errors(call),
        "outcomes": outcomes,
        "total_messages": sum(c[1] for c in counts.values()),
        "placeholders": announce.PLACEHOLDERS,
        "confirm_form": ConfirmForm(),
        "breadcrumb_data": {
            "links": [{"url": reverse("call_detail", args=[call.slug]), "title": call.title}],
            "current": _("Annonce des résultats"),
        },
    })


@login_required
@require_POST
def save_template(request, slug, outcome):
    call = _staff_call(request, slug)
    if outcome not in Outcome.values:
        raise Http404
    instance = AnnouncementTemplate.objects.filter(call=call, outcome=outcome).first() or AnnouncementTemplate(
        call=call, outcome=outcome
    )
    form = TemplateForm(request.POST, instance=instance, prefix=outcome)
    if form.is_valid():
        template = form.save(commit=False)
        template.updated_by = request.user
        template.save()
        messages.success(request, _("Le modèle « %(outcome)s » est enregistré.") % {"outcome": Outcome(outcome).label})
    else:
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[field].label if field in form.fields else ''} : {error}")
    return redirect(reverse("announce:page", args=[call.slug]) + f"#modele-{outcome}")


@login_required
@require_POST
def do_announce(request, slug):
    call = _staff_call(request, slug)
    if not ConfirmForm(request.POST).is_valid():
        messages.error(request, _("Cochez la case de confirmation pour annoncer les résultats."))
        return redirect("announce:page", slug=call.slug)
    try:
        queued = announce.announce_call(call=call, by=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("announce:page", slug=call.slug)
    messages.success(request, _("Résultats annoncés : %(count)s messages partent.") % {"count": queued})
    return redirect("announce:outbox", slug=call.slug)


@login_required
def outbox(request, slug):
    call = _staff_call(request, slug)
    emails = OutboundEmail.objects.filter(call=call).select_related("proposal").order_by("status", "to", "pk")
    status = request.GET.get("statut", "")
    if status in EmailStatus.values:
        emails = emails.filter(status=status)
    page = Paginator(emails, 50).get_page(request.GET.get("page"))
    return render(request, "jury/announce/outbox.html", {
        "call": call,
        "page": page,
        "progress": announce.outbox_progress(call),
        "statuses": EmailStatus.choices,
        "status": status,
        "query": urlencode({"statut": status}) if status else "",
        "breadcrumb_data": {
            "links": [{"url": reverse("call_detail", args=[call.slug]), "title": call.title}],
            "current": _("Courriels de l'appel"),
        },
    })


@login_required
def outbox_status(request, slug):
    call = _staff_call(request, slug)
    return JsonResponse(announce.outbox_progress(call))


@login_required
@require_POST
def retry(request, slug):
    call = _staff_call(request, slug)
    count = retry_failed(emails=OutboundEmail.objects.filter(call=call))
    messages.success(request, _("%(count)s messages en échec sont remis dans la file d'envoi.") % {"count": count})
    return redirect("announce:outbox", slug=call.slug)
