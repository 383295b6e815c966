"""Two clicks, or two clerks, at the same moment: the counter's work is done once."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from activation.models import Activation, ElectronicCardSigning
from activation.services import card_activate_at_counter, ecard_sign
from dayao_sscard.models import User
from issuance.models import Card, CardStatus, LedgerEntry
from issuance.services import card_make_instant
from roster.models import Person

from .counter import card_of

CLICKS = 4


def at_once(call, times: int = CLICKS) -> tuple[list, list[Exception]]:
    """``call`` in ``times`` threads released together, each with its own connection."""
    results, errors = [], []
    barrier = threading.Barrier(times)

    def worker():
        try:
            barrier.wait()
            results.append(call())
        except ValidationError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def as_a_request(user: User) -> User:
    """The user as each request loads it."""
    return User.objects.get(pk=user.pk)


@pytest.mark.django_db(transaction=True)
def test_instant_card_clicked_at_once_makes_one_card(banker_a, ready_a, ledger_flushable):
    made, refused = at_once(
        lambda: card_make_instant(
            person=Person.objects.get(pk=ready_a.pk),
            card_number="M20261129",
            acting_user=as_a_request(banker_a),
        )
    )
    assert len(made) == 1 and len(refused) == CLICKS - 1
    # Every check waits for the person's row lock: each later click sees the card made.
    assert [e.messages for e in refused] == [
        ["已有一张有效社保卡（已制卡（库存）），一人一卡，不能重复申领。"]
    ] * (CLICKS - 1)
    assert Card.objects.filter(person=ready_a).count() == 1
    assert LedgerEntry.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_activation_and_ecard_at_once_are_recorded_once(
    banker_a, branch_a, person_a, ledger_flushable
):
    card = card_of(branch_a, person_a, CardStatus.ISSUED, number="M00000200")
    activated, refused = at_once(
        lambda: card_activate_at_counter(
            card=Card.objects.get(pk=card.pk),
            acting_user=as_a_request(banker_a),
            face_to_face=True,
            identity_checked=True,
        )
    )
    assert len(activated) == 1 and len(refused) == CLICKS - 1
    assert Activation.objects.count() == 1 and LedgerEntry.objects.count() == 1

    signed, refused = at_once(
        lambda: ecard_sign(
            person=Person.objects.get(pk=person_a.pk),
            acting_user=as_a_request(banker_a),
            channel="网点柜台",
        )
    )
    assert len(signed) == 1 and all("不能重复登记" in str(e) for e in refused)
    assert ElectronicCardSigning.objects.count() == 1
