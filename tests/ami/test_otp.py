"""Two-factor authentication (issue 8): who must give a code, setting up the app, codes at login, recovery codes.

The general test settings turn OTP_REQUIRED off (the suite signs staff in with force_login); here the
`otp_on` fixture turns it back on.
"""

import html
import re

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ami import two_factor
from ami.account_security import LOCAL, LOGIN_METHOD, PROCONNECT, otp_required
from ami.models import AuditEvent
from tests.ami.factories import UserFactory
from tests.conftest import close_response
from tests.jury.factories import JuryMemberFactory

pytestmark = pytest.mark.django_db

SETUP = "/compte/double-authentification/activer/"
VERIFY = "/compte/double-authentification/"
RECOVERY = "/compte/double-authentification/secours/"
CODES = "/compte/double-authentification/codes-de-secours/"


@pytest.fixture
def otp_on(settings):
    settings.OTP_REQUIRED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # wrong then right at once; test_wrong_codes_slow_down turns it back
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    return settings


@pytest.fixture
def staff():
    return UserFactory(email="cheffe.programme@numerique.gouv.fr", is_staff=True)


@pytest.fixture
def juror():
    return JuryMemberFactory(user__email="experte@inria.fr").user


def text(response):
    return html.unescape(response.content.decode()).replace("\xa0", " ").replace("\u202f", " ")


def current_code(device):
    device.refresh_from_db()
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


def wrong_code(device):
    return "000000" if current_code(device) != "000000" else "111111"


def confirmed_device(user):
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    two_factor.issue_recovery_codes(user=user)
    return device


def session_with(method):
    session = SessionStore()
    session[LOGIN_METHOD] = method
    return session


# Who


def test_who_needs_a_second_factor(otp_on, staff, juror):
    owner = UserFactory(email="porteuse@ddtm-herault.gouv.fr")
    local, proconnect = session_with(LOCAL), session_with(PROCONNECT)
    assert otp_required(staff, local) and otp_required(staff, proconnect)  # staff, however they came
    assert otp_required(juror, local)
    assert not otp_required(juror, proconnect)  # a juror vouched for by ProConnect
    assert not otp_required(owner, local)
    otp_on.OTP_REQUIRED = False
    assert not otp_required(staff, local)


def test_demo_accounts_skip_it_only_while_debug_is_on(otp_on):
    demo_staff = UserFactory(email="programme@demo.ami-ia.fr", is_staff=True)
    assert otp_required(demo_staff, session_with(LOCAL))
    otp_on.DEBUG = True
    assert not otp_required(demo_staff, session_with(LOCAL))
    assert otp_required(UserFactory(email="agent@numerique.gouv.fr", is_staff=True), session_with(LOCAL))


# Where the middleware sends people


def test_staff_without_a_device_is_sent_to_set_one_up_before_any_page(client, otp_on, staff):
    client.force_login(staff)
    for url in ["/equipe/", "/admin/", "/mes-projets/", "/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == f"{SETUP}?next={url.replace('/', '%2F')}"
    static = client.get("/static/css/ami.css")
    close_response(static)
    assert static.status_code == 200
    assert client.post("/compte/deconnexion/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_without_the_setting_nobody_is_stopped(client, staff):
    client.force_login(staff)
    assert client.get("/equipe/").status_code == 200


def test_a_juror_through_proconnect_and_a_project_owner_go_straight_in(client, otp_on, juror):
    client.force_login(juror)
    assert client.get("/jury/")["Location"].startswith(SETUP)
    session = client.session
    session[LOGIN_METHOD] = PROCONNECT
    session.save()
    assert client.get("/jury/").status_code == 200
    client.force_login(UserFactory(email="porteur@dgs.gouv.fr"))
    assert client.get("/mes-projets/").status_code == 200
    follow = client.get(SETUP, follow=True)
    assert "La double authentification n'est pas demandée pour votre compte." in text(follow)


# Setting up


def test_staff_sets_up_an_authenticator_and_sees_recovery_codes_once(client, otp_on, staff):
    client.force_login(staff)
    page = text(client.get(f"{SETUP}?next=/equipe/"))
    assert "Activer la double authentification" in page
    assert '<div class="ami-otp-qr" role="img"' in page and "<svg" in page and "style=" not in page.split("<svg")[1]
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    secret = re.search(r'id="otp-secret">([A-Z2-7 ]+)<', page).group(1)
    assert secret.replace(" ", "") == two_factor.secret_for_manual_entry(device).replace(" ", "")

    wrong = text(client.post(f"{SETUP}?next=/equipe/", {"token": wrong_code(device)}))
    assert "Ce code ne correspond pas : vérifiez l'heure de votre téléphone et réessayez." in wrong
    assert not TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
    assert "Saisissez les 6 chiffres affichés par votre application." in text(client.post(SETUP, {"token": "12ab"}))

    key_before = client.session.session_key
    response = client.post(f"{SETUP}?next=/equipe/", {"token": current_code(device)})
    assert response["Location"] == f"{CODES}?next=%2Fequipe%2F"
    assert client.session.session_key != key_before  # a change of privilege gets a new session key
    shown = text(client.get(response["Location"]))
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", shown)
    assert len(codes) == 10
    assert sorted(codes) == sorted(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))
    assert "Notez ces codes maintenant : ils ne seront plus affichés." in shown
    again = text(client.get(CODES))
    assert re.findall(r"<li><code>", again) == [] and "Il vous reste 10 codes de secours inutilisés." in again
    assert client.get("/equipe/").status_code == 200
    assert list(AuditEvent.objects.filter(actor=staff).values_list("action", flat=True).order_by("id")) == [
        "account.otp_enabled", "account.recovery_codes_issued",
    ]


def test_a_second_setup_cannot_replace_a_device_without_its_code(client, otp_on, staff):
    device = confirmed_device(staff)
    client.force_login(staff)  # password only: an intruder who knows it must not enrol a phone of their own
    response = client.get(f"{SETUP}?next=/equipe/")
    assert response["Location"] == f"{VERIFY}?next=%2Fequipe%2F"
    assert list(TOTPDevice.objects.filter(user=staff)) == [device]


# At login


def test_login_asks_for_the_code_and_goes_on(client, otp_on, staff):
    device = confirmed_device(staff)
    client.force_login(staff)
    assert client.get("/equipe/appels/")["Location"] == f"{VERIFY}?next=%2Fequipe%2Fappels%2F"
    page = text(client.get(f"{VERIFY}?next=/equipe/appels/"))
    assert "Ouvrez votre application d'authentification" in page
    assert "Utiliser un code de secours" in page
    bad = text(client.post(f"{VERIFY}?next=/equipe/appels/", {"token": wrong_code(device)}))
    assert "Ce code est incorrect ou a déjà servi" in bad
    code = current_code(device)
    key_before = client.session.session_key
    response = client.post(f"{VERIFY}?next=/equipe/appels/", {"token": code})
    assert response["Location"] == "/equipe/appels/"
    assert client.session.session_key != key_before
    assert client.get("/equipe/appels/").status_code == 200

    other = type(client)()
    other.force_login(staff)
    replay = text(other.post(VERIFY, {"token": code}))
    assert "Ce code est incorrect ou a déjà servi" in replay  # a code works once


def test_next_never_leaves_the_site(client, otp_on, staff):
    device = confirmed_device(staff)
    client.force_login(staff)
    response = client.post(f"{VERIFY}?next=https://evil.example/", {"token": current_code(device)})
    assert response["Location"] == "/"


def test_wrong_codes_slow_down(client, otp_on, staff):
    otp_on.OTP_TOTP_THROTTLE_FACTOR = 60
    device = confirmed_device(staff)
    client.force_login(staff)
    client.post(VERIFY, {"token": wrong_code(device)})
    page = text(client.post(VERIFY, {"token": current_code(device)}))
    assert re.search(r"Trop d'essais infructueux : patientez \d+ secondes avant de réessayer.", page)
    assert client.get("/equipe/").status_code == 302


def test_a_recovery_code_works_once_and_says_how_many_are_left(client, otp_on, staff):
    confirmed_device(staff)
    code = StaticToken.objects.filter(device__user=staff).first().token
    client.force_login(staff)
    assert "Code de secours" in text(client.get(RECOVERY))
    assert "Ce code de secours est inconnu ou a déjà servi." in text(client.post(RECOVERY, {"code": "aaaaaaaa"}))
    follow = client.post(f"{RECOVERY}?next=/equipe/", {"code": f" {code[:4].upper()}-{code[4:]} "}, follow=True)
    assert follow.redirect_chain[0] == ("/equipe/", 302)
    assert "Code de secours accepté. Il vous en reste 9" in text(follow)
    assert StaticToken.objects.filter(device__user=staff).count() == 9
    assert AuditEvent.objects.filter(action="account.recovery_code_used", actor=staff).get().after == {"left": 9}
    other = type(client)()
    other.force_login(staff)
    assert "Ce code de secours est inconnu ou a déjà servi." in text(other.post(RECOVERY, {"code": code}))


def test_new_recovery_codes_replace_the_old_ones(client, otp_on, staff):
    device = confirmed_device(staff)
    old = set(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))
    client.force_login(staff)
    assert client.get(CODES)["Location"].startswith(VERIFY)  # only after the second factor
    client.post(VERIFY, {"token": current_code(device)})
    shown = text(client.post(CODES, follow=True))
    new = set(re.findall(r"<li><code>([a-z2-7]{8})</code></li>", shown))
    assert len(new) == 10 and not new & old
    assert set(StaticDevice.objects.get(user=staff).token_set.values_list("token", flat=True)) == new
