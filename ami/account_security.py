"""Account security rules (issue 8): who needs a second factor, the login stamps, the lockout of django-axes.

The login stamps are two session keys written at every login (`stamp_login`, wired in AmiConfig.ready):
when it happened (the absolute session timeout counts from it) and how (ProConnect or the portal's own
password), which decides whether a juror needs a second factor.
"""

import time

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.signals import user_logged_in
from django.shortcuts import render

from ami import auth_memo

LOGIN_AT = "ami_login_at"
SEEN_AT = "ami_seen_at"
LOGIN_METHOD = "ami_login_method"
PROCONNECT = "proconnect"
LOCAL = "local"
PROCONNECT_BACKEND = "ami.proconnect.ProConnectBackend"
DEMO_DOMAIN = "@demo.ami-ia.fr"


def is_demo_account(user):
    return user.email.lower().endswith(DEMO_DOMAIN)


def is_juror(user):
    """Whether the user sits on any jury: asked once per request, and remembered by the process while the user's
    versions are current (a seat given or withdrawn bumps them: ami/auth_memo.py)."""
    if not user.is_authenticated:
        return False
    known = getattr(user, "_ami_is_juror", None)
    if known is None:
        key, current = ("juror", user.pk), getattr(user, "auth_memo_versions", None)
        found, known = auth_memo.recall_value(key, current)
        if not found:
            known = user.jury_seats.exists()
            auth_memo.remember_value(key, current, known)
        user._ami_is_juror = known
    return known


def came_through_proconnect(session):
    return session.get(LOGIN_METHOD) == PROCONNECT


def otp_required(user, session):
    """Staff always; jurors unless they came through ProConnect; demo accounts never while DEBUG is on."""
    if not settings.OTP_REQUIRED or not user.is_authenticated:
        return False
    if settings.DEBUG and is_demo_account(user):
        return False
    if user.is_staff:
        return True
    return not came_through_proconnect(session) and is_juror(user)


def stamp_login(sender, request, user, **kwargs):
    """Writes the login stamps into the new session (receiver of `user_logged_in`)."""
    session = getattr(request, "session", None)
    if session is None:
        return
    session[LOGIN_AT] = session[SEEN_AT] = int(time.time())
    session[LOGIN_METHOD] = PROCONNECT if session.get(BACKEND_SESSION_KEY) == PROCONNECT_BACKEND else LOCAL


def connect_signals():
    user_logged_in.connect(stamp_login, dispatch_uid="ami.account_security.stamp_login")


class LoginAttemptsBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for logins that come from a web request.

    An authentication without a request (the shell, a management command, the test client's `login()`)
    is no attempt from the network: it is neither counted nor refused, where django-axes would raise.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def login_username(request, credentials):
    """The account an attempt targets, as the login form accepts it: without case or surrounding spaces."""
    username = (credentials or {}).get("username")
    if username is None and request is not None:
        username = request.POST.get("username")
    return username.strip().lower() if username else None


def client_ip(request):
    """REMOTE_ADDR, or the last address of the header a trusted reverse proxy sets (RATELIMIT_IP_META_KEY)."""
    key = getattr(settings, "RATELIMIT_IP_META_KEY", None)
    forwarded = request.META.get(key, "") if isinstance(key, str) else ""
    if forwarded.strip():
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """The French lockout page, HTTP 429, saying for how long."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME * 60))
    context = {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT}
    return render(request, "registration/lockout.html", context, status=429)
