"""Two clerks (or a double click) at the same moment: a 注销 is carried out once, one
attempt is one row, a recovery is entered into the provincial system once.

Real parallel transactions, one thread and database connection each, released together
by a barrier. Only PostgreSQL holds concurrent writers (SQLite takes one at a time).
"""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from issuance import stock
from issuance.models import (
    AttemptMethod,
    AttemptOutcome,
    CancellationRequest,
    CardStatus,
    LedgerEvent,
    ProvincialEntry,
    SecondIssuanceAttempt,
)
from roster.services import person_mark_deceased
from tests.issuance.stockdata import old_card

THREADS = 6

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrent writers need PostgreSQL (SQLite serialises them)",
    ),
    pytest.mark.django_db(transaction=True),
]


def _all_at_once(work) -> list:
    """Run ``work()`` in THREADS threads released together; what each returned or raised."""
    barrier = threading.Barrier(THREADS)
    results: list = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            outcome = work()
        except Exception as exc:  # the refusals are what the test counts
            outcome = exc
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_a_cancellation_is_carried_out_once(branch_a, person_a, clerk_a, ledger_flushable):
    card = old_card(branch_a, person_a)
    person_mark_deceased(
        person=person_a, acting_user=clerk_a, death_date=datetime.date(2026, 2, 1), source="证明"
    )
    request = CancellationRequest.objects.get(card=card)

    results = _all_at_once(
        lambda: stock.cancellation_carry_out(request=request, acting_user=clerk_a)
    )

    assert sum(isinstance(r, CancellationRequest) for r in results) == 1
    assert all(
        isinstance(r, ValidationError) for r in results if not isinstance(r, CancellationRequest)
    )
    assert card.ledger_entries.filter(event=LedgerEvent.CANCELLED).count() == 1
    card.refresh_from_db()
    assert card.status == CardStatus.CANCELLED


def test_one_attempt_sent_many_times_is_one_row(branch_a, person_a, clerk_a, ledger_flushable):
    card = old_card(branch_a, person_a)
    when = timezone.now() - datetime.timedelta(hours=1)

    results = _all_at_once(
        lambda: stock.attempt_record(
            card=card,
            acting_user=clerk_a,
            attempted_at=when,
            method=AttemptMethod.VISIT,
            outcome=AttemptOutcome.REFUSED,
            note="拒绝领取",
        )
    )

    assert sum(isinstance(r, SecondIssuanceAttempt) for r in results) == 1
    assert SecondIssuanceAttempt.objects.count() == 1


def test_a_recovery_is_entered_once(branch_a, person_a, clerk_a, ledger_flushable):
    card = stock.card_recover(
        card=old_card(branch_a, person_a), acting_user=clerk_a, reason="联系不上"
    )
    entry = card.ledger_entries.latest("sequence")

    results = _all_at_once(
        lambda: stock.recoveries_mark_entered(entry_ids=[entry.pk], acting_user=clerk_a)
    )

    assert sorted(results) == [0] * (THREADS - 1) + [1]
    assert ProvincialEntry.objects.count() == 1
