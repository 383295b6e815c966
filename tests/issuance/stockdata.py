"""Cards as the stock work list finds them, with their ledger: made long ago and still in
stock, issued long ago and never activated."""

import datetime

from django.utils import timezone

from dayao_sscard.roles import Role
from issuance.models import Card, CardStatus, CustodyKind, IssueMethod, LedgerEvent
from issuance.services import Custody, card_create, card_record_event
from tests.factories import UserFactory


def old_card(
    branch,
    person,
    *,
    status: str = CardStatus.IN_STOCK,
    made_days_ago: int | None = None,
    issued_days_ago: int = 30,
    number: str | None = None,
) -> Card:
    """A card made ``made_days_ago`` days ago (default: 200, and before its issue) at the bank, in stock (status ``in_stock``)
    or issued to its holder ``issued_days_ago`` days ago (``issued``), through the ledger.
    An activated card is written as it stands (its ledger is not the point)."""
    number = number or f"M{person.pk:08d}"
    if status == CardStatus.ACTIVATED:
        return Card.objects.create(
            person=person,
            bank=branch.bank,
            status=status,
            card_number=number,
            custody_kind=CustodyKind.HOLDER,
        )
    if made_days_ago is None:
        made_days_ago = max(200, issued_days_ago + 30)
    admin = UserFactory(username="ledger_admin", role=Role.COUNTY_ADMIN, township=None)
    made = timezone.now() - datetime.timedelta(days=made_days_ago)
    card = card_create(
        person=person,
        bank=branch.bank,
        acting_user=admin,
        occurred_at=made - datetime.timedelta(days=30),
    )
    card = card_record_event(
        card=card,
        event=LedgerEvent.PRODUCED,
        acting_user=admin,
        occurred_at=made,
        card_number=number,
        custody=Custody(kind=CustodyKind.BANK, party=str(branch), responsible_person="柜员"),
    )
    if status == CardStatus.ISSUED:
        card = card_record_event(
            card=card,
            event=LedgerEvent.ISSUED,
            acting_user=admin,
            occurred_at=timezone.now() - datetime.timedelta(days=issued_days_ago),
            custody=Custody(
                kind=CustodyKind.HOLDER,
                method=IssueMethod.ON_SITE,
                signee=person.name,
                party=person.name,
                identity_checked=True,
                location="村委会",
            ),
        )
    assert card.status == status
    return card
