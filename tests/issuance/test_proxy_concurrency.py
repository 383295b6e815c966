"""Many clicks at once: one approval registered, one card issued to the proxy (PostgreSQL,
where writers really run side by side; SQLite takes one at a time)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from issuance.models import Card, CardStatus, CustodyKind, LedgerEntry, ProxyApproval
from issuance.services import card_issue_to_proxy
from tests.issuance.proxydata import approved, in_group, register

CLICKS = 8

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrent writers need PostgreSQL (SQLite serialises them)",
    ),
]


def all_at_once(work) -> list[str]:
    """Run ``work`` in CLICKS threads released together; each one's outcome in words."""
    barrier = threading.Barrier(CLICKS)
    outcomes: list[str] = []

    def click():
        try:
            barrier.wait()
            work()
            outcomes.append("ok")
        except ValidationError as refused:
            outcomes.append(refused.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_one_approval_for_many_clicks_on_register(person_a, clerk_a):
    holder = in_group(person_a)
    outcomes = all_at_once(lambda: register(holder, clerk_a))
    assert outcomes.count("ok") == 1
    assert ProxyApproval.objects.count() == 1
    assert all("无需重复登记" in o for o in outcomes if o != "ok")


def test_one_issue_for_many_clicks_on_issue(person_a, branch_a, collector_a, clerk_a):
    holder = in_group(person_a)
    card = Card.objects.create(
        person=holder,
        bank=branch_a.bank,
        card_number="M60000001",
        status=CardStatus.IN_STOCK,
        custody_kind=CustodyKind.TOWNSHIP,
    )
    approval = approved(holder, collector_a, clerk_a)
    outcomes = all_at_once(
        lambda: card_issue_to_proxy(
            approval=approval, acting_user=clerk_a, location="社保中心", identity_checked=True
        )
    )
    assert outcomes.count("ok") == 1
    assert LedgerEntry.objects.filter(card=card).count() == 1
    refusals = {o for o in outcomes if o != "ok"}
    assert refusals <= {
        "当前状态为“已发放”，不能办理“发放”。",
        "张桂芬没有可发放的社保卡（须为已制卡、在途、已回收或睡眠卡），不能发放。",
    }
