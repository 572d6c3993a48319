"""The WSGI application of gunicorn's workers, loaded whole as a worker starts.

Django imports the URL configuration, and with it every view, form and library they name (WeasyPrint,
OR-Tools, openpyxl…), at the first request a process serves: about two seconds of CPU that the first
visitors of each worker used to wait for, all workers at once after a deploy or a restart, which is when a
deadline rush hurts most. `warm_up()` does that work here, before the worker accepts its first request
(once in the master with `gunicorn --preload`, shared by its workers).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ami.settings")
application = get_wsgi_application()


def warm_up():
    """Imports the URL configuration and the views it names, the template tag libraries, and builds the reverse
    lookup tables of each language; touches neither the database nor the cache."""
    from django.conf import settings
    from django.template import engines
    from django.urls import get_resolver, reverse
    from django.utils import translation

    get_resolver().url_patterns  # noqa: B018 - the import is the point
    for engine in engines.all():
        if hasattr(engine, "engine"):  # Django's own template backend
            engine.engine.template_libraries  # noqa: B018
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            reverse("home")


warm_up()
