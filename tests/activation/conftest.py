import pytest

from dayao_sscard.roles import Role
from tests.factories import UserFactory

from .counter import ready_person


@pytest.fixture
def banker_b(branch_b):
    return UserFactory(
        username="banker_b", role=Role.BANK_STAFF, township=None, bank_branch=branch_b
    )


@pytest.fixture
def ready_a(village_a):
    return ready_person(village_a)


@pytest.fixture
def ready_b(village_b):
    return ready_person(village_b, name="杨丽华")
