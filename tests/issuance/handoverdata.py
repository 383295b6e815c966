"""Boxes of stock cards for the handover tests and the benchmark."""

import itertools

from django.utils import timezone

from issuance.chain import entry_seal
from issuance.models import Card, CardStatus, CustodyKind, LedgerEntry, LedgerEvent
from roster.models import Person
from tests.factories import BankFactory, PersonFactory

_box = itertools.count(1)


def stock_box(
    village,
    count: int,
    *,
    custody: str = CustodyKind.COUNTY,
    custodian: str = "县社保卡库管员",
    bank=None,
    prefix: str = "H",
) -> list[Card]:
    """``count`` persons of ``village``, each with a made card in ``custody``, in stock,
    its one ledger entry (制卡完成) written as an export's opening would."""
    bank = bank or BankFactory()
    box = next(_box)
    persons = Person.objects.bulk_create(
        [
            PersonFactory.build(
                township=village.township, village=village, name=f"持卡人{box}-{n:03d}"
            )
            for n in range(count)
        ]
    )
    now = timezone.now()
    cards = Card.objects.bulk_create(
        [
            Card(
                person=person,
                bank=bank,
                card_number=f"{prefix}{box:03d}{n:05d}",
                status=CardStatus.IN_STOCK,
                made_on=now.date(),
                custody_kind=custody,
                custodian=custodian,
                custody_since=now,
            )
            for n, person in enumerate(persons)
        ]
    )
    LedgerEntry.objects.bulk_create(
        [
            # Sealed as every writer seals (``issuance.chain``): ``ledger verify`` holds after.
            entry_seal(
                LedgerEntry(
                    card=card,
                    sequence=1,
                    event=LedgerEvent.PRODUCED,
                    status_before="",
                    status_after=CardStatus.IN_STOCK,
                    custody_kind=custody,
                    to_party=custodian,
                    occurred_at=now,
                    recorded_at=now,
                ),
                "",
            )
            for card in cards
        ]
    )
    for card, person in zip(cards, persons, strict=True):
        card.person = person
    return cards
