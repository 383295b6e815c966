"""Field checks shared by forms and imports."""

import re

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


_PHONE_NOISE = re.compile(r"[\s\u3000()（）+]")


def normalize_phone(raw: str) -> str:
    return _PHONE_NOISE.sub("", str(raw or "")).removeprefix("86")


def phone_problem(phone: str) -> str | None:
    """Why a phone number is unusable, in Chinese, or None if it is a valid one."""
    if not phone:
        return "缺少联系电话"
    if MOBILE.match(phone) or LANDLINE.match(phone):
        return None
    return "联系电话格式不正确（应为11位手机号或带区号的固定电话）"
