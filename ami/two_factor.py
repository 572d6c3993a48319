"""Two-factor authentication (issue 8): an authenticator app (TOTP) and single-use recovery codes, on django-otp.

A user has at most one confirmed TOTP device and one static device holding the unused recovery codes.
Codes are checked under a row lock, work once, and django-otp slows down guessing (each failure doubles
the wait before the next try on that device).
"""

from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ami import audit


def pending_totp_device(*, user):
    """The authenticator the user is setting up: created unconfirmed on the first call, the same one afterwards.

    Side effects: may insert one unconfirmed TOTPDevice.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name=_("Application d'authentification"), confirmed=False)


def confirm_totp_device(*, device, token):
    """Confirms the authenticator with its current code; returns the first recovery codes, or None if the code is wrong.

    Side effects: locks the device row; on success saves it confirmed, deletes the user's other TOTP devices,
    issues recovery codes (see issue_recovery_codes) and records `account.otp_enabled`; on failure saves the
    device's throttling counter.
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, confirmed=False)
        if not device.verify_token(token):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        audit.record(action="account.otp_enabled", actor=device.user, target=device.user, after={"device": device.name})
        return issue_recovery_codes(user=device.user)


def issue_recovery_codes(*, user):
    """Replaces the user's recovery codes with OTP_RECOVERY_CODES new ones and returns them (shown once).

    Side effects: creates the user's static device when missing, deletes its old codes, inserts the new ones,
    records `account.recovery_codes_issued`.
    """
    with transaction.atomic():
        device, _created = StaticDevice.objects.get_or_create(
            user=user, defaults={"name": "recovery-codes", "confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _index in range(settings.OTP_RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        audit.record(action="account.recovery_codes_issued", actor=user, target=user, after={"count": len(codes)})
    return codes


def confirmed_totp_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_device(user):
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def verify_totp(*, user, token):
    """The user's authenticator if `token` is its current code (each code works once), else None.

    Side effects: locks the device row and saves its last used step, or its throttling counter on failure.
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        return device if device is not None and device.verify_token(token) else None


def use_recovery_code(*, user, code):
    """The user's recovery-code device if `code` is one of their unused codes, else None.

    Side effects: locks the device row; on success deletes the code and records `account.recovery_code_used`
    with the number of codes left; on failure saves the device's throttling counter.
    """
    code = normalise_code(code)
    with transaction.atomic():
        device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None or not code or not device.verify_token(code):
            return None
        left = device.token_set.count()
        audit.record(action="account.recovery_code_used", actor=user, target=user, after={"left": left})
    return device


def normalise_code(code):
    return "".join((code or "").split()).replace("-", "").lower()


def codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def seconds_to_wait(device):
    """0 if the device may check a code now; otherwise the seconds django-otp's throttling still imposes."""
    if device is None:
        return 0
    allowed, details = device.verify_is_allowed()
    if allowed or not details or "locked_until" not in details:
        return 0
    return max(1, int((details["locked_until"] - timezone.now()).total_seconds()) + 1)


def secret_for_manual_entry(device):
    """The key in base 32, in groups of four, for apps that cannot scan the QR code."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def qr_code_svg(device):
    """The otpauth:// URL of the device as inline SVG markup (no style attribute: the CSP allows none)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathFillImage, border=2)
    return image.to_string(encoding="unicode")
