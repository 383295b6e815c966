"""Concurrent handovers and receipts over overlapping boxes of cards (issue 10): every
card's state stays the fold of its ledger, and the chain verifies.

Real threads, each with its own database connection, released together by a barrier.
Only PostgreSQL holds concurrent writers (SQLite takes one at a time), so only it is asked.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from issuance import chain
from issuance.models import Card, CustodyKind, LedgerEntry, LedgerEvent
from issuance.services import Custody, card_create, card_record_event, cards_record_event
from tests.factories import PersonFactory

THREADS = 6
ROUNDS = 4
CARDS = 30
BOX = 12

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need PostgreSQL (SQLite serialises them)",
)


@pytest.mark.django_db(transaction=True)
def test_concurrent_handovers_keep_every_card_the_fold_of_its_ledger(
    village_a, branch_a, county_admin
):
    cards = []
    for n in range(CARDS):
        person = PersonFactory(township=village_a.township, village=village_a)
        card = card_create(person=person, bank=branch_a.bank, acting_user=county_admin)
        cards.append(
            card_record_event(
                card=card,
                event=LedgerEvent.PRODUCED,
                acting_user=county_admin,
                card_number=f"C{n:08d}",
                custody=Custody(kind=CustodyKind.BANK, party=str(branch_a)),
            )
        )
    barrier = threading.Barrier(THREADS)
    failures: list[BaseException] = []
    refused = []

    def work(n: int) -> None:
        # Boxes overlap: each thread's box shares cards with its two neighbours'.
        box = [cards[(n * 5 + k) % CARDS] for k in range(BOX)]
        try:
            barrier.wait(timeout=60)
            for round_ in range(ROUNDS):
                cards_record_event(
                    cards=box,
                    event=LedgerEvent.HANDED_OVER,
                    acting_user=county_admin,
                    custody=Custody(
                        kind=CustodyKind.TOWNSHIP,
                        party="金碧镇社保中心",
                        responsible_person=f"经办人{n}-{round_}",
                        location=f"在途：第{n}箱",
                    ),
                )
                try:
                    cards_record_event(
                        cards=box,
                        event=LedgerEvent.RECEIVED,
                        acting_user=county_admin,
                        custody=Custody(
                            kind=CustodyKind.TOWNSHIP,
                            party="金碧镇社保中心",
                            responsible_person=f"接收人{n}",
                            location="金碧镇社保中心卡片保管柜",
                        ),
                    )
                except ValidationError:
                    # A card of the box was received by a neighbour first: nothing written.
                    refused.append(n)
        except BaseException as failure:  # reported below, with the thread's own error
            barrier.abort()
            failures.append(failure)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert not failures, failures[:3]
    handovers = LedgerEntry.objects.filter(event=LedgerEvent.HANDED_OVER).count()
    assert handovers == THREADS * ROUNDS * BOX
    for card in Card.objects.all():
        entries = list(card.ledger_entries.order_by("sequence"))
        assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
        assert chain.card_state(card) == chain.card_fold(entries)
    result = chain.ledger_verify()
    assert result.ok, result.problems
    assert result.cards == CARDS
