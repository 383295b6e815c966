"""What the counter tests share: a person ready for a card, clerks of other banks."""

import datetime

from dayao_sscard.roles import Role
from issuance.models import Card, CardStatus, CustodyKind
from roster.models import VerificationStatus
from roster.verification import person_problems
from tests.factories import BankBranchFactory, BankFactory, PersonFactory, UserFactory


def ready_person(village, name: str = "李秀兰", **fields):
    """待制卡: compared (无制卡信息), verified, the nine elements complete, photo collected
    on 12333, no card."""
    fields.setdefault("card_class", "no_card_info")
    person = PersonFactory(
        township=village.township,
        village=village,
        name=name,
        id_valid_from=datetime.date(2020, 1, 1),
        id_valid_until=datetime.date(2040, 1, 1),
        photo_on_12333=True,
        verification_status=VerificationStatus.READY,
        **fields,
    )
    assert person_problems(person) == []
    return person


def card_of(branch, person, status=CardStatus.IN_STOCK, number: str | None = None) -> Card:
    """A card as the ledger leaves it: at the bank in stock, with the holder once issued."""
    in_hand = status in (CardStatus.ISSUED, CardStatus.ACTIVATED, CardStatus.DORMANT)
    return Card.objects.create(
        person=person,
        bank=branch.bank,
        status=status,
        card_number=number,
        custody_kind=CustodyKind.HOLDER if in_hand else CustodyKind.BANK,
    )


def other_bank_clerk(township, username: str = "abc_clerk", *, serves=None):
    """A clerk of another bank (中国农业银行) whose branch serves ``serves`` (default: none)."""
    branch = BankBranchFactory(
        bank=BankFactory(name="中国农业银行", short_name="农行"),
        name="大姚支行",
        township=township,
        serves=serves or [],
    )
    return UserFactory(username=username, role=Role.BANK_STAFF, township=None, bank_branch=branch)
