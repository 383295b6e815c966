"""Natural order for place names: 2组 before 10组, 三组 before 十一组."""

import re

_NUMERALS = "零〇一二两三四五六七八九"
_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
# Chinese numerals count only as a number before a unit: 三组 is 3, 三家村 is a name.
_TOKEN = re.compile(
    rf"(\d+)|([{_NUMERALS}十百千]+)(?=村民小组|小组|组|社|队|号)",
)


def chinese_numeral_value(text: str) -> int:
    """十一 → 11, 二十 → 20, 一百零五 → 105, 三〇二 → 302."""
    if all(c in _DIGIT for c in text):
        return int("".join(str(_DIGIT[c]) for c in text))
    total, current = 0, 0
    for char in text:
        if char in _DIGIT:
            current = _DIGIT[char]
        else:
            unit = {"十": 10, "百": 100, "千": 1000}[char]
            total += (current or 1) * unit
            current = 0
    return total + current


def natural_key(text: str | None) -> tuple:
    """A sort key that compares the numbers inside a name as numbers."""
    text = text or ""
    key: list[tuple[int, int | str]] = []
    position = 0
    for match in _TOKEN.finditer(text):
        if match.start() > position:
            key.append((1, text[position : match.start()]))
        digits, numerals = match.groups()
        key.append((0, int(digits) if digits else chinese_numeral_value(numerals)))
        position = match.end()
    if position < len(text):
        key.append((1, text[position:]))
    return tuple(key)


# natural_key as text that sorts the same byte by byte, for a column the database orders
# by (COLLATE "C"): a number is its length then its digits, so 2 comes before 10; each
# piece starts with a mark below any character of a name, and the end of the key with
# a lower one, so a shorter key sorts first, as a shorter tuple does.
_END, _NUMBER, _TEXT = "\x01", "\x02", "\x03"
_MARKS = str.maketrans("", "", _END + _NUMBER + _TEXT)


def natural_sort_text(text: str | None) -> str:
    """``natural_key(text)`` as a string in the same order, ending in a mark."""
    parts = []
    for kind, value in natural_key(text):
        if kind == 0:
            digits = str(value)
            parts.append(f"{_NUMBER}{chr(0x30 + len(digits))}{digits}")
        else:
            parts.append(_TEXT + value.translate(_MARKS))
    return "".join(parts) + _END
