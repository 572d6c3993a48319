"""The portal's URLs plus the floor of bench/web.py: a bare Django view under the same server and middleware."""

from django.http import HttpResponse
from django.urls import path

from ami.urls import handler403, handler404, handler500  # noqa: F401  (the portal's error pages)
from ami.urls import urlpatterns as portal_urlpatterns


def floor(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/floor/", floor, name="bench_floor"), *portal_urlpatterns]
