from functools import partial

from django.conf import settings

from ami.account_security import is_juror


def portal(request):
    return {
        "PORTAL_NAME": settings.PORTAL_NAME,
        "PROGRAMME_NAME": settings.PROGRAMME_NAME,
        "skiplinks": [],
        # Called by the template only where it asks (the header's link to the jury's pages), at most once a request.
        "user_is_juror": partial(is_juror, request.user) if hasattr(request, "user") else False,
    }
