"""A clerk of bank A gets 404 for bank B's card and its holder, on every page and in the API.

The rival clerks: one of another bank whose branch serves the same township (金碧镇), and
one of the same bank's branch serving another township. For each URL that takes a person
or a card, the matrix says what the branch's own clerk gets for the object in scope; the
rivals get the page's refusal instead: 404 where the branch's clerk may, the same 403 or
405 where the role may not or the method is wrong.
"""

import pytest
from django.test import Client
from django.urls import reverse

from dayao_sscard.roles import Role
from tests.core.test_permission_matrix import MATRIX
from tests.factories import BankBranchFactory, BankFactory, UserFactory, township
from tests.permissions import KWARGS, build_world

OBJECT_KINDS = ("person", "photo", "id_number", "card_number")
ROWS = sorted(key for key, row in MATRIX.items() if row.kind in OBJECT_KINDS)


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def rivals(world):
    other_bank = BankBranchFactory(
        bank=BankFactory(name="中国邮政储蓄银行", short_name="邮储"),
        name="金碧营业所",
        township=township("532326101"),
    )
    own_bank_elsewhere = BankBranchFactory(
        bank=world.card_in.bank, name="湾碧信用社", township=township("532326206")
    )
    return {
        "another bank in the same township": UserFactory(
            username="rival_bank", role=Role.BANK_STAFF, township=None, bank_branch=other_bank
        ),
        "the same bank in another township": UserFactory(
            username="rival_branch",
            role=Role.BANK_STAFF,
            township=None,
            bank_branch=own_bank_elsewhere,
        ),
    }


def expected_for_rival(own_status: int) -> int:
    return own_status if own_status in (403, 405) else 404


@pytest.mark.parametrize("key", ROWS, ids=lambda key: f"{key[0]} {key[1]}")
def test_a_rival_bank_clerk_reaches_nothing(world, rivals, key):
    row = MATRIX[key]
    url = reverse(row.name, kwargs=KWARGS[row.kind](world, Role.BANK_STAFF.value, True))
    expected = expected_for_rival(row.in_scope[Role.BANK_STAFF.value])
    wrong = []
    for who, clerk in rivals.items():
        client = Client()
        client.force_login(clerk)
        got = (client.get(url) if row.method == "GET" else client.post(url)).status_code
        if got != expected:
            wrong.append(f"{row.method} {row.name} as a clerk of {who}: {got}, not {expected}")
    assert not wrong, "\n".join(wrong)
