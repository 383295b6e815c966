"""Codes of a phone authenticator, for tests that sign a county administrator in."""

import time

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def enrolled_device(user) -> TOTPDevice:
    """The user's confirmed device, made if there is none (as after enrolment)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="测试手机", confirmed=True)


def next_code(device: TOTPDevice) -> str:
    """The code the phone shows now, or the next one when now's was already used (a code
    is accepted once): the server accepts one step ahead."""
    device.refresh_from_db()
    now = int((time.time() - device.t0) // device.step) + device.drift
    step = max(now, device.last_t + 1)
    if step > now + 1:
        time.sleep((step - now - 1) * device.step + 1)
        return next_code(device)
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + step - now)
    return f"{code:0{device.digits}d}"
