"""A number in a filter or form that the database cannot hold filters nothing; never a 500.

``"²".isdigit()`` is true and ``int("²")`` fails; ``99999999999999999999`` overflows
SQLite's integer. Both once answered 500 on the queue, the stock-card list and the
conflict form.
"""

import pytest
from django.http import QueryDict
from django.urls import reverse

from dayao_sscard.params import id_param, query_without_page
from issuance.models import Card, CardStatus
from roster.models import CardClass, CollectionConflict, SourceList
from tests.factories import classify

ODD_NUMBERS = ["²", "99999999999999999999", "１２", "-1", "1.5"]


@pytest.mark.parametrize("text", [*ODD_NUMBERS, "", None, "abc"])
def test_odd_numbers_are_no_id(text):
    assert id_param(text) is None


def test_plain_digits_are_an_id():
    assert id_param("42") == 42
    assert id_param("0") == 0


@pytest.mark.django_db
@pytest.mark.parametrize("village", ODD_NUMBERS)
def test_the_queue_ignores_an_odd_village(client, clerk_a, person_a, village):
    classify(person_a, CardClass.NO_CARD_INFO)
    client.force_login(clerk_a)
    response = client.get(reverse("roster:work-queue"), {"village": village})
    assert response.status_code == 200
    assert person_a.name in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("bank", ODD_NUMBERS)
def test_the_stock_cards_ignore_an_odd_bank(client, clerk_a, person_a, branch_a, bank):
    Card.objects.create(person=person_a, bank=branch_a.bank, status=CardStatus.DORMANT)
    client.force_login(clerk_a)
    response = client.get(reverse("issuance:stock-cards"), {"bank": bank})
    assert response.status_code == 200
    assert person_a.name in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["²", "99999999999999999999"])
def test_the_conflict_form_takes_no_odd_choice_or_version(client, clerk_a, person_a, number):
    source_list = SourceList.objects.create(kind="collection_12333", source="12333", file_name="a")
    conflict = CollectionConflict.objects.create(
        person=person_a,
        source_list=source_list,
        row_number=2,
        field="phone",
        incoming_value="13800000000",
    )
    client.force_login(clerk_a)
    url = reverse("roster:conflict-person", args=[person_a.pk])
    odd_choice = client.post(url, {f"choice_{number}": "taken", "version": person_a.version})
    odd_version = client.post(url, {f"choice_{conflict.pk}": "taken", "version": number})
    assert odd_choice.status_code in (200, 302, 400)
    assert odd_version.status_code == 400
    conflict.refresh_from_db()
    assert conflict.resolution == CollectionConflict.Resolution.PENDING


def test_page_links_carry_the_filters_but_not_the_page():
    query = QueryDict("village=3&page=2&q=%E5%BC%A0")
    assert query_without_page(query) == "village=3&q=%E5%BC%A0"
