"""Which ledger event may move a card from which status to which."""

from .models import CardStatus as S
from .models import LedgerEvent as E

TRANSITIONS: dict[str, dict[str, str]] = {
    E.APPLIED: {"": S.APPLIED, S.FAILED: S.APPLIED},
    E.PRODUCTION_STARTED: {S.APPLIED: S.IN_PRODUCTION},
    E.PRODUCTION_FAILED: {S.APPLIED: S.FAILED, S.IN_PRODUCTION: S.FAILED},
    # From nothing: a card our ledger first hears of as made, from the card-system export.
    E.PRODUCED: {"": S.IN_STOCK, S.APPLIED: S.IN_STOCK, S.IN_PRODUCTION: S.IN_STOCK},
    E.HANDED_OVER: {S.IN_STOCK: S.IN_TRANSIT, S.IN_TRANSIT: S.IN_TRANSIT},
    E.RECEIVED: {S.IN_TRANSIT: S.IN_STOCK},
    E.ISSUED: {
        S.IN_STOCK: S.ISSUED,
        S.IN_TRANSIT: S.ISSUED,
        S.RECOVERED: S.ISSUED,
        S.DORMANT: S.ISSUED,
    },
    E.ACTIVATED: {S.ISSUED: S.ACTIVATED, S.DORMANT: S.ACTIVATED},
    E.MARKED_DORMANT: {S.ISSUED: S.DORMANT, S.IN_STOCK: S.DORMANT},
    E.RECOVERED: {S.IN_STOCK: S.RECOVERED, S.DORMANT: S.RECOVERED, S.ISSUED: S.RECOVERED},
    E.CANCELLED: {
        status: S.CANCELLED
        for status in (
            S.APPLIED,
            S.IN_PRODUCTION,
            S.IN_STOCK,
            S.IN_TRANSIT,
            S.ISSUED,
            S.ACTIVATED,
            S.DORMANT,
            S.RECOVERED,
        )
    },
}


def next_status(current: str, event: str) -> str | None:
    return TRANSITIONS.get(event, {}).get(current)


def replay(events: list[str]) -> str:
    """The status a sequence of ledger events leads to; raises on an impossible step."""
    status = ""
    for event in events:
        following = next_status(status, event)
        if following is None:
            raise ValueError(f"{event} is not allowed from {status or 'nothing'}")
        status = following
    return status
