"""Cards with a real journey through the ledger, for the 发放台账 tests and benchmark.

Every step goes through the ledger's services: applied and made in bulk, handed from the
bank to the county, received, handed to the township, received, handed to the village, and
some issued to their holders one by one (each signed by the holder, identity checked).
"""

from issuance.models import Card, CustodyKind, IssueMethod, LedgerEvent
from issuance.services import (
    CardOutcome,
    Custody,
    card_record_event,
    cards_apply,
    cards_record_event,
)
from tests.factories import BankFactory, PersonFactory

HANDOVERS = (
    (LedgerEvent.HANDED_OVER, CustodyKind.COUNTY, "县人社局", "杨丽华", "县人社局社保卡库房"),
    (LedgerEvent.RECEIVED, CustodyKind.COUNTY, "县人社局", "杨丽华", "县人社局社保卡库房"),
    (
        LedgerEvent.HANDED_OVER,
        CustodyKind.TOWNSHIP,
        "{township}社保中心",
        "李建华",
        "{township}社保中心档案室",
    ),
    (
        LedgerEvent.RECEIVED,
        CustodyKind.TOWNSHIP,
        "{township}社保中心",
        "李建华",
        "{township}社保中心档案室",
    ),
    (
        LedgerEvent.HANDED_OVER,
        CustodyKind.VILLAGE,
        "{village}村委会",
        "赵文明",
        "{village}村委会办公室",
    ),
)
_numbers = iter(range(10_000_000, 99_999_999))


def ledger_cards(
    village, *, count: int, acting_user, issued: int = 0, bank=None, names=None
) -> list[Card]:
    """``count`` cards of persons of ``village`` handed down to the village; the first
    ``issued`` of them issued to their holders (集中发放). ``names`` for the first persons."""
    names = list(names or [])
    persons = [
        PersonFactory(
            township=village.township,
            village=village,
            **({"name": names[i]} if i < len(names) else {}),
        )
        for i in range(count)
    ]
    cards = cards_apply(persons=persons, bank=bank or BankFactory(), acting_user=acting_user)
    cards = cards_record_event(
        cards=cards, event=LedgerEvent.PRODUCTION_STARTED, acting_user=acting_user
    )
    cards = cards_record_event(
        cards=cards,
        event=LedgerEvent.PRODUCED,
        acting_user=acting_user,
        outcomes={card.pk: CardOutcome(card_number=f"M{next(_numbers)}") for card in cards},
    )
    for event, kind, party, person, place in HANDOVERS:
        names_of = {"township": village.township.name, "village": village.name}
        cards = cards_record_event(
            cards=cards,
            event=event,
            acting_user=acting_user,
            custody=Custody(
                kind=kind,
                party=party.format(**names_of),
                responsible_person=person,
                location=place.format(**names_of),
            ),
        )
    for card in cards[:issued]:
        card_record_event(
            card=card,
            event=LedgerEvent.ISSUED,
            acting_user=acting_user,
            custody=Custody(
                kind=CustodyKind.HOLDER,
                method=IssueMethod.ON_SITE,
                party=card.person.name,
                signee=card.person.name,
                identity_checked=True,
                location=f"{village.name}村委会",
            ),
        )
    return list(Card.objects.filter(pk__in=[c.pk for c in cards]).select_related("person"))
