"""Public pages: the calls, a call, its laureates and open data, and the health probe.

The public pages are served from a cache to anonymous visitors (ami/page_cache.py says what, and how
fresh): they render through `page_cache.render` so that the CSRF token stays per visitor.
"""

import io

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from ami import health, page_cache
from ami.models import Call
from applications.models import ProposalStatus
from jury import exports
from jury.opendata import COLUMNS, laureate_decisions, laureate_rows


@page_cache.cache_public_page
def home(request):
    calls = (
        Call.objects.visible_to(request.user)
        .open_first()
        .annotate(
            submitted_count=Count(
                "proposals", filter=~Q(proposals__status__in=[ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN])
            )
        )
    )
    return page_cache.render(request, "ami/home.html", {"calls": calls})


@page_cache.cache_public_page
def call_detail(request, slug):
    call = get_object_or_404(Call.objects.visible_to(request.user).prefetch_related("criteria", "tracks"), slug=slug)
    context = {
        "call": call,
        "breadcrumb_data": {"current": call.title},
    }
    return page_cache.render(request, "ami/call_detail.html", context)


def _announced_call(request, slug):
    call = get_object_or_404(Call.objects.visible_to(request.user), slug=slug)
    if not call.results_public:
        raise Http404(_("Les lauréats de cet appel ne sont pas encore annoncés."))
    return call


@page_cache.cache_public_page
def laureates(request, slug):
    call = _announced_call(request, slug)
    decisions = list(laureate_decisions(call))
    all_tracks = list(call.tracks.all())
    kinds = sorted({(d.proposal.administration.kind, d.proposal.administration.get_kind_display())
                    for d in decisions}, key=lambda kind: str(kind[1]))
    track_code, kind = request.GET.get("parcours", ""), request.GET.get("type", "")
    shown = [d for d in decisions if not kind or d.proposal.administration.kind == kind]
    tracks = [t for t in all_tracks if not track_code or t.code == track_code]
    for track in tracks:
        track.laureates = [d for d in shown if d.track_id == track.pk]
        track.granted_total = sum(d.granted_amount_eur for d in decisions if d.track_id == track.pk)
    context = {
        "call": call,
        "tracks": tracks,
        "all_tracks": all_tracks,
        "kinds": kinds,
        "track_code": track_code,
        "kind": kind,
        "filtered": bool(track_code or kind),
        "shown_count": sum(len(t.laureates) for t in tracks),
        "laureate_count": len(decisions),
        "breadcrumb_data": {
            "links": [{"url": call.get_absolute_url(), "title": call.title}],
            "current": _("Lauréats"),
        },
    }
    return page_cache.render(request, "ami/laureates.html", context)


@page_cache.cache_public_page
def laureates_csv(request, slug):
    call = _announced_call(request, slug)
    buffer = io.BytesIO()
    exports.write("csv", COLUMNS, exports.laureate_rows(call), buffer)  # the writer of export_laureates
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{call.slug}-laureats.csv"'
    return response


@page_cache.cache_public_page
def laureates_json(request, slug):
    call = _announced_call(request, slug)
    rows = [{**row, "score_pondere": float(row["score_pondere"])} for row in laureate_rows(call)]
    return JsonResponse(rows, safe=False, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False})


@never_cache
def healthz(request):
    db_ok, db_detail = health.database()
    cache_ok, cache_detail = health.cache_backend()
    payload = {
        "database": {"ok": db_ok, "backend": db_detail},
        "cache": {"ok": cache_ok, "backend": cache_detail, "errors_ignored": health.cache_errors()},
        **health.broker_and_workers(),
    }
    # "degraded": Redis is down, the portal still reads and saves (README, « Pannes »).
    payload["status"] = ("ok" if cache_ok and payload["broker_ok"] else "degraded") if db_ok else "down"
    return JsonResponse(payload, status=200 if db_ok else 503)


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)


def permission_denied(request, exception):
    return render(request, "403.html", status=403)
