"""社会保障卡卡号 as clerks type it or a card reader sends it: one stored form, checked.

The card number is not the ID number (社会保障号码) nor the bank account number. It is
letters and digits printed on the card (e.g. ``M12345678``); readers and keyboards add
spaces, full-width characters or a lower-case letter, which say nothing.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError

CARD_NUMBER_LENGTH = (9, 20)
_CARD_NUMBER_RE = re.compile(r"[0-9A-Z]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def card_number_clean(raw: str | None) -> str:
    """The text as stored: ASCII (full-width folded), no spaces, capitals; not checked."""
    text = unicodedata.normalize("NFKC", raw or "").translate(_INVISIBLE)
    return "".join(text.split()).lstrip("'").upper()


def card_number_normalize(raw: str | None) -> str:
    """The card number as stored, or a ValidationError that says in Chinese what is wrong."""
    number = card_number_clean(raw)
    if not number:
        raise ValidationError("请填写社会保障卡卡号（卡面上的卡号，可用读卡器读取）。")
    low, high = CARD_NUMBER_LENGTH
    if not _CARD_NUMBER_RE.fullmatch(number):
        raise ValidationError("社会保障卡卡号只能由字母和数字组成，请核对卡面上的卡号。")
    if not low <= len(number) <= high:
        raise ValidationError(
            f"社会保障卡卡号应为{low}至{high}位（输入了{len(number)}位），请核对卡面上的卡号。"
        )
    return number


HOLDER_ID_NUMBER = "holder_id_number"


def card_number_for_holder(raw: str | None, *, id_number: str) -> str:
    """``card_number_normalize``, and not the holder's own ID number (社会保障号码): a card
    number has the same length and digits, and a clerk or a bank's sheet puts one in the
    other's place. The one check for every path that records a made card's number."""
    number = card_number_normalize(raw)
    if number == id_number:
        raise ValidationError(
            "这是持卡人的身份证号码，不是社会保障卡卡号，请核对卡面上的卡号。",
            code=HOLDER_ID_NUMBER,
        )
    return number
