"""The cards per status kept in the village counters (``card:<status>:<bank id>``): what
each user reaches, as ``Card.objects.for_user`` counts it, without counting the cards.

That every writer keeps them current is the drift check's (tests/conftest.py): it compares
the counters, these keys included, with a count from scratch after every test.
"""

import pytest
from django.db.models import Count

from dayao_sscard.paging import CountedPaginator
from issuance.models import Card, CardStatus, CustodyKind, LedgerEvent
from issuance.selectors import card_status_counted
from issuance.services import Custody, cards_record_event
from roster.models import FigureCount
from roster.progress import figures_drift, figures_rebuild
from tests.factories import BankBranchFactory, BankFactory, PersonFactory
from tests.issuance.issuing import stock_card

pytestmark = pytest.mark.django_db

PERSONAS = ("supervisor", "county_admin", "clerk_a", "clerk_b", "collector_a", "banker_a")


def counted_live(user) -> dict[str, int]:
    rows = Card.objects.for_user(user).values_list("status").annotate(n=Count("id")).order_by()
    return dict(rows)


@pytest.fixture
def cards(county_admin, village_a, village_a2, village_b, branch_a, branch_b):
    """Cards of two banks in two townships, in several states, written by the services."""
    other_bank = BankBranchFactory(
        bank=BankFactory(name="中国农业银行大姚县支行", short_name="农行"),
        name="金碧分理处",
        township=village_a.township,
    )
    made = []
    for n, (village, branch) in enumerate(
        [
            (village_a, branch_a),
            (village_a, other_bank),
            (village_a2, branch_a),
            (village_b, branch_b),
        ]
        * 2
    ):
        person = PersonFactory(township=village.township, village=village, name=f"持卡人{n}")
        made.append(
            stock_card(person=person, branch=branch, user=county_admin, number=f"M9{n:07d}")
        )
    to_township = Custody(
        kind=CustodyKind.TOWNSHIP, party="金碧镇社保中心", responsible_person="杨海龙"
    )
    cards_record_event(
        cards=made[:3], event=LedgerEvent.HANDED_OVER, acting_user=county_admin, custody=to_township
    )
    return made


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_user_reads_the_cards_they_reach(request, cards, persona):
    user = request.getfixturevalue(persona)
    assert card_status_counted(user=user) == {
        status: n for status, n in counted_live(user).items() if n
    }


def test_a_branch_chosen_by_the_county_is_its_banks_cards_of_its_townships(
    supervisor, cards, branch_a, banker_a
):
    assert card_status_counted(user=supervisor, branch=branch_a) == counted_live(banker_a)
    assert sum(counted_live(banker_a).values()) == 4


def test_a_clerk_reads_only_their_own_branch(banker_a, branch_b, cards):
    assert card_status_counted(user=banker_a, branch=branch_b) == {}


def test_a_person_who_moves_takes_their_cards_along(clerk_a, clerk_b, cards, village_b):
    before_a, before_b = card_status_counted(user=clerk_a), card_status_counted(user=clerk_b)
    person = cards[0].person
    person.township, person.village = village_b.township, village_b
    person.save()
    assert card_status_counted(user=clerk_a)[CardStatus.IN_TRANSIT] == (
        before_a[CardStatus.IN_TRANSIT] - 1
    )
    assert card_status_counted(user=clerk_b)[CardStatus.IN_TRANSIT] == 1
    assert sum(card_status_counted(user=clerk_b).values()) == sum(before_b.values()) + 1


def test_lost_card_counters_are_seen_and_rebuilt(supervisor, cards):
    """Migration roster 0020 fills them once, from a count like this one."""
    FigureCount.objects.filter(key__startswith="card:").delete()
    assert card_status_counted(user=supervisor) == {}
    assert figures_drift() != {}
    figures_rebuild()
    assert card_status_counted(user=supervisor) == counted_live(supervisor)


def test_the_paginator_takes_the_counted_total():
    paginator = CountedPaginator(Card.objects.none(), 50, count=120)
    assert (paginator.count, paginator.num_pages) == (120, 3)
