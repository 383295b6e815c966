"""The demo's bank login has work waiting at the counter, and is told what to try."""

import io

import pytest
from django.core.management import call_command

from activation.selectors import counter_lookup
from activation.services import card_issue_at_counter
from dashboard.demo import demo_seed
from dashboard.selectors import demo_counter_examples
from dayao_sscard.models import User
from issuance.models import Card, CardStatus
from issuance.services import card_make_instant

pytestmark = pytest.mark.django_db


def test_the_bank_clerk_has_something_of_each_kind_to_do(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    demo_seed(persons=300, seed=2026)
    printed = io.StringIO()
    call_command("create_demo_users", stdout=printed)
    bank = User.objects.get(username="bank")

    examples = demo_counter_examples(user=bank)
    assert examples["instant"] and examples["issue"] and examples["activate"]
    assert "网点柜面演示（用户名 bank" in printed.getvalue()
    assert examples["instant"][0] in printed.getvalue()

    found = counter_lookup(user=bank, text=examples["instant"][0])
    assert found is not None and found.through_door
    card = card_make_instant(person=found.person, card_number="M20260001", acting_user=bank)
    assert card.status == CardStatus.IN_STOCK
    for number, status in ((examples["issue"][0], "in_stock"), (examples["activate"][0], "issued")):
        assert Card.objects.for_user(bank).get(card_number=number).status == status


def test_every_card_offered_for_counter_issuance_can_be_issued_there(settings, tmp_path):
    """The printed 发放 numbers are tried at the counter: a card the township or a village
    keeps is refused there (it must be handed over first), so none may be offered."""
    settings.DATA_DIR = tmp_path
    demo_seed(persons=300, seed=2026)
    call_command("create_demo_users", stdout=io.StringIO())
    bank = User.objects.get(username="bank")

    numbers = demo_counter_examples(user=bank)["issue"]

    assert numbers
    for number in numbers:
        card = Card.objects.get(card_number=number)
        card_issue_at_counter(
            card=card,
            acting_user=bank,
            signee=card.person.name,
            identity_checked=True,
            note="",
        )
        card.refresh_from_db()
        assert card.status == CardStatus.ISSUED
