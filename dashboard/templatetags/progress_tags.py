"""How the supervision dashboards write a share and a change since yesterday."""

from django import template

register = template.Library()


@register.filter
def percent(value) -> str:
    """``12.5%``; a share of nobody (None) as a dash."""
    return "—" if value is None else f"{value:g}%"


@register.filter
def change(value) -> str:
    """A change since yesterday: ``+3``, ``−2`` (a true minus sign), ``±0``."""
    if value is None:
        return ""
    if value > 0:
        return f"+{value}"
    if value < 0:
        return f"−{-value}"
    return "±0"
