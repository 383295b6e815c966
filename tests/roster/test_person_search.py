"""Person search on PostgreSQL: same answers as LIKE, and through the search indexes."""

import pytest
from django.db import connection

from roster.models import Person
from tests.factories import PersonFactory

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the search indexes are PostgreSQL's"
)


@pytest.fixture
def persons(village_a, village_a2):
    return [
        PersonFactory(township=village_a.township, village=village_a, name="胡贵英"),
        PersonFactory(township=village_a.township, village=village_a, name="贵胡"),
        PersonFactory(township=village_a.township, village=village_a2, name="李明"),
        PersonFactory(
            township=village_a.township,
            village=village_a2,
            name="王芳",
            id_number="53232619800101006X",
        ),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("胡贵", {"胡贵英"}),  # in one piece and in order: not 贵胡
        ("贵", {"胡贵英", "贵胡"}),
        ("胡贵英", {"胡贵英"}),
        ("英胡", set()),  # every character is in 胡贵英, but not together
        ("龙街", {"李明", "王芳"}),  # the village 龙街村委会
        ("01006x", {"王芳"}),  # last digits, lower-case x
        ("006X", {"王芳"}),
        ("100%", set()),  # LIKE's wildcards are text here
    ],
)
def test_search_finds_what_like_finds(persons, text, expected):
    assert {p.name for p in Person.objects.search(text)} == expected


def _plan(queryset) -> str:
    with connection.cursor() as cursor:
        # A few rows: left to itself the planner reads the table (or a whole other
        # index), index or not. Without those, only a bitmap scan on an index whose
        # condition the query gives can reach the persons.
        for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
        return queryset.explain()


@postgresql_only
@pytest.mark.django_db
def test_name_search_is_answered_by_the_characters_index(persons):
    assert "person_name_characters" in _plan(Person.objects.search("胡贵"))


@postgresql_only
@pytest.mark.django_db
def test_search_by_last_digits_is_answered_by_the_reversed_index(persons):
    assert "person_id_number_reversed" in _plan(Person.objects.search("01006x"))
