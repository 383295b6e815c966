"""The holder's village kept on each card (``Card.holder_village``, issuance.places) by
every writer that opens a card or moves a person, and the work list's village pages read
by it. The fixture in tests/conftest.py also checks it after every database test."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from issuance.models import Card
from issuance.places import card_places_drift, card_places_keep
from issuance.services import card_create, cards_apply
from roster.models import Person
from roster.progress import figures_rebuild
from tests.factories import BankFactory, PersonFactory, UserFactory, make_id_number
from tests.issuance.stockdata import old_card
from tests.roster.listfiles import write_csv, write_xlsx
from tests.roster.test_import_writes import HEADER, person_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):
    return UserFactory(username="card_admin", role="county_admin", township=None)


def test_a_card_opened_takes_its_holders_village(admin, village_a):
    person = PersonFactory(township=village_a.township, village=village_a)
    card = card_create(person=person, bank=BankFactory(), acting_user=admin)
    card.refresh_from_db()
    assert card.holder_village_id == village_a.pk


def test_a_card_of_a_holder_without_a_village_has_none(admin, township_a):
    person = PersonFactory(township=township_a, village=None)
    card = card_create(person=person, bank=BankFactory(), acting_user=admin)
    card.refresh_from_db()
    assert card.holder_village_id is None


def test_cards_applied_in_bulk_take_their_holders_villages(admin, village_a, village_a2):
    persons = [
        PersonFactory(township=village_a.township, village=village)
        for village in (village_a, village_a2, village_a)
    ]
    cards = cards_apply(persons=persons, bank=BankFactory(), acting_user=admin)
    assert [Card.objects.get(pk=card.pk).holder_village_id for card in cards] == [
        p.village_id for p in persons
    ]


def test_a_person_moved_takes_their_cards_along(admin, village_a, village_a2):
    person = PersonFactory(township=village_a.township, village=village_a)
    card = card_create(person=person, bank=BankFactory(), acting_user=admin)
    person.village = village_a2
    person.save()
    assert Card.objects.get(pk=card.pk).holder_village_id == village_a2.pk
    person.village = None
    person.save(update_fields=["village"])
    assert Card.objects.get(pk=card.pk).holder_village_id is None


def test_an_import_filling_a_blank_village_moves_the_card(tmp_path):
    id_number = make_id_number()
    person_list(
        write_xlsx(
            tmp_path / "a.xlsx",
            [HEADER, [1, "李四", "汉族", id_number, "13800000002", "地址二", "金碧", "", ""]],
        )
    )
    person = Person.objects.get(id_number=id_number)
    card = Card.objects.create(person=person, bank=BankFactory())
    assert Card.objects.get(pk=card.pk).holder_village_id is None

    person_list(
        write_csv(
            tmp_path / "b.csv",
            [HEADER, [1, "李四", "", id_number, "", "", "金碧", "大河社区", ""]],
        ),
        kind="subsidy",
        source="补贴",
    )

    person.refresh_from_db()
    assert person.village is not None
    assert Card.objects.get(pk=card.pk).holder_village_id == person.village_id


def test_a_card_behind_is_found_and_the_rebuild_puts_it_right(admin, village_a):
    person = PersonFactory(township=village_a.township, village=village_a)
    card = card_create(person=person, bank=BankFactory(), acting_user=admin)
    # Behind the ORM, whose updates of cards are recounted (and so kept).
    with connection.cursor() as cursor:
        cursor.execute("UPDATE issuance_card SET holder_village_id = NULL WHERE id = %s", [card.pk])
    assert list(card_places_drift()) == [Card.objects.get(pk=card.pk)]
    figures_rebuild()
    assert not card_places_drift().exists()
    assert Card.objects.get(pk=card.pk).holder_village_id == village_a.pk


def test_cards_already_right_are_not_written(admin, village_a):
    person = PersonFactory(township=village_a.township, village=village_a)
    card_create(person=person, bank=BankFactory(), acting_user=admin)
    assert card_places_keep(person_ids=[person.pk]) == 0
    assert card_places_keep(person_ids=None) == 0


def test_a_village_page_of_the_work_list_is_read_by_the_cards_column(
    client, branch_a, supervisor, village_a, village_a2
):
    for village in (village_a, village_a, village_a2):
        old_card(branch_a, PersonFactory(township=village.township, village=village))
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("issuance:stock-cards"), {"village": village_a.pk})
    listed = list(response.context["page"].object_list)
    assert [c.person.village_id for c in listed] == [village_a.pk, village_a.pk]
    page = [q["sql"] for q in queries if "last_outcome" in q["sql"]]
    assert len(page) == 1 and "holder_village_id" in page[0]
