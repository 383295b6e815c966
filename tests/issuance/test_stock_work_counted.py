"""The 库存卡/睡眠卡 work list paged by the village counters: the same cards per village as
counting the list, for every persona, state and place; counted when filtered further."""

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dayao_sscard.roles import Role
from issuance.models import Card, CardStatus
from issuance.selectors import (
    StockFilters,
    WorkState,
    stock_and_dormant_by_bank,
    stock_and_dormant_cards,
    stock_work_counted,
    stock_work_list,
)
from roster.figures import CARDS_WAITING
from roster.models import FigureCount
from tests.factories import PersonFactory, UserFactory
from tests.issuance.stockdata import old_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def cards(branch_a, branch_b, village_a, village_a2, village_b, township_a):
    def person(village, township=None):
        return PersonFactory(township=township or village.township, village=village)

    old_card(branch_a, person(village_a))  # in stock for 200 days
    old_card(branch_a, person(village_a), made_days_ago=10)  # too recent
    old_card(branch_a, person(village_a2), status=CardStatus.ISSUED, issued_days_ago=300)
    old_card(branch_a, person(village_a2), status=CardStatus.ISSUED, issued_days_ago=30)
    old_card(branch_a, person(None, township_a))  # a holder without a village
    old_card(branch_a, person(village_a), status=CardStatus.ACTIVATED)
    dormant = old_card(branch_a, person(village_a2), status=CardStatus.ISSUED, issued_days_ago=300)
    Card.objects.filter(pk=dormant.pk).update(status=CardStatus.DORMANT)
    recovered = old_card(branch_a, person(village_a))
    Card.objects.filter(pk=recovered.pk).update(status=CardStatus.RECOVERED)
    waiting = old_card(branch_a, person(village_a), made_days_ago=10)
    Card.objects.filter(pk=waiting.pk).update(status=CardStatus.IN_TRANSIT, made_on=None)
    old_card(branch_b, person(village_b))
    old_card(branch_b, person(village_b), status=CardStatus.ISSUED, issued_days_ago=400)


def counted_by_the_list(user, filters) -> set:
    rows = (
        stock_work_list(user=user, filters=filters)
        .order_by()
        .values_list("person__township_id", "person__village_id")
        .annotate(n=Count("pk"))
    )
    return set(rows)


FILTERS = [
    StockFilters(),
    *(StockFilters(state=state) for state, _ in WorkState.CHOICES),
    StockFilters(state="unknown"),
    StockFilters(township="532326101"),
    StockFilters(township="532326102", state=WorkState.DUE_DORMANT),
]


@pytest.mark.parametrize("persona", ["supervisor", "clerk_a", "clerk_b", "collector_a"])
def test_the_counters_give_each_village_the_cards_of_the_list(request, cards, persona):
    user = request.getfixturevalue(persona)
    for filters in FILTERS:
        counted = stock_work_counted(user=user, filters=filters)
        assert counted is not None
        assert {row for row in counted if row[2]} == counted_by_the_list(user, filters), filters


def test_a_village_filter(cards, supervisor, village_a):
    filters = StockFilters(village=str(village_a.pk))
    counted = stock_work_counted(user=supervisor, filters=filters)
    assert {row for row in counted if row[2]} == counted_by_the_list(supervisor, filters)
    assert counted_by_the_list(supervisor, filters) == {(village_a.township_id, village_a.pk, 1)}


def test_the_recent_cards_are_the_difference(cards, supervisor, village_a):
    # Of village A's three waiting cards, two are too recent (one made 10 days ago, one in
    # transit without a date): the counter says 3, the list 1.
    waiting = FigureCount.objects.get(village_id=village_a.pk, key=CARDS_WAITING)
    assert waiting.n == 3
    filters = StockFilters(state=WorkState.STOCK, village=str(village_a.pk))
    assert stock_work_counted(user=supervisor, filters=filters) == [
        (village_a.township_id, village_a.pk, 1)
    ]


@pytest.mark.parametrize(
    "filters",
    [StockFilters(bank="1"), StockFilters(contact="none"), StockFilters(age="365")],
)
def test_further_filters_are_counted(cards, supervisor, filters):
    assert stock_work_counted(user=supervisor, filters=filters) is None


def test_a_banks_cards_come_from_the_card_counters_of_its_bank(cards, banker_a, branch_b):
    for filters in FILTERS:
        counted = stock_work_counted(user=banker_a, filters=filters)
        assert counted is not None
        assert {row for row in counted if row[2]} == counted_by_the_list(banker_a, filters), filters
    # Another bank's clerk: none of these cards.
    other = UserFactory(
        username="banker_b", role=Role.BANK_STAFF, township=None, bank_branch=branch_b
    )
    assert {row for row in stock_work_counted(user=other, filters=StockFilters()) if row[2]} == (
        counted_by_the_list(other, StockFilters())
    )


def test_a_township_filter_is_for_county_users_alone(cards, clerk_a):
    filters = StockFilters(township="532326102")  # as the list, the clerk's own township
    counted = stock_work_counted(user=clerk_a, filters=filters)
    assert {row for row in counted if row[2]} == counted_by_the_list(clerk_a, filters) != set()


def test_the_page_does_not_count_the_cards_of_the_county(client, cards, supervisor):
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("issuance:stock-cards"))
    paged = response.context["page"].paginator
    assert paged.count == stock_work_list(user=supervisor, filters=StockFilters()).count() == 6
    grouped = [q["sql"] for q in queries if "GROUP BY" in q["sql"] and "COUNT(" in q["sql"]]
    # The recent cards alone, and the banks' summary.
    assert all("made_on" in sql or "custody_since" in sql or "bank" in sql for sql in grouped)


@pytest.mark.parametrize("persona", ["supervisor", "clerk_a", "clerk_b", "banker_a"])
def test_the_summary_by_bank_counts_the_cards_of_the_list_by_bank(request, cards, persona):
    user = request.getfixturevalue(persona)
    listed = {}
    for card in stock_and_dormant_cards(user=user):
        row = listed.setdefault(card.bank_id, {"stock": 0, "dormant": 0})
        row["dormant" if card.status == CardStatus.DORMANT else "stock"] += 1
    summary = stock_and_dormant_by_bank(user=user)
    assert {r["bank_id"]: {"stock": r["stock"], "dormant": r["dormant"]} for r in summary} == listed
    if persona == "supervisor":
        assert sum(r["stock"] for r in summary) == 3
        assert sum(r["dormant"] for r in summary) == 1
