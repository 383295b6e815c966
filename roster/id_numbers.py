"""Normalise and validate Chinese citizen ID numbers (公民身份号码, GB 11643-1999).

Pure Python, no Django. ``try_normalize_id_number`` is the hot path for bulk
imports; everything else is built on the same core.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from datetime import time as dtime
from functools import partial
from time import time as _now

__all__ = [
    "MIN_BIRTH_YEAR",
    "REASON_ADDRESS",
    "REASON_CHARS",
    "REASON_CHECK",
    "REASON_DATE",
    "REASON_DECIMAL",
    "REASON_EMPTY",
    "REASON_EXCEL",
    "REASON_LENGTH",
    "IdNumberError",
    "age_on",
    "birth_date_from_id",
    "compute_check_char",
    "gender_from_id",
    "id_number_normalizer",
    "is_valid_id_number",
    "mask_id_number",
    "mask_phone",
    "normalize_id_number",
    "try_normalize_id_number",
]

REASON_EMPTY = "为空"
REASON_CHARS = "含有非法字符"
REASON_LENGTH = "长度应为18位（或15位旧号码）"
REASON_ADDRESS = "地址码无效"
REASON_DATE = "出生日期无效"
REASON_CHECK = "校验位错误"
REASON_EXCEL = "疑似被Excel转换为科学计数法，尾数已丢失，无法恢复"
REASON_DECIMAL = "疑似被Excel转换为数字（末尾带小数点），请将该列设为文本格式后重新录入"

MIN_BIRTH_YEAR = 1890


class IdNumberError(ValueError):
    """An ID number that cannot be normalised; ``reason`` is user-facing Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- precomputed tables (built once at import; the hot path only does lookups) ---

_INVISIBLE = (
    " \t\n\r\v\f"
    "\u00a0\u00ad\u1680\u180e"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u200b\u200c\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
)
_CLEAN_TABLE = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "x": "X",
        "Ｘ": "X",
        "ｘ": "X",
        # Chinese IMEs often produce the multiplication sign when users type "X".
        "×": "X",
        **dict.fromkeys(_INVISIBLE),
    }
)
# Excel users prefix a quote to force text; copy-paste turns it into curly quotes.
_APOSTROPHES = "'‘’`＇"
_CHECK_OK = frozenset("0123456789X")

_PROVINCES = frozenset(
    f"{p:02d}"
    for p in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
    )
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_VALID_MMDD = frozenset(
    f"{m:02d}{d:02d}" for m in range(1, 13) for d in range(1, _DAYS_IN_MONTH[m - 1] + 1)
)
_MIN_BIRTH = f"{MIN_BIRTH_YEAR:04d}0101"

# The GB 11643 weights are 2**(17-i) mod 11 doubled, and 13 ≡ 2 (mod 11), so
# Σ dᵢ·wᵢ ≡ 2·int(first17, 13) (mod 11): one C-level int() instead of a Python loop.
_CHECK_BY_BASE13_REM = "".join("10X98765432"[(2 * r) % 11] for r in range(11))

_SCIENTIFIC_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?[eE][+-]?[0-9]+")
_DECIMAL_RE = re.compile(r"[0-9]+\.0*")


# --- today's date, cached until local midnight so the hot path skips date.today() ---

_today_cache: tuple[float, float, str] = (0.0, 0.0, "")


def _yyyymmdd(d: date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def _today_yyyymmdd() -> str:
    global _today_cache
    start, end, value = _today_cache
    now = _now()
    if start <= now < end:
        return value
    d = date.today()
    start = datetime.combine(d, dtime.min).timestamp()
    end = datetime.combine(d + timedelta(days=1), dtime.min).timestamp()
    value = _yyyymmdd(d)
    _today_cache = (start, end, value)
    return value


# --- core ---


def _check18(s: str, today8: str) -> tuple[str | None, str | None]:
    """Validate an 18-char string already known to be 17 ASCII digits + [0-9X]."""
    check = _CHECK_BY_BASE13_REM[int(s[:17], 13) % 11]
    check_ok = check == s[17]
    # Excel keeps 15 significant digits, so a mangled number ends in 000.
    if not check_ok and s.endswith("000"):
        return None, REASON_EXCEL
    if s[:2] not in _PROVINCES:
        return None, REASON_ADDRESS
    birth = s[6:14]
    if not (_MIN_BIRTH <= birth <= today8):
        return None, REASON_DATE
    mmdd = s[10:14]
    if mmdd not in _VALID_MMDD:
        return None, REASON_DATE
    if mmdd == "0229":
        year = int(s[6:10])
        if year % 4 or (year % 100 == 0 and year % 400):
            return None, REASON_DATE
    if not check_ok:
        return None, REASON_CHECK
    return s, None


def _clean(raw: str) -> str:
    return raw.translate(_CLEAN_TABLE).lstrip(_APOSTROPHES)


def _normalize_slow(raw: object, today8: str) -> tuple[str | None, str | None]:
    if raw is None:
        return None, REASON_EMPTY
    if isinstance(raw, bool):
        return None, REASON_CHARS
    if isinstance(raw, float):
        # pandas reads blank cells as NaN: that is an empty cell, not a mangled one.
        if math.isnan(raw):
            return None, REASON_EMPTY
        return None, REASON_EXCEL
    s = _clean(raw if isinstance(raw, str) else str(raw))
    if not s:
        return None, REASON_EMPTY
    body = s[:-1]
    if not (s.isascii() and (not body or body.isdigit()) and s[-1] in _CHECK_OK):
        if _SCIENTIFIC_RE.fullmatch(s):
            return None, REASON_EXCEL
        if _DECIMAL_RE.fullmatch(s):
            return None, REASON_DECIMAL
        return None, REASON_CHARS
    n = len(s)
    if n == 18:
        return _check18(s, today8)
    if n == 15:
        if s[-1] == "X":
            return None, REASON_CHARS
        first17 = f"{s[:6]}19{s[6:]}"
        return _check18(first17 + _CHECK_BY_BASE13_REM[int(first17, 13) % 11], today8)
    return None, REASON_LENGTH


def try_normalize_id_number(
    raw: str | int | float | None, *, today: date | None = None
) -> tuple[str | None, str | None]:
    """Return ``(id18, None)`` or ``(None, reason)``; never raises. Hot path for imports."""
    return _normalize(_today_yyyymmdd() if today is None else _yyyymmdd(today), raw)


def id_number_normalizer(*, today: date | None = None):
    """``try_normalize_id_number`` with the date fixed once, for a loop over a million rows.

    An import running past midnight keeps judging birth dates by the day it started.
    """
    return partial(_normalize, _today_yyyymmdd() if today is None else _yyyymmdd(today))


def _normalize(today8: str, raw: str | int | float | None) -> tuple[str | None, str | None]:
    if (
        type(raw) is str
        and len(raw) == 18
        and raw.isascii()
        and raw[:17].isdigit()
        and raw[17] in _CHECK_OK
    ):
        return _check18(raw, today8)
    return _normalize_slow(raw, today8)


def normalize_id_number(raw: str | int | float | None, *, today: date | None = None) -> str:
    """Return the canonical 18-char ID number or raise ``IdNumberError``."""
    value, reason = try_normalize_id_number(raw, today=today)
    if value is None:
        raise IdNumberError(reason or REASON_CHARS)
    return value


def is_valid_id_number(raw: str | int | float | None, *, today: date | None = None) -> bool:
    """True if ``raw`` normalises to a valid ID number."""
    return try_normalize_id_number(raw, today=today)[0] is not None


def compute_check_char(first17: str) -> str:
    """Check character (0-9 or X) for the first 17 digits, per ISO 7064 MOD 11-2."""
    if not (isinstance(first17, str) and first17.isascii() and first17.isdigit()):
        raise IdNumberError(REASON_CHARS)
    if len(first17) != 17:
        raise IdNumberError(REASON_LENGTH)
    return _CHECK_BY_BASE13_REM[int(first17, 13) % 11]


# --- derived data ---


def birth_date_from_id(id18: str) -> date:
    """Birth date encoded in a (normalisable) ID number."""
    s = normalize_id_number(id18)
    return date(int(s[6:10]), int(s[10:12]), int(s[12:14]))


def gender_from_id(id18: str) -> str:
    """``"male"`` if the 17th digit is odd, else ``"female"``."""
    s = normalize_id_number(id18)
    return "male" if int(s[16]) % 2 else "female"


def age_on(id18: str, on: date) -> int:
    """Completed years on ``on`` (a 29 Feb birthday counts from 1 Mar in common years)."""
    born = birth_date_from_id(id18)
    if on < born:
        raise ValueError("date is before the birth date")
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# --- masking (display only: never raises) ---


def _mask_tail(s: str) -> str:
    # Too short to hide anything meaningful once 4 chars show: hide it all.
    if len(s) <= 4:
        return "*" * len(s)
    return "*" * (len(s) - 4) + s[-4:]


def mask_id_number(id18: str) -> str:
    """``532326********1234``; other lengths keep only the last 4 chars."""
    if id18 is None:
        return ""
    try:
        s = _clean(id18 if isinstance(id18, str) else str(id18))
    except Exception:
        return "****"
    if len(s) == 18:
        return f"{s[:6]}********{s[14:]}"
    return _mask_tail(s)


_MOBILE_RE = re.compile(r"(?:\+?86)?(1[0-9]{10})")
_LANDLINE_RE = re.compile(r"(0[0-9]{2,3})-([0-9]{5,8})")
_LANDLINE_NO_DASH_RE = re.compile(r"0[0-9]{9,11}")


def mask_phone(phone: str) -> str:
    """``138****1234`` for mobiles, ``0878-***1234`` for landlines; else last 4 only."""
    if phone is None:
        return ""
    try:
        if isinstance(phone, float) and phone.is_integer():
            phone = int(phone)
        s = _clean(phone if isinstance(phone, str) else str(phone))
    except Exception:
        return "****"
    if not s:
        return ""
    compact = s.replace("-", "")
    if m := _MOBILE_RE.fullmatch(compact):
        mobile = m[1]
        return f"{mobile[:3]}****{mobile[7:]}"
    if m := _LANDLINE_RE.fullmatch(s):
        area, local = m[1], m[2]
    elif _LANDLINE_NO_DASH_RE.fullmatch(s):
        # Beijing (010) and the 02x cities have 3-digit area codes, the rest 4.
        cut = 3 if s[1] in "12" else 4
        area, local = s[:cut], s[cut:]
    else:
        return _mask_tail(s)
    return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
