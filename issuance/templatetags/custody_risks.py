"""Custody risks in words, for a card annotated by ``issuance.risks.custody_risk_cards``."""

from django import template

from issuance.risks import risk_advice, risk_label

register = template.Library()


@register.filter
def risk_kind_label(card) -> str:
    return risk_label(getattr(card, "risk_kind", ""))


@register.filter
def risk_kind_advice(card) -> str:
    return risk_advice(getattr(card, "risk_kind", ""))
