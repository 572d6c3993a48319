"""The pages a French public service owes its users: personal data (RGPD) and accessibility (RGAA),
and the download of one's own data."""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ami.models import Call
from ami.privacy import personal_data
from applications.services.retention import announced_at, retention_ends_at


def _retention_rows(user):
    """Per visible call: its retention period and, once announced, when the erasure happens."""
    rows = []
    for call in Call.objects.visible_to(user).order_by("-opens_at"):
        rows.append({"call": call, "announced_at": announced_at(call), "erased_after": retention_ends_at(call)})
    return rows


@require_GET
def privacy(request):
    return render(request, "ami/privacy.html", {
        "retention_rows": _retention_rows(request.user),
        "contact_email": settings.PRIVACY_CONTACT_EMAIL,
        "session_minutes": settings.SESSION_COOKIE_AGE // 60,
        "breadcrumb_data": {"links": [], "current": _("Données personnelles")},
    })


@require_GET
def accessibility(request):
    return render(request, "ami/accessibility.html", {
        "contact_email": settings.ACCESSIBILITY_CONTACT_EMAIL,
        "breadcrumb_data": {"links": [], "current": _("Déclaration d'accessibilité")},
    })


@login_required
@require_GET
def my_data(request):
    """The signed-in person's data as a JSON download (never cached, never displayed inline)."""
    body = json.dumps(personal_data(request.user), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"mes-donnees-ami-ia-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
