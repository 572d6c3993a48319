"""ami/auth_memo.py: the users, second-factor devices and jury seats each process remembers, served only while
their versions are current, so that every change is seen by the very next request."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from ami import auth_memo
from ami.account_security import is_juror
from ami.auth_memo import ModelBackend
from ami.models import CallStatus
from jury.services import reviews as review_services
from tests.ami.factories import CallFactory, UserFactory
from tests.jury.factories import JuryMemberFactory

pytestmark = pytest.mark.django_db

BACKEND = "ami.auth_memo.ModelBackend"


def queried_tables(function):
    with CaptureQueriesContext(connection) as queries:
        result = function()
    return result, [query["sql"].split('FROM "')[1].split('"')[0] for query in queries.captured_queries
                    if 'FROM "' in query["sql"]]


def test_a_user_is_read_once_then_served_from_memory_as_a_new_instance_each_time():
    user = UserFactory(first_name="Claire")
    backend = ModelBackend()
    first, tables = queried_tables(lambda: backend.get_user(user.pk))
    assert first == user and tables == ["ami_user"]
    second, tables = queried_tables(lambda: backend.get_user(user.pk))
    assert second == user and tables == [] and second is not first
    second.first_name = "Modifiée dans une requête"
    assert backend.get_user(user.pk).first_name == "Claire"  # one request's changes never reach the next one


def test_whether_a_user_sits_on_a_jury_is_read_once_and_a_change_seen_at_the_next_request():
    user = UserFactory()
    backend = ModelBackend()

    def request():  # what each request does: the user through the backend, then the question
        return is_juror(backend.get_user(user.pk))

    assert queried_tables(request) == (False, ["ami_user", "jury_jurymember"])
    assert queried_tables(request) == (False, [])
    seat = JuryMemberFactory(user=user)
    assert queried_tables(request) == (True, ["ami_user", "jury_jurymember"])
    assert queried_tables(request) == (True, [])
    seat.delete()
    assert request() is False
    asked = backend.get_user(user.pk)
    _result, tables = queried_tables(lambda: [is_juror(asked), is_juror(asked)])
    assert tables == []  # asked twice in one request (second factor, header): answered from the request's user


def test_a_deactivated_user_is_refused_at_the_next_request():
    user = UserFactory()
    backend = ModelBackend()
    assert backend.get_user(user.pk) == user
    user.is_active = False
    user.save()
    assert backend.get_user(user.pk) is None


def test_a_changed_password_ends_the_other_sessions_at_once(client):
    user = UserFactory()
    client.force_login(user, backend=BACKEND)
    assert client.get("/mes-projets/").status_code == 200
    assert client.get("/mes-projets/").status_code == 200  # served from memory
    user.set_password("Un-autre-mot-de-passe-2026")
    user.save()
    response = client.get("/mes-projets/")
    assert response.status_code == 302 and response["Location"].startswith("/compte/connexion/")


def test_a_removed_authenticator_is_no_second_factor_at_the_next_request(client, settings):
    settings.OTP_REQUIRED = True
    staff = UserFactory(is_staff=True)
    device = TOTPDevice.objects.create(user=staff, name="Téléphone", confirmed=True)
    session = client.session
    session.update({SESSION_KEY: str(staff.pk), BACKEND_SESSION_KEY: BACKEND,
                    HASH_SESSION_KEY: staff.get_session_auth_hash(), DEVICE_ID_SESSION_KEY: device.persistent_id})
    session.save()
    client.cookies["sessionid"] = session.session_key
    assert client.get("/equipe/").status_code == 200
    assert client.get("/equipe/").status_code == 200  # the device served from memory
    device.delete()
    response = client.get("/equipe/")
    assert response.status_code == 302 and "/compte/double-authentification/" in response["Location"]


def test_a_withdrawn_seat_answers_404_at_the_next_request(client):
    call = CallFactory(status=CallStatus.REVIEW, slug="ami-ia-2019")
    seat = JuryMemberFactory(call=call, charter_accepted_at=timezone.now())
    client.force_login(seat.user, backend=BACKEND)
    assert client.get("/jury/ami-ia-2019/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get("/jury/ami-ia-2019/?parcours=x")
    lookup = 'FROM "jury_jurymember" INNER JOIN "ami_call"'
    seat_lookups = [query["sql"] for query in queries.captured_queries if lookup in query["sql"]]
    assert seat_lookups == []  # the seat served from memory
    seat.delete()
    assert client.get("/jury/ami-ia-2019/").status_code == 404


def test_the_charter_accepted_through_an_update_is_seen_at_once(client):
    call = CallFactory(status=CallStatus.REVIEW, slug="ami-ia-2019")
    seat = JuryMemberFactory(call=call)
    client.force_login(seat.user, backend=BACKEND)
    assert client.get("/jury/ami-ia-2019/")["Location"].startswith("/jury/ami-ia-2019/charte/")
    assert review_services.accept_charter(member=seat, by=seat.user)
    assert client.get("/jury/ami-ia-2019/").status_code == 200


def test_a_renamed_call_is_seen_through_the_remembered_seat(client):
    call = CallFactory(status=CallStatus.REVIEW, slug="ami-ia-2019", title="AMI IA 2019")
    seat = JuryMemberFactory(call=call, charter_accepted_at=timezone.now())
    client.force_login(seat.user, backend=BACKEND)
    assert "AMI IA 2019" in client.get("/jury/ami-ia-2019/").content.decode()
    call.title = "AMI Intelligence artificielle 2019"
    call.save()
    assert "AMI Intelligence artificielle 2019" in client.get("/jury/ami-ia-2019/?a=1").content.decode()


def test_nothing_is_remembered_with_a_cache_private_to_each_of_several_processes(settings):
    settings.SINGLE_PROCESS_CACHE = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    user = UserFactory()
    backend = ModelBackend()
    backend.get_user(user.pk)
    _user, tables = queried_tables(lambda: backend.get_user(user.pk))
    assert tables == ["ami_user"]


def test_the_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(auth_memo, "MAX_ENTRIES", 2)
    users = UserFactory.create_batch(3)
    backend = ModelBackend()
    for user in users:
        backend.get_user(user.pk)
    assert auth_memo.peek(("user", str(users[0].pk))) == (None, None)
    assert auth_memo.peek(("user", str(users[2].pk)))[0] is not None


def test_after_an_outage_everything_remembered_is_forgotten():
    from ami import cache as shared_cache

    user = UserFactory()
    ModelBackend().get_user(user.pk)
    assert auth_memo.forget_all in shared_cache._recovery_hooks
    assert auth_memo.bump_global in shared_cache._recovery_hooks
    auth_memo.forget_all()
    assert auth_memo.peek(("user", str(user.pk))) == (None, None)
