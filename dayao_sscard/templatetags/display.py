"""How every page writes times, durations and totals: one filter each, in Chinese.

Times are shown in the county's time zone as ``2026-07-02 14:05``, dates as
``2026-07-02``, durations as ``4个月`` (Django's ``timesince`` writes ``4月``,
which a clerk reads as April).
"""

import datetime

from django import template
from django.utils import timezone

register = template.Library()

DATETIME_FORMAT = "%Y-%m-%d %H:%M"
DATE_FORMAT = "%Y-%m-%d"


def local(value: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _formatted(value, *, moment_format: str) -> str:
    if isinstance(value, datetime.datetime):
        return local(value).strftime(moment_format)
    if isinstance(value, datetime.date):
        return value.strftime(DATE_FORMAT)
    return ""


@register.filter
def when(value) -> str:
    """A moment (or a date) as the county's clock showed it: ``2026-07-02 14:05``."""
    return _formatted(value, moment_format=DATETIME_FORMAT)


@register.filter
def day(value) -> str:
    """A calendar date: ``2026-07-02``; a moment gives its local date."""
    return _formatted(value, moment_format=DATE_FORMAT)


def _day_of(value) -> datetime.date | None:
    """The day of a date, or of a moment on the county's clock; None for anything else."""
    if isinstance(value, datetime.datetime):
        return local(value).date()
    if isinstance(value, datetime.date):
        return value
    return None


def _months_between(start: datetime.date, end: datetime.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


@register.filter
def duration(value, now=None) -> str:
    """How long since ``value``, in Chinese: ``1年2个月``, ``4个月``, ``3周``, ``5天``."""
    start = _day_of(value)
    if start is None:
        return ""
    end = now or timezone.localdate()
    if isinstance(end, datetime.datetime):
        end = local(end).date()
    days = (end - start).days
    if days < 1:
        return "不到1天"
    months = _months_between(start, end)
    if months >= 12:
        years, months = divmod(months, 12)
        return f"{years}年{months}个月" if months else f"{years}年"
    if months >= 1:
        return f"{months}个月"
    if days >= 14:
        return f"{days // 7}周"
    return f"{days}天"


@register.filter
def days_ago(value, now=None) -> int | str:
    """Whole days from ``value`` (a date, or a moment on the county's clock) to today."""
    start = _day_of(value)
    if start is None:
        return ""
    return ((now or timezone.localdate()) - start).days


@register.filter
def sum_of(rows, key: str) -> int:
    """The total row of a table: ``{{ rows|sum_of:"card_made" }}`` (dicts or objects)."""
    total = 0
    for row in rows or ():
        value = row.get(key) if hasattr(row, "get") else getattr(row, key, 0)
        total += value or 0
    return total


@register.filter
def minus(value, other) -> int:
    """``{{ total|minus:shown }}``: how many a shortened list leaves out."""
    return int(value or 0) - int(other or 0)
