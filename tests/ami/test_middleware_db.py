"""ami/middleware_db.py: the database unreachable answers a French 503, never a 500."""

import json

import pytest
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from ami.middleware_db import DatabaseUnavailableMiddleware, is_database_unavailable
from tests.ami.factories import UserFactory


def _failing(error):
    def view(request):
        raise error

    return view


@pytest.mark.parametrize("error", [OperationalError("server closed the connection"), InterfaceError("closed")])
def test_a_database_error_in_a_view_gives_the_french_503_page(error):
    middleware = DatabaseUnavailableMiddleware(_failing(error))
    request = RequestFactory().get("/mes-projets/")
    response = middleware.process_exception(request, error)
    content = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "no-cache" in response["Cache-Control"]
    assert "Service momentanément indisponible" in content
    assert "n'a peut-être pas été enregistré" in content


def test_a_json_client_gets_a_json_503():
    error = OperationalError("connection refused")
    request = RequestFactory().post("/mes-projets/1/autosave/", HTTP_ACCEPT="application/json")
    response = DatabaseUnavailableMiddleware(_failing(error)).process_exception(request, error)
    assert response.status_code == 503
    payload = json.loads(response.content)
    assert payload["unavailable"] is True
    assert "momentanément indisponible" in payload["error"]


def test_other_errors_are_left_to_the_500_handler():
    error = ValueError("bug")
    request = RequestFactory().get("/")
    assert DatabaseUnavailableMiddleware(_failing(error)).process_exception(request, error) is None
    assert not is_database_unavailable(error)


@pytest.mark.django_db
def test_a_database_error_raised_by_an_inner_middleware_becomes_503_too(client, monkeypatch, settings):
    """The session saved on the way out fails: Django's 500 becomes the 503."""
    from django.contrib.sessions.backends.db import SessionStore

    settings.SESSION_SAVE_EVERY_REQUEST = True  # as a request that changes its session

    client.force_login(UserFactory())

    def broken_save(self, must_create=False):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(SessionStore, "save", broken_save)
    client.raise_request_exception = False
    response = client.get("/mes-projets/")
    assert response.status_code == 503
    assert "Service momentanément indisponible" in response.content.decode()


@pytest.mark.django_db
def test_a_database_error_in_a_real_view_gives_503(client, monkeypatch):
    from ami import views

    def broken(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(views.Call.objects, "visible_to", broken)
    response = client.get("/")
    assert response.status_code == 503
    assert "Erreur 503" in response.content.decode()


@pytest.mark.django_db
def test_a_session_that_cannot_be_saved_gives_503_not_the_bare_400(client, monkeypatch, settings):
    """Django turns a failed session update into SessionInterrupted (400): with the database down, a 503."""
    from django.contrib.sessions.models import Session
    from django.db import connection

    settings.SESSION_SAVE_EVERY_REQUEST = True  # as a request that changes its session

    client.force_login(UserFactory())

    def broken_save(self, *args, **kwargs):
        with connection.wrap_database_errors:  # as a query on a dead connection does
            raise connection.Database.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Session, "save", broken_save)
    try:
        response = client.get("/mes-projets/")
    finally:
        connection.errors_occurred = False
    assert response.status_code == 503
    assert "Service momentanément indisponible" in response.content.decode()


@pytest.mark.django_db
def test_a_genuine_bad_request_stays_a_400(client):
    response = client.get("/", HTTP_HOST="bad host with spaces")
    assert response.status_code == 400
