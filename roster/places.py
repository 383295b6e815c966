"""Resolve the loose township and village names that lists use ("金碧", "湾碧乡" …)."""

import re
from functools import lru_cache

from .models import Township, Village

_NOISE = re.compile(r"[\s\u3000\u200b-\u200d\ufeff]+")
_COUNTY_PREFIXES = ("云南省", "楚雄彝族自治州", "楚雄州", "大姚县")


def _clean(text: str) -> str:
    text = _NOISE.sub("", str(text or ""))
    for prefix in _COUNTY_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


@lru_cache(maxsize=1)
def _township_index() -> tuple[dict[str, int], tuple[tuple[str, int], ...]]:
    exact: dict[str, int] = {}
    short: list[tuple[str, int]] = []
    for township in Township.objects.all():
        for key in (township.code, township.code[-3:], township.name, *township.aliases):
            exact[_clean(key)] = township.pk
        short.append((township.short_name, township.pk))
    # Longest short names first, so "三岔河" is tried before a shorter overlapping one.
    short.sort(key=lambda item: -len(item[0]))
    return exact, tuple(short)


def township_index_load() -> None:
    """Load the index now, so that resolving names later runs no query."""
    _township_index()


def township_cache_clear() -> None:
    _township_index.cache_clear()
    _township_resolve_text.cache_clear()


def township_resolve(text) -> Township | None:
    """The township a loosely written name or code means, or None if unclear."""
    township_id = township_resolve_id(text)
    return Township.objects.get(pk=township_id) if township_id else None


def township_resolve_id(text) -> int | None:
    # Lists repeat a handful of spellings a million times: remember each answer.
    return _township_resolve_text(str(text or ""))


@lru_cache(maxsize=4096)
def _township_resolve_text(text: str) -> int | None:
    cleaned = _clean(text)
    if not cleaned:
        return None
    exact, short = _township_index()
    if cleaned in exact:
        return exact[cleaned]
    if cleaned.isdigit() and len(cleaned) >= 9:
        # Statistical codes sometimes carry the 3-digit village-level suffix (532326101000).
        return exact.get(cleaned[:9])
    for short_name, township_id in short:
        if cleaned.startswith(short_name):
            return township_id
    return None


_VILLAGE_SUFFIXES = (("村民委员会", "村委会"), ("居民委员会", "社区"), ("社区居委会", "社区"))


def village_normalize_name(text) -> str:
    """Canonical spelling of a village name: no blanks, long official suffixes shortened."""
    name = _NOISE.sub("", str(text or ""))
    for long, short in _VILLAGE_SUFFIXES:
        if name.endswith(long):
            name = name[: -len(long)] + short
    return name


def village_get_or_create(*, township_id: int, name: str) -> Village | None:
    name = village_normalize_name(name)
    if not name:
        return None
    village, _ = Village.objects.get_or_create(township_id=township_id, name=name)
    return village
