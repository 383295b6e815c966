"""The totals the 新建交接, 批量制卡 and 集中发放 forms show: taken from the counters or
counted with the page, and always the number of rows the list from scratch has."""

import datetime

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dayao_sscard.paging import page_counted_along
from issuance import selectors
from issuance.models import CancellationRequest, Card
from roster.models import VitalStatus

from .batchdata import make_batch, ready_person
from .issuing import village_with_cards

PERSONAS = ("county_admin", "supervisor", "clerk_a", "clerk_b", "collector_a", "banker_a")


def awaiting_from_scratch(user) -> dict[int, int]:
    cards = selectors._cards_awaiting_holders(user=user).filter(person__village__isnull=False)
    rows = cards.values("person__village").annotate(n=Count("id"))
    return dict(rows.values_list("person__village", "n"))


@pytest.fixture
def waiting(county_admin, branch_a, village_a, village_a2, village_b, branch_b, clerk_a):
    cards = village_with_cards(village_a, branch_a, county_admin, ["张一", "李二", "王三", "赵四"])
    village_with_cards(village_a2, branch_a, county_admin, ["邻村人"], first=5)
    village_with_cards(village_b, branch_b, county_admin, ["外乡人"], first=6)
    return cards


@pytest.mark.django_db
class TestWaitingPerVillage:
    @pytest.mark.parametrize("persona", PERSONAS)
    def test_the_counters_less_the_dead_and_the_cancelled_are_the_count(
        self, request, persona, waiting, village_a, village_a2, village_b
    ):
        dead = waiting[1].person
        dead.vital_status, dead.death_date = VitalStatus.DECEASED, datetime.date(2026, 1, 1)
        dead.save()
        CancellationRequest.objects.create(card=waiting[2], reason="卡片损坏")
        # Dead and cancelled both: taken off once.
        both = waiting[3]
        CancellationRequest.objects.create(card=both, reason="持卡人已死亡")
        both.person.vital_status = VitalStatus.DECEASED
        both.person.death_date = datetime.date(2026, 2, 1)
        both.person.save()
        user = request.getfixturevalue(persona)
        counts = selectors.village_awaiting_counts(user=user)
        assert counts == awaiting_from_scratch(user)
        if persona in ("county_admin", "supervisor"):
            assert counts == {village_a.pk: 1, village_a2.pk: 1, village_b.pk: 1}
        if persona == "collector_a":
            assert counts == {village_a.pk: 1}

    def test_a_village_with_nothing_left_waiting_is_not_listed(
        self, waiting, clerk_a, village_a, village_a2
    ):
        for card in waiting:
            CancellationRequest.objects.create(card=card, reason="卡片损坏")
        assert selectors.village_awaiting_counts(user=clerk_a) == {village_a2.pk: 1}

    def test_the_counters_are_read_not_the_cards(self, waiting, clerk_a):
        with CaptureQueriesContext(connection) as queries:
            selectors.village_awaiting_counts(user=clerk_a)
        grouped = [q["sql"] for q in queries if "GROUP BY" in q["sql"]]
        assert grouped == []


@pytest.mark.django_db
class TestBatchCandidateCount:
    @pytest.fixture
    def ready(self, village_a, village_a2, village_b, clerk_a):
        persons = [ready_person(village_a, name=f"甲{n}") for n in range(3)]
        persons.append(ready_person(village_a2, name="邻村"))
        persons.append(ready_person(village_b, name="外乡"))
        ready_person(village_a, name="待核查", verification_status="pending")
        ready_person(
            village_a,
            name="已故",
            vital_status=VitalStatus.DECEASED,
            death_date=datetime.date(2026, 1, 1),
        )
        make_batch(clerk_a, [persons[0]])  # in an open batch: not 待制卡 any more
        return persons

    @pytest.mark.parametrize("persona", ("county_admin", "clerk_a", "clerk_b", "collector_a"))
    def test_the_ready_counters_are_the_lists_length(
        self, request, persona, ready, village_a, village_a2, township_a
    ):
        user = request.getfixturevalue(persona)
        for township_code, village in (
            ("", ""),
            (township_a.code, ""),
            ("", str(village_a.pk)),
            ("", str(village_a2.pk)),
            ("nowhere", ""),
        ):
            counted = selectors.batch_candidate_count(
                user=user, township_code=township_code, village=village
            )
            listed = selectors.batch_candidates(
                user=user, township_code=township_code, village=village
            ).count()
            assert counted == listed, (township_code, village)

    @pytest.mark.parametrize("persona", ("county_admin", "clerk_a", "banker_a"))
    def test_each_page_is_the_slice_of_the_list_from_scratch(
        self, request, persona, ready, village_a, village_b, monkeypatch
    ):
        # Pages of two, so that they cross villages, townships and the row of no village.
        monkeypatch.setattr(selectors, "BATCH_PAGE_SIZE", 2)
        for n in range(2):
            placeless = ready_person(village_b if n else village_a, name=f"无村{n}")
            placeless.village = None
            placeless.save()
        user = request.getfixturevalue(persona)
        listed = [p.pk for p in selectors.batch_candidates(user=user)]
        paged = []
        for number in range(1, len(listed) // 2 + 3):
            page = selectors.batch_candidate_page(user=user, number=str(number))
            assert page.paginator.count == len(listed)
            if page.number == number:
                paged += [p.pk for p in page]
        assert paged == listed
        if persona == "county_admin":
            assert len(listed) == 6

    def test_no_counter_for_a_bank_or_the_row_of_no_village(self, ready, banker_a, clerk_a):
        assert selectors.batch_candidate_count(user=banker_a) is None
        assert selectors.batch_candidate_count(user=clerk_a, village="0") is None

    def test_the_page_shows_the_counted_total(self, client, ready, clerk_a):
        client.force_login(clerk_a)
        page = client.get(reverse("issuance:batch-create")).content.decode()
        assert 'data-testid="candidate-count">3<' in page


@pytest.mark.django_db
class TestPageCountedAlong:
    @pytest.fixture
    def cards(self, county_admin, branch_a, village_a):
        names = [f"人{n:02d}" for n in range(7)]
        village_with_cards(village_a, branch_a, county_admin, names)
        return Card.objects.order_by("id")

    @pytest.mark.parametrize(
        ("number", "shown", "first"),
        [(None, 1, 0), ("2", 2, 3), ("3", 3, 6), ("9", 3, 6), ("x", 1, 0), ("-1", 1, 0)],
    )
    def test_it_pages_as_the_paginator_does(self, cards, number, shown, first):
        page = page_counted_along(cards, 3, number)
        assert page.number == shown and page.paginator.count == 7
        assert page.paginator.num_pages == 3
        assert list(page.object_list) == list(cards)[first : first + 3]

    def test_the_list_is_counted_with_the_pages_ids(self, cards):
        with CaptureQueriesContext(connection) as queries:
            page = page_counted_along(cards, 3, "2")
            assert page.paginator.count == 7 and len(page.object_list) == 3
        assert len(queries) == 2
        assert "OVER ()" in queries[0]["sql"] and "COUNT" not in queries[1]["sql"]

    def test_an_empty_list_is_one_empty_page(self, db):
        page = page_counted_along(Card.objects.order_by("id"), 3, "1")
        assert page.paginator.count == 0 and list(page.object_list) == []
