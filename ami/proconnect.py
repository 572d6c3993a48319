"""ProConnect, the State agents' single sign-on, through mozilla-django-oidc (issue 8).

Off unless PROCONNECT_ENABLED: the login page shows no button and the /compte/proconnect/ pages answer 404.
An agent who signs in this way is linked to the account with the same email address (case ignored), or gets
a new account with the names ProConnect gives. The address must be vouched for: `email_verified`, when the
provider sends it, must be true (ProConnect itself does not send it: it federates identity providers that
verify their agents' addresses, so its word is taken).
"""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, resolve_url
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView
from requests import RequestException

from ami import audit
from ami.account_security import came_through_proconnect

logger = logging.getLogger(__name__)


class ProConnectBackend(OIDCAuthenticationBackend):
    def verify_claims(self, claims):
        """An email address is required; `email_verified`, when present, must be true."""
        return bool(claims.get("email")) and claims.get("email_verified", True) is True

    def verify_token(self, token, **kwargs):
        """mozilla-django-oidc checks the signature, expiry and nonce; this adds the issuer and the audience."""
        payload = super().verify_token(token, **kwargs)
        is_id_token = "nonce" in kwargs  # the signed userinfo answer comes without; its issuer may be absent
        issuer = payload.get("iss")
        if (is_id_token or issuer is not None) and (issuer or "").rstrip("/") != settings.PROCONNECT_ISSUER:
            raise SuspiciousOperation("ProConnect: unexpected issuer in a signed token.")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if audience is not None and settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ProConnect: a signed token meant for another client.")
        return payload

    def create_user(self, claims):
        """A new account for an agent ProConnect vouches for.

        Side effects: inserts the user (no usable password: a password reset gives one), records
        `account.created_through_proconnect`.
        """
        with transaction.atomic():
            user = self.UserModel.objects.create_user(
                email=claims["email"].strip().lower(),
                password=None,
                first_name=(claims.get("given_name") or "")[:150],
                last_name=(claims.get("usual_name") or claims.get("family_name") or "")[:150],
                email_verified_at=timezone.now(),
            )
            audit.record(action="account.created_through_proconnect", actor=user, target=user,
                         after={"email": user.email})
        return user

    def update_user(self, user, claims):
        """An account still waiting for its verification link is activated: ProConnect vouched for the address.

        Side effects: for such an account only, saves `is_active` and `email_verified_at` and records
        `account.verified_through_proconnect`. An account deactivated after verification stays inactive
        (the callback then refuses the login).
        """
        if not user.is_active and user.email_verified_at is None:
            with transaction.atomic():
                user.is_active = True
                user.email_verified_at = timezone.now()
                user.save(update_fields=["is_active", "email_verified_at"])
                audit.record(action="account.verified_through_proconnect", actor=user, target=user,
                             before={"is_active": False}, after={"is_active": True})
        return user


class ProConnectLoginView(OIDCAuthenticationRequestView):
    """Sends the agent to ProConnect (404 while ProConnect is off)."""

    def dispatch(self, request, *args, **kwargs):
        if not settings.PROCONNECT_ENABLED:
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class ProConnectCallbackView(OIDCAuthenticationCallbackView):
    """Back from ProConnect: signs the agent in, or back to the login page with a French message."""

    def dispatch(self, request, *args, **kwargs):
        if not settings.PROCONNECT_ENABLED:
            raise Http404
        try:
            return super().dispatch(request, *args, **kwargs)
        except (SuspiciousOperation, RequestException) as error:
            logger.warning("ProConnect login refused: %s", error)
            return self.login_failure()

    def login_failure(self):
        messages.error(self.request, _(
            "La connexion avec ProConnect n'a pas abouti. Réessayez, ou connectez-vous avec votre adresse "
            "électronique et votre mot de passe."
        ))
        return redirect(settings.LOGIN_REDIRECT_URL_FAILURE)


class LoginView(auth_views.LoginView):
    """Django's login page, with the ProConnect button when ProConnect is on."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "proconnect_enabled": settings.PROCONNECT_ENABLED}


def end_session_url(request):
    """Where to send a ProConnect session at logout: ProConnect's end of session, which sends back home.

    None for a session that did not come through ProConnect (or while ProConnect is off).
    Also mozilla-django-oidc's OIDC_OP_LOGOUT_URL_METHOD, for its own /compte/proconnect/logout/.
    """
    id_token = request.session.get("oidc_id_token") if came_through_proconnect(request.session) else None
    if not (id_token and settings.PROCONNECT_ENABLED):
        return None
    params = {
        "id_token_hint": id_token,
        "state": get_random_string(32),
        "post_logout_redirect_uri": request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL)),
    }
    return f"{settings.PROCONNECT_LOGOUT_ENDPOINT}?{urlencode(params)}"


def oidc_logout_url(request):
    return end_session_url(request) or resolve_url(settings.LOGOUT_REDIRECT_URL)


class LogoutView(auth_views.LogoutView):
    """Django's logout; after a ProConnect login it also ends the ProConnect session, which then sends back here."""

    def post(self, request, *args, **kwargs):
        end_session = end_session_url(request)
        response = super().post(request, *args, **kwargs)
        return redirect(end_session) if end_session else response
