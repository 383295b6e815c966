"""A form sent twice (a double click, a resend after a slow answer, the browser's back and
resubmit) does its work once, and the second answer does not tell the clerk something false.

The main write forms, each posted twice with identical data by the same clerk. What protects
each: the person's version field (verification), the cards' states under row locks
(handover, issue, activation), one open batch per person (batch creation), the ledger's
"already issued" check (集中发放). Two posts at the same moment are covered by the
*_concurrency tests of each app; here the second arrives after the first has answered.
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from activation.models import Activation
from dayao_sscard.models import AuditEvent
from issuance.models import ApplicationBatch, Card, CardStatus, Handover, LedgerEntry, LedgerEvent
from issuance.services import card_make_instant
from tests.activation.counter import ready_person
from tests.factories import PersonFactory
from tests.issuance.handoverdata import stock_box
from tests.issuance.issuing import stock_card
from tests.roster.photos import photo_bytes

pytestmark = pytest.mark.django_db


def twice(client, url: str, data: dict):
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == 302, text(first)
    assert second.status_code < 500
    return first, second


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


class TestVerificationSave:
    def form(self, person, **more) -> dict:
        return {
            "name": person.name,
            "gender": person.gender,
            "nationality": "中国",
            "occupation": "农民",
            "address": person.address,
            "phone": person.phone,
            "id_type": "resident_id",
            "id_valid_from": "2015-03-01",
            "id_valid_until": "2035-03-01",
            "version": person.version,
            "unreachable_reason": "",
            "unreachable_note": "",
            **more,
        }

    def test_saved_once_and_the_second_answer_is_the_same_success(
        self, client, collector_a, village_a
    ):
        person = PersonFactory(township=village_a.township, village=village_a)
        client.force_login(collector_a)
        url = reverse("roster:person-verify", args=[person.pk])
        first, second = twice(client, url, self.form(person, occupation="教师"))
        assert second.status_code == 302 and second.url == first.url
        assert AuditEvent.objects.filter(action="roster.person.verified").count() == 1
        person.refresh_from_db()
        assert (person.occupation, person.version) == ("教师", 2)
        page = text(client.get(second.url))
        assert "已被他人修改" not in page

    def test_with_a_photo_the_photo_is_saved_once(self, client, collector_a, village_a):
        person = PersonFactory(township=village_a.township, village=village_a)
        client.force_login(collector_a)
        url = reverse("roster:person-verify", args=[person.pk])
        data = self.form(person)
        responses = []
        for _ in range(2):
            photo = SimpleUploadedFile("me.jpg", photo_bytes(), "image/jpeg")
            responses.append(client.post(url, {**data, "photo_upload": photo}))
        assert [r.status_code for r in responses] == [302, 302]
        assert AuditEvent.objects.filter(action="roster.person.photo_uploaded").count() == 1
        assert AuditEvent.objects.filter(action="roster.person.verified").count() == 1

    def test_another_clerks_save_in_between_is_still_a_conflict(
        self, client, collector_a, clerk_a, village_a
    ):
        person = PersonFactory(township=village_a.township, village=village_a)
        url = reverse("roster:person-verify", args=[person.pk])
        data = self.form(person, occupation="教师")
        client.force_login(clerk_a)
        assert client.post(url, data).status_code == 302
        client.force_login(collector_a)
        second = client.post(url, data)
        assert second.status_code == 409 and "已被他人修改" in text(second)
        assert AuditEvent.objects.filter(action="roster.person.verified").count() == 1

    def test_the_same_clerk_sending_other_values_on_an_old_page_is_a_conflict(
        self, client, collector_a, village_a
    ):
        person = PersonFactory(township=village_a.township, village=village_a)
        client.force_login(collector_a)
        url = reverse("roster:person-verify", args=[person.pk])
        assert client.post(url, self.form(person, occupation="教师")).status_code == 302
        second = client.post(url, self.form(person, occupation="医生"))
        assert second.status_code == 409
        person.refresh_from_db()
        assert person.occupation == "教师"


def test_a_handover_is_made_once(client, county_admin, township_a, village_a):
    box = stock_box(village_a, 3)
    client.force_login(county_admin)
    data = {
        "receiver": f"township:{township_a.code}",
        "sender_person": "赵库管",
        "receiver_person": "李接收",
        "location": "金碧镇社保中心档案室",
        "card_numbers": "\n".join(c.card_number for c in box),
        "note": "",
    }
    first, second = twice(client, reverse("issuance:handover-create"), data)
    assert Handover.objects.count() == 1
    handed = LedgerEntry.objects.filter(event=LedgerEvent.HANDED_OVER)
    assert handed.count() == 3
    assert Handover.objects.get().number in text(second)  # names the sheet the cards are on


class TestAtTheCounter:
    @pytest.fixture
    def made(self, client, banker_a, village_a):
        person = ready_person(village_a)
        card_make_instant(person=person, card_number="M20261129", acting_user=banker_a)
        client.force_login(banker_a)
        client.post(reverse("activation:counter"), {"q": person.id_number})
        return person

    def url(self, person, name) -> str:
        return reverse(f"activation:{name}", kwargs={"pk": person.pk})

    def test_issued_once(self, client, made):
        data = {"signee": made.name, "identity_checked": "on"}
        twice(client, self.url(made, "counter-issue"), data)
        assert LedgerEntry.objects.filter(event=LedgerEvent.ISSUED).count() == 1
        assert Card.objects.get(person=made).status == CardStatus.ISSUED

    def test_activated_once(self, client, made):
        client.post(
            self.url(made, "counter-issue"), {"signee": made.name, "identity_checked": "on"}
        )
        data = {"face_to_face": "on", "identity_checked": "on"}
        twice(client, self.url(made, "counter-activate"), data)
        assert LedgerEntry.objects.filter(event=LedgerEvent.ACTIVATED).count() == 1
        assert Activation.objects.count() == 1


def test_a_batch_is_created_once(client, clerk_a, village_a, branch_a):
    person = ready_person(village_a)
    client.force_login(clerk_a)
    data = {"bank": branch_a.bank.pk, "person": [person.pk]}
    twice(client, reverse("issuance:batch-create"), data)
    assert ApplicationBatch.objects.count() == 1
    assert LedgerEntry.objects.filter(event=LedgerEvent.APPLIED).count() == 1


def test_an_issue_at_the_township_is_recorded_once(
    client, clerk_a, county_admin, branch_a, person_a
):
    card = stock_card(person=person_a, branch=branch_a, user=county_admin, number="M20000001")
    client.force_login(clerk_a)
    data = {
        "method": "window",
        "place": "金碧镇社保中心",
        "signee": person_a.name,
        "identity_checked": "on",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    twice(client, reverse("issuance:card-issue", args=[card.pk]), data)
    assert LedgerEntry.objects.filter(card=card, event=LedgerEvent.ISSUED).count() == 1
