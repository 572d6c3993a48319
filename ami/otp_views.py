"""The second factor's pages: set up an authenticator app, give a code at login, use or renew recovery codes.

OTPRequiredMiddleware sends here the users who need a second factor; a verified session keeps the device in
django-otp's session key, and the session key changes at each verification (as at login).
"""

from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from ami import two_factor
from ami.account_security import otp_required
from ami.otp_forms import RecoveryCodeForm, TOTPCodeForm

NEW_CODES = "ami_otp_new_codes"


def next_url(request):
    """The page to go on to: the `next` parameter if it stays on this site, the home page otherwise."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(candidate, {request.get_host()}, require_https=request.is_secure())
    return candidate if candidate and safe else resolve_url(settings.LOGIN_REDIRECT_URL)


def with_next(name, request):
    return f"{reverse(name)}?{urlencode({'next': next_url(request)})}"


def _verified(request, device):
    """Marks the session verified by `device` and gives it a new key (a change of privilege, like a login)."""
    django_otp.login(request, device)
    request.session.cycle_key()


def _throttled(form, field, device):
    wait = two_factor.seconds_to_wait(device)
    if wait:
        message = ngettext(
            "Trop d'essais infructueux : patientez %(count)d seconde avant de réessayer.",
            "Trop d'essais infructueux : patientez %(count)d secondes avant de réessayer.",
            wait,
        )
        form.add_error(field, message % {"count": wait})
    return bool(wait)


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request):
    user = request.user
    if not otp_required(user, request.session):
        messages.info(request, _("La double authentification n'est pas demandée pour votre compte."))
        return redirect(next_url(request))
    if two_factor.confirmed_totp_device(user) is not None:
        return redirect(with_next("otp_verify" if not user.is_verified() else "otp_recovery_codes", request))
    device = two_factor.pending_totp_device(user=user)
    form = TOTPCodeForm(request.POST or None, submit=_("Activer la double authentification"))
    if request.method == "POST" and form.is_valid() and not _throttled(form, "token", device):
        codes = two_factor.confirm_totp_device(device=device, token=form.cleaned_data["token"])
        if codes is None:
            form.add_error("token", _("Ce code ne correspond pas : vérifiez l'heure de votre téléphone et réessayez."))
        else:
            _verified(request, two_factor.confirmed_totp_device(user))
            request.session[NEW_CODES] = codes
            messages.success(request, _("La double authentification est activée sur votre compte."))
            return redirect(with_next("otp_recovery_codes", request))
    context = {
        "form": form,
        "qr_code": mark_safe(two_factor.qr_code_svg(device)),  # noqa: S308 (SVG made by qrcode from our own URL)
        "secret": two_factor.secret_for_manual_entry(device),
    }
    return render(request, "registration/otp_setup.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    user = request.user
    device = two_factor.confirmed_totp_device(user)
    if device is None:
        return redirect(with_next("otp_setup", request))
    if user.is_verified() or not otp_required(user, request.session):
        return redirect(next_url(request))
    form = TOTPCodeForm(request.POST or None, submit=_("Vérifier"))
    if request.method == "POST" and form.is_valid() and not _throttled(form, "token", device):
        verified = two_factor.verify_totp(user=user, token=form.cleaned_data["token"])
        if verified is None:
            form.add_error("token", _("Ce code est incorrect ou a déjà servi : saisissez le code affiché maintenant."))
        else:
            _verified(request, verified)
            return redirect(next_url(request))
    return render(request, "registration/otp_verify.html", {"form": form, "next": next_url(request)})


@login_required
@require_http_methods(["GET", "POST"])
def otp_recovery(request):
    user = request.user
    device = two_factor.recovery_device(user)
    if two_factor.confirmed_totp_device(user) is None:
        return redirect(with_next("otp_setup", request))
    if user.is_verified() or not otp_required(user, request.session):
        return redirect(next_url(request))
    form = RecoveryCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and not _throttled(form, "code", device):
        used = two_factor.use_recovery_code(user=user, code=form.cleaned_data["code"])
        if used is None:
            form.add_error("code", _("Ce code de secours est inconnu ou a déjà servi."))
        else:
            _verified(request, used)
            left = two_factor.codes_left(user)
            messages.warning(request, ngettext(
                "Code de secours accepté. Il vous en reste %(count)d : générez-en de nouveaux si besoin.",
                "Code de secours accepté. Il vous en reste %(count)d : générez-en de nouveaux si besoin.",
                left,
            ) % {"count": left})
            return redirect(next_url(request))
    context = {"form": form, "next": next_url(request), "has_codes": two_factor.codes_left(user) > 0}
    return render(request, "registration/otp_recovery.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def otp_recovery_codes(request):
    """The recovery codes just issued, shown once; a button issues new ones (the old ones stop working)."""
    user = request.user
    if two_factor.confirmed_totp_device(user) is None:
        return redirect(with_next("otp_setup", request))
    if not user.is_verified():
        return redirect(with_next("otp_verify", request))
    if request.method == "POST":
        request.session[NEW_CODES] = two_factor.issue_recovery_codes(user=user)
        messages.success(request, _("Vos nouveaux codes de secours remplacent les anciens."))
        return redirect(with_next("otp_recovery_codes", request))
    context = {
        "codes": request.session.pop(NEW_CODES, None) or [],
        "left": two_factor.codes_left(user),
        "next": next_url(request),
    }
    return render(request, "registration/otp_recovery_codes.html", context)
