"""What the 发放 tests share: cards made and in stock, with their ledger, in a village."""

import datetime

from django.utils import timezone

from issuance.models import CustodyKind, LedgerEvent
from issuance.services import Custody, card_create, card_record_event
from tests.factories import PersonFactory


def stock_card(*, person, branch, user, number: str):
    """A card applied for, made two days ago and kept at the branch, as the ledger leaves it."""
    made = timezone.now() - datetime.timedelta(days=2)
    card = card_create(person=person, bank=branch.bank, acting_user=user, occurred_at=made)
    card = card_record_event(
        card=card, event=LedgerEvent.PRODUCTION_STARTED, acting_user=user, occurred_at=made
    )
    return card_record_event(
        card=card,
        event=LedgerEvent.PRODUCED,
        acting_user=user,
        occurred_at=made,
        card_number=number,
        custody=Custody(kind=CustodyKind.BANK, party=str(branch), location=f"{branch}柜台"),
    )


def village_with_cards(village, branch, user, names: list[str], *, first: int = 1):
    """One person per name in the village, each with a card in stock (M3000000n)."""
    cards = []
    for n, name in enumerate(names, start=first):
        person = PersonFactory(township=village.township, village=village, name=name)
        cards.append(stock_card(person=person, branch=branch, user=user, number=f"M3{n:07d}"))
    return cards
