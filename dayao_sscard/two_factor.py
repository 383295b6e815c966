"""The county administrators' second factor: a code from a phone authenticator (TOTP,
django-otp) after the password.

The login is complete only when the code is right: the password step leaves a pending
login in the session (who, through which backend, since when, where to go next), and
``django.contrib.auth.login`` happens after the code. A county administrator without a
confirmed device enrols at that point (QR code, then a first code); another administrator
or ``manage.py otp_reset`` removes a lost phone's device, and the next login enrols again.
"""

import base64
import time

import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from .roles import Role

ROLES_WITH_SECOND_FACTOR = frozenset({Role.COUNTY_ADMIN})
PENDING = "login_pending"


def required_for(user) -> bool:
    return user.role in ROLES_WITH_SECOND_FACTOR


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def pending_start(request: HttpRequest, user, next_url: str) -> None:
    """The password was right: remember who, until the code (a new session key, as at login)."""
    request.session.cycle_key()
    request.session[PENDING] = {
        "user": user.pk,
        "backend": user.backend,
        "since": time.time(),
        "next": next_url,
    }


def pending_login(request: HttpRequest) -> tuple | None:
    """``(user, backend, next_url)`` of the login waiting for its code, or None (none, or
    older than LOGIN_SECOND_STEP_MINUTES: the password is asked again)."""
    pending = request.session.get(PENDING)
    if not pending:
        return None
    if time.time() - pending["since"] > settings.LOGIN_SECOND_STEP_MINUTES * 60:
        pending_clear(request)
        return None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        pending_clear(request)
        return None
    return user, pending["backend"], pending["next"]


def pending_clear(request: HttpRequest) -> None:
    request.session.pop(PENDING, None)


def code_is_right(device: TOTPDevice, code: str) -> bool:
    """The code as typed (spaces allowed); a code is accepted once (django-otp's last_t)."""
    code = "".join(code.split())
    return code.isdigit() and len(code) == device.digits and device.verify_token(code)


def may_try_code(device: TOTPDevice) -> bool:
    """django-otp waits 1, 2, 4… seconds after each wrong code before it checks another."""
    allowed, _ = device.verify_is_allowed()
    return allowed


def secret_for_typing(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for an app that cannot scan."""
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// address as an SVG QR code, inline (``img-src data:``)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)
