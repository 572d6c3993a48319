"""A clear 503 page, never a 500, while the database is unreachable (a restart, a failover: issue 8, faults).

A request that meets `django.db.OperationalError` or `InterfaceError` gets HTTP 503 with `Retry-After`:
the page `templates/503.html` (rendered without the request, so without any context processor that
could read the database), or a JSON `{"error": "…", "unavailable": true}` for a client that asks for
JSON (static/js/autosave.js retries it). The transaction of that request was rolled back by the
database, so nothing is half saved; the connection is closed at the end of the request (Django does so
after an error) and the next request opens a new one (CONN_HEALTH_CHECKS).

Three paths lead here: an error raised by a view (or while rendering its template) reaches
`process_exception`; an error raised by a middleware becomes Django's 500 response, which `__call__`
replaces, having been told by the `got_request_exception` signal; and a session saved on the way out
turns any database error into SessionInterrupted, Django's bare 400 page,
which `__call__` replaces when a connection saw a database error during the request. In that last case
the view's work may have been committed: the 503 page says « n'a peut-être pas été enregistré ».
Place this middleware before the session middleware.
"""

import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
FAILURE_ATTRIBUTE = "_ami_database_unavailable"


def is_database_unavailable(error):
    return isinstance(error, (OperationalError, InterfaceError))


def wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


def unavailable_response(request):
    """The 503 answer: JSON or the page, never cached, with Retry-After."""
    if wants_json(request):
        response = JsonResponse({
            "error": _("Le service est momentanément indisponible : votre dernière modification n'a peut-être "
                       "pas été enregistrée. Nouvel essai dans quelques instants."),
            "unavailable": True,
        }, status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


def _remember_failure(sender, request=None, **kwargs):
    """got_request_exception receiver: marks the request when the error being handled is the database's."""
    error = sys.exc_info()[1]
    if request is not None and is_database_unavailable(error):
        setattr(request, FAILURE_ATTRIBUTE, True)


def _connection_failed():
    """A database error (other than bad data or a broken constraint) happened on this thread's connections."""
    return any(connection.errors_occurred for connection in connections.all(initialized_only=True))


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(_remember_failure, dispatch_uid="ami-database-unavailable")

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, FAILURE_ATTRIBUTE, False):
            return unavailable_response(request)
        if type(response) is HttpResponseBadRequest and _connection_failed():  # noqa: E721 - Django's own 400
            logger.warning("database unavailable while saving the session of %s %s", request.method, request.path)
            return unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if not is_database_unavailable(exception):
            return None
        logger.warning("database unavailable during %s %s: %s", request.method, request.path, exception,
                       exc_info=exception)
        return unavailable_response(request)
