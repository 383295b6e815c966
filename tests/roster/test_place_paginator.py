"""PlacePaginator: the same pages as slicing the ordered list, one village at a time."""

import pytest
from django.core.paginator import Paginator
from django.db import connection

from roster.models import Person
from roster.paging import PlacePaginator
from tests.factories import PersonFactory, VillageFactory


@pytest.fixture
def county(township_a, township_b):
    # Villages created out of name order, so that ids and names disagree; a few persons
    # without a village in each township; township B's code sorts after A's.
    places = [
        VillageFactory(township=township_b, name="中村"),
        VillageFactory(township=township_a, name="下村"),
        VillageFactory(township=township_a, name="上村"),
        None,
    ]
    for n in range(23):
        village = places[n % 4]
        township = village.township if village else (township_a if n % 8 == 3 else township_b)
        PersonFactory(township=township, village=village, name=f"张{'三一二'[n % 3]}{n % 5}")


def _pages(paginator) -> list[list[int]]:
    return [[p.pk for p in paginator.page(n)] for n in paginator.page_range]


@pytest.mark.django_db
@pytest.mark.parametrize("per_page", [1, 4, 5, 50])
def test_pages_are_the_slices_of_the_ordered_list(county, per_page):
    persons = Person.objects.all()
    paging = PlacePaginator(persons, per_page)
    assert paging.count == 23
    assert sum(_pages(paging), []) != []
    if connection.vendor == "postgresql":
        # SQLite sorts a missing village first, PostgreSQL (and the paginator) last.
        assert _pages(paging) == _pages(Paginator(persons, per_page))
    assert sorted(sum(_pages(paging), [])) == sorted(persons.values_list("pk", flat=True))


@pytest.mark.django_db
def test_filtered_lists_count_only_their_rows(county, township_a):
    persons = Person.objects.filter(township=township_a, name__startswith="张三")
    paging = PlacePaginator(persons, 2)
    assert paging.count == persons.count()
    assert {p.pk for p in sum((list(paging.page(n)) for n in paging.page_range), [])} == set(
        persons.values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_an_empty_list_has_one_empty_page(db):
    paging = PlacePaginator(Person.objects.all(), 50)
    assert paging.count == 0
    assert list(paging.get_page(1)) == []


@pytest.mark.django_db
def test_a_list_not_ordered_by_place_first_is_refused(db):
    with pytest.raises(ValueError):
        PlacePaginator(Person.objects.order_by("name"), 50)
    with pytest.raises(ValueError):
        PlacePaginator(Person.objects.order_by("-township__code", "village__name"), 50)


@pytest.mark.django_db
@pytest.mark.parametrize("per_page", [1, 4, 50])
@pytest.mark.parametrize("few", [5, 500])
def test_a_search_read_by_id_gives_the_same_pages(county, per_page, few, monkeypatch):
    # few=5: more rows than FEW, so the search is paged by place after its probe.
    monkeypatch.setattr(PlacePaginator, "FEW", few)
    persons = Person.objects.filter(name__startswith="张")
    searched = PlacePaginator(persons, per_page, probably_few=True)
    placed = PlacePaginator(persons, per_page)
    assert searched.count == placed.count == 23
    if connection.vendor == "postgresql":  # SQLite sorts a missing village first
        assert _pages(searched) == _pages(placed)
    assert sorted(sum(_pages(searched), [])) == sorted(sum(_pages(placed), []))
    assert (searched._few is None) == (few == 5)


@pytest.mark.django_db
def test_a_search_runs_its_conditions_once_when_it_finds_few(county, django_assert_num_queries):
    persons = Person.objects.filter(name__startswith="张三").select_related("township")
    expected = [p.pk for p in persons]
    with django_assert_num_queries(2) as queries:  # the ids, then the page's rows by id
        page = PlacePaginator(persons, 50, probably_few=True).get_page(1)
        rows = list(page)
    assert [sql["sql"].count("LIKE") for sql in queries.captured_queries] == [1, 0]
    assert page.paginator.count == len(expected) > 0
    if connection.vendor == "postgresql":  # SQLite sorts a missing village first
        assert [p.pk for p in rows] == expected
    assert sorted(p.pk for p in rows) == sorted(expected)
    assert all("township" in p._state.fields_cache for p in rows)  # still selected with them
    nobody = persons.filter(name="无此人")
    with django_assert_num_queries(1):
        assert list(PlacePaginator(nobody, 50, probably_few=True).get_page(1)) == []


@pytest.mark.django_db
def test_a_long_search_page_is_read_by_id_without_its_conditions(county, django_assert_num_queries):
    persons = Person.objects.filter(name__startswith="张").select_related("village")
    with django_assert_num_queries(2) as queries:  # the ids in order, the page's rows
        rows = list(PlacePaginator(persons, 4, probably_few=True).get_page(2))
    assert [sql["sql"].count("LIKE") for sql in queries.captured_queries] == [1, 0]
    assert len(rows) == 4 and all("village" in p._state.fields_cache for p in rows)
