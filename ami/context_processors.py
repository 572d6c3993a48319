from django.conf import settings


def portal(request):
    return {
        "PORTAL_NAME": settings.PORTAL_NAME,
        "PROGRAMME_NAME": settings.PROGRAMME_NAME,
        "skiplinks": [],
    }
