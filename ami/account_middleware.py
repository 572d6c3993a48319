"""Session timeouts and the second factor, enforced on every request (issue 8)."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware

from ami import auth_memo
from ami.account_security import LOGIN_AT, SEEN_AT, otp_required

# The pages an authenticated user may reach before giving a second factor.
OTP_FREE_PAGES = {
    "otp_setup",
    "otp_verify",
    "otp_recovery",
    "logout",
    "set_language",
    "oidc_authentication_init",
    "oidc_authentication_callback",
}


class SessionTimeoutMiddleware:
    """The inactivity and absolute timeouts of a signed-in session.

    Inactivity: the session expires SESSION_COOKIE_AGE seconds after it was last saved; a request saves it
    (a new expiry for the cookie and the stored session) when its last renewal is RENEW_SECONDS old, so an
    active session lives on without a write per request. Absolute: SESSION_ABSOLUTE_TIMEOUT seconds after the
    login, however active, the session ends. A session without stamps (made before this middleware, or by
    hand) is stamped when first seen.
    """

    RENEW_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            if now - request.session.setdefault(LOGIN_AT, now) > settings.SESSION_ABSOLUTE_TIMEOUT:
                logout(request)
                messages.info(request, _("Votre session a expiré : reconnectez-vous pour continuer."))
                return redirect_to_login(request.get_full_path() if request.method == "GET" else reverse("home"))
            if now - request.session.get(SEEN_AT, 0) >= self.RENEW_SECONDS:
                request.session[SEEN_AT] = now  # saved by SessionMiddleware with a fresh expiry
        return self.get_response(request)


class OTPRequiredMiddleware:
    """Sends a user who needs a second factor (ami.account_security.otp_required) to give or set one up first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if request.resolver_match.url_name in OTP_FREE_PAGES or not user.is_authenticated or user.is_verified():
            return None  # a verified user is checked first: it costs no query (otp_required may ask for jury seats)
        if not otp_required(user, request.session):
            return None
        target = "otp_verify" if user_has_device(user) else "otp_setup"
        next_url = request.get_full_path() if request.method == "GET" else ""
        return redirect(f"{reverse(target)}?{urlencode({'next': next_url})}" if next_url else reverse(target))


class OTPMiddleware(DjangoOTPMiddleware):
    """django-otp's middleware, whose device lookup serves the device remembered by this process while the
    user's versions are current (ami/auth_memo.py); the checks on the device are django-otp's own."""

    def _verify_user_sync(self, request, user):
        self._init_user_fields(user)
        if user.is_authenticated:
            persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
            device = self._remembered_device(persistent_id, user) if persistent_id else None
            user.otp_device = self._finalize_device(request, user, device)
        return user

    def _remembered_device(self, persistent_id, user):
        current = getattr(user, "auth_memo_versions", None)  # read before this lookup, by ami.auth_memo.ModelBackend
        key = ("device", persistent_id)
        device, _extra = auth_memo.recall(key, current)
        if device is None:
            device = self._device_from_persistent_id(persistent_id)
            if device is not None:
                auth_memo.remember(key, current, device)
        return device
