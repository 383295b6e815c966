"""The person list paged by the village counters: the same rows per village as counting the
list, for every persona and every filter the counters can answer; counted otherwise."""

from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from issuance.models import Card, CardStatus
from roster.figures import HOLDERS_KEY_PREFIX, PERSONS_KEY
from roster.models import FigureCount, ListKind, Person
from roster.paging import PlacePaginator
from roster.progress import figures_drift
from roster.selectors import NO_VILLAGE, PersonFilters, person_list_counted, person_list_rows
from tests.factories import BankFactory, PersonFactory, put_on_list


@pytest.fixture
def county(village_a, village_a2, village_b, township_a, township_b):
    listed = []
    for n in range(3):
        PersonFactory(township=township_a, village=village_a, name=f"甲{n}")
    listed.append(PersonFactory(township=township_a, village=village_a2, name="乙"))
    PersonFactory(township=township_a, village=None, name="无村")
    for n in range(2):
        listed.append(PersonFactory(township=township_b, village=village_b, name=f"丙{n}"))
    put_on_list(*listed)


def counted_by_the_list(user, filters) -> set:
    rows = (
        person_list_rows(user=user, filters=filters)
        .order_by()
        .values_list("township_id", "village_id")
        .annotate(n=Count("pk"))
        .values_list("township_id", "village_id", "n")
    )
    return set(rows)


FILTERS = [
    PersonFilters(),
    PersonFilters(query="  "),
    PersonFilters(figure="listed"),
    PersonFilters(township="532326101"),
    PersonFilters(village=NO_VILLAGE),
    PersonFilters(township="532326101", figure="listed"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["supervisor", "clerk_a", "clerk_b", "collector_a"])
@pytest.mark.parametrize("filters", FILTERS)
def test_the_counters_give_each_village_the_rows_of_the_list(request, county, persona, filters):
    user = request.getfixturevalue(persona)
    counted = person_list_counted(user=user, filters=filters)
    assert counted is not None
    assert {row for row in counted if row[2]} == counted_by_the_list(user, filters)


@pytest.mark.django_db
def test_a_village_filter_reads_the_village_counter(county, supervisor, village_a, township_a):
    filters = PersonFilters(village=str(village_a.pk))
    assert person_list_counted(user=supervisor, filters=filters) == [
        (township_a.pk, village_a.pk, 3)
    ]
    assert counted_by_the_list(supervisor, filters) == {(township_a.pk, village_a.pk, 3)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "filters",
    [
        PersonFilters(query="甲"),
        PersonFilters(vital_status="deceased"),
        PersonFilters(card_class="no_card_info"),
        PersonFilters(without_card=True),
        PersonFilters(category="disabled"),
        PersonFilters(on_list=ListKind.UNISSUED),
        PersonFilters(figure="no_such_figure"),
        PersonFilters(village="0"),
    ],
)
def test_other_filters_are_counted(county, supervisor, filters):
    assert person_list_counted(user=supervisor, filters=filters) is None


@pytest.fixture
def holders(county, branch_a, township_a, township_b):
    """Cards of the branch's bank held in its township (one holder with two), one without a
    village; a card of another bank, and one of the bank in a township the branch does not
    serve."""
    in_a = list(Person.objects.filter(township=township_a, village__isnull=False).order_by("id"))
    placeless = Person.objects.get(township=township_a, village__isnull=True)
    in_b = Person.objects.filter(township=township_b).first()
    bank = branch_a.bank
    for number, (person, card_bank, status) in enumerate(
        [
            (in_a[0], bank, CardStatus.IN_STOCK),
            (in_a[0], bank, CardStatus.CANCELLED),
            (in_a[3], bank, CardStatus.ISSUED),
            (placeless, bank, CardStatus.IN_STOCK),
            (
                in_a[1],
                BankFactory(name="中国农业银行大姚县支行", short_name="农行"),
                CardStatus.IN_STOCK,
            ),
            (in_b, bank, CardStatus.IN_STOCK),
        ]
    ):
        Card.objects.create(person=person, bank=card_bank, status=status, card_number=f"H{number}")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "filters",
    [
        PersonFilters(),
        PersonFilters(township="532326101"),
        PersonFilters(township="532326102"),
        PersonFilters(village=NO_VILLAGE),
    ],
)
def test_a_banks_persons_are_counted_by_the_holder_counters(holders, banker_a, filters):
    counted = person_list_counted(user=banker_a, filters=filters)
    assert counted is not None
    assert {row for row in counted if row[2]} == counted_by_the_list(banker_a, filters)


@pytest.mark.django_db
def test_a_bank_clerks_list_holds_three_holders_of_the_branch(holders, banker_a, township_a):
    rows = person_list_counted(user=banker_a, filters=PersonFilters())
    assert sum(n for _, _, n in rows) == 3 == person_list_rows(user=banker_a).count()


@pytest.mark.django_db
def test_a_bank_clerks_figure_filter_is_counted(holders, banker_a):
    assert person_list_counted(user=banker_a, filters=PersonFilters(figure="listed")) is None


@pytest.mark.django_db
def test_the_migration_counts_the_holders(holders):
    FigureCount.objects.filter(key__startswith=HOLDERS_KEY_PREFIX).delete()
    assert figures_drift() != {}
    migration = import_module("roster.migrations.0026_holder_counters")
    with connection.cursor() as cursor:
        cursor.execute(migration.FILL)
    assert figures_drift() == {}


@pytest.mark.django_db
def test_the_list_page_does_not_count_the_persons(client, county, supervisor):
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("roster:person-list"))
    assert response.context["page"].paginator.count == Person.objects.count()
    person_table = Person._meta.db_table
    assert not [q for q in queries if "COUNT(" in q["sql"] and f'FROM "{person_table}"' in q["sql"]]
    paged = response.context["page"].paginator
    counted = PlacePaginator(Person.objects.all(), 50)
    assert paged.groups == counted.groups


@pytest.mark.django_db
def test_the_persons_counter_follows_a_new_a_moved_and_a_deleted_person(
    village_a, village_b, township_a, township_b
):
    def persons(village) -> int:
        row = FigureCount.objects.filter(
            township_id=village.township_id, village_id=village.pk, key=PERSONS_KEY
        ).first()
        return row.n if row else 0

    person = PersonFactory(township=township_a, village=village_a)
    assert (persons(village_a), persons(village_b)) == (1, 0)
    person.township, person.village = township_b, village_b
    person.save()
    assert (persons(village_a), persons(village_b)) == (0, 1)
    person.delete()
    assert persons(village_b) == 0


@pytest.mark.django_db
def test_the_migration_counts_the_persons_of_every_village(county):
    FigureCount.objects.filter(key=PERSONS_KEY).delete()
    assert figures_drift() != {}
    import_module("roster.migrations.0020_figure_count_persons").count_persons(apps, None)
    assert figures_drift() == {}
