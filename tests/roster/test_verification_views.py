"""Work queue, verification form, photos, deceased persons and progress — with personas."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dayao_sscard.models import AuditEvent
from issuance.models import CancellationRequest, CardStatus
from issuance.services import card_create
from roster.models import Person, VerificationStatus
from tests.factories import PersonFactory, classify
from tests.roster.photos import photo_bytes

# The form's ID card is valid until 2035 and deaths are dated 2026: both against one today.
pytestmark = pytest.mark.usefixtures("fixed_clock")


def verify_url(person):
    return reverse("roster:person-verify", args=[person.pk])


def form_data(person, **changes):
    data = {
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
    }
    data.update(changes)
    return data


@pytest.fixture
def queue(village_a, village_a2):
    """Three people of 金碧镇 waiting for verification, one of them in another village."""
    return [
        PersonFactory(township=village_a.township, village=village_a, name=name, card_class=cls)
        for name, cls in (("甲", "no_card_info"), ("乙", "card_failed"))
    ] + [
        PersonFactory(
            township=village_a2.township, village=village_a2, name="丙", card_class="no_card_info"
        )
    ]


@pytest.mark.django_db
class TestWorkQueue:
    url = reverse("roster:work-queue")

    def test_collector_sees_only_own_village_grouped_by_what_is_missing(
        self, client, collector_a, queue
    ):
        client.force_login(collector_a)
        response = client.get(self.url)
        assert response.status_code == 200
        assert {p.name for p in response.context["page"]} == {"甲", "乙"}
        # Both lack validity dates and a photo: each is listed under both elements.
        groups = response.context["groups"]
        assert groups == {"id_validity": 2, "photo": 2}

    def test_clerk_sees_the_township(self, client, clerk_a, queue):
        client.force_login(clerk_a)
        assert {p.name for p in client.get(self.url).context["page"]} == {"甲", "乙", "丙"}

    def test_clerk_of_another_township_sees_none(self, client, clerk_b, queue):
        client.force_login(clerk_b)
        assert list(client.get(self.url).context["page"]) == []

    def test_deceased_and_card_holders_are_not_in_the_queue(self, client, clerk_a, queue):
        Person.objects.filter(name="甲").update(vital_status="deceased", death_date="2026-01-01")
        classify(Person.objects.get(name="乙"), "card_made")
        client.force_login(clerk_a)
        assert [p.name for p in client.get(self.url).context["page"]] == ["丙"]


@pytest.mark.django_db
class TestVerify:
    def test_collector_completes_a_person_with_photo_and_moves_to_the_next(
        self, client, collector_a, queue
    ):
        first, second, _ = queue
        client.force_login(collector_a)
        data = form_data(
            first, photo_upload=SimpleUploadedFile("me.jpg", photo_bytes(), "image/jpeg")
        )
        data["next"] = "1"
        response = client.post(verify_url(first), data)
        assert response.status_code == 302
        assert response.url == verify_url(second)
        first.refresh_from_db()
        assert first.verification_status == VerificationStatus.READY
        assert first.photo and first.photo_thumbnail
        assert first.verified_by == collector_a
        actions = set(
            AuditEvent.objects.filter(object_id=str(first.pk)).values_list("action", flat=True)
        )
        assert actions == {"roster.person.verified", "roster.person.photo_uploaded"}

    def test_missing_elements_keep_the_person_pending_and_are_named(self, client, clerk_a, queue):
        first = queue[0]
        client.force_login(clerk_a)
        client.post(verify_url(first), form_data(first, occupation=""))
        first.refresh_from_db()
        assert first.verification_status == VerificationStatus.PENDING
        body = client.get(verify_url(first)).content.decode()
        assert "缺少职业" in body and "缺少照片" in body

    def test_a_bad_photo_is_refused_with_its_reason_and_nothing_saved(self, client, clerk_a, queue):
        first = queue[0]
        client.force_login(clerk_a)
        landscape = SimpleUploadedFile("wide.jpg", photo_bytes(width=800, height=600), "image/jpeg")
        response = client.post(
            verify_url(first), form_data(first, occupation="务工", photo_upload=landscape)
        )
        assert response.status_code == 200
        assert "竖版证件照" in response.content.decode()
        first.refresh_from_db()
        assert not first.photo and first.occupation == "农民" and first.version == 1

    def test_unreachable_with_reason(self, client, clerk_a, queue):
        first = queue[0]
        client.force_login(clerk_a)
        client.post(
            verify_url(first),
            form_data(first, unreachable_reason="working_elsewhere", unreachable_note="在昆明务工"),
        )
        first.refresh_from_db()
        assert (first.verification_status, first.unreachable_reason) == (
            "unreachable",
            "working_elsewhere",
        )

    def test_two_collectors_at_once_do_not_overwrite_each_other(
        self, client, clerk_a, collector_a, queue
    ):
        first = queue[0]
        stale = form_data(first, occupation="务工")
        client.force_login(collector_a)
        assert client.post(verify_url(first), form_data(first, address="新地址")).status_code == 302
        client.force_login(clerk_a)
        response = client.post(verify_url(first), stale)
        assert response.status_code == 409
        assert "已被他人修改" in response.content.decode()
        assert "务工" in response.content.decode()
        first.refresh_from_db()
        assert first.address == "新地址" and first.occupation == "农民"

    def test_collector_of_another_village_gets_404(self, client, collector_a, queue):
        other = queue[2]
        client.force_login(collector_a)
        assert client.get(verify_url(other)).status_code == 404
        assert client.post(verify_url(other), form_data(other)).status_code == 404

    def test_supervisor_sees_but_cannot_change(self, client, supervisor, queue):
        client.force_login(supervisor)
        assert client.get(reverse("roster:person-detail", args=[queue[0].pk])).status_code == 200
        assert client.get(verify_url(queue[0])).status_code == 403
        assert client.post(verify_url(queue[0]), form_data(queue[0])).status_code == 403

    def test_clerk_of_another_township_gets_404(self, client, clerk_b, queue):
        client.force_login(clerk_b)
        assert client.get(verify_url(queue[0])).status_code == 404


@pytest.mark.django_db
class TestPhotoAccess:
    @pytest.fixture
    def with_photo(self, client, clerk_a, queue):
        client.force_login(clerk_a)
        data = form_data(
            queue[0], photo_upload=SimpleUploadedFile("me.jpg", photo_bytes(), "image/jpeg")
        )
        client.post(verify_url(queue[0]), data)
        client.logout()
        return queue[0]

    def url(self, person, size="thumb"):
        return reverse("roster:person-photo", args=[person.pk, size])

    def test_in_scope_users_get_it_privately(self, client, collector_a, supervisor, with_photo):
        for user in (collector_a, supervisor):
            client.force_login(user)
            response = client.get(self.url(with_photo))
            assert response.status_code == 200
            assert response["Content-Type"] == "image/jpeg"
            assert "no-store" in response["Cache-Control"]

    def test_out_of_scope_users_get_404(self, client, clerk_b, banker_a, with_photo):
        for user in (clerk_b, banker_a):
            client.force_login(user)
            assert client.get(self.url(with_photo, "full")).status_code == 404

    def test_anonymous_is_sent_to_login(self, client, with_photo):
        assert client.get(self.url(with_photo)).status_code == 302

    def test_the_file_is_outside_the_web_root(self, with_photo, settings):
        with_photo.refresh_from_db()
        assert str(settings.MEDIA_ROOT) in with_photo.photo.path
        assert not settings.MEDIA_URL or settings.MEDIA_URL in ("/", "")


@pytest.mark.django_db
class TestDeceased:
    def mark(self, client, person, **data):
        payload = {"death_date": "2026-10-01", "source": "村委会报告", "note": "死亡证明已核"}
        payload.update(data)
        return client.post(reverse("roster:person-mark-deceased", args=[person.pk]), payload)

    def test_marking_leaves_the_queue_cancels_the_card_and_is_audited(
        self, client, clerk_a, county_admin, branch_a, queue
    ):
        person = queue[0]
        card = card_create(person=person, bank=branch_a.bank, acting_user=county_admin)
        client.force_login(clerk_a)
        assert self.mark(client, person).status_code == 302
        person.refresh_from_db()
        assert person.is_deceased and person.death_date == datetime.date(2026, 10, 1)
        request = CancellationRequest.objects.get(card=card)
        assert request.status == "pending" and "持卡人已死亡" in request.reason
        assert person not in client.get(reverse("roster:work-queue")).context["page"]
        event = AuditEvent.objects.get(action="roster.person.marked_deceased")
        assert event.before["vital_status"] == "alive" and event.after["vital_status"] == "deceased"
        with pytest.raises(Exception, match="已登记死亡"):
            card_create(person=person, bank=branch_a.bank, acting_user=county_admin)
        assert client.get(verify_url(person)).status_code == 302

    def test_undo_needs_a_reason_and_withdraws_the_cancellation(
        self, client, clerk_a, county_admin, branch_a, queue
    ):
        person = queue[0]
        card = card_create(person=person, bank=branch_a.bank, acting_user=county_admin)
        client.force_login(clerk_a)
        self.mark(client, person)
        undo = reverse("roster:person-undo-deceased", args=[person.pk])
        client.post(undo, {"reason": ""})
        person.refresh_from_db()
        assert person.is_deceased
        client.post(undo, {"reason": "同名误报，本人健在"})
        person.refresh_from_db()
        assert not person.is_deceased and person.death_date is None
        assert CancellationRequest.objects.get(card=card).status == "withdrawn"
        assert card.__class__.objects.get(pk=card.pk).status == CardStatus.APPLIED
        event = AuditEvent.objects.get(action="roster.person.deceased_undone")
        assert event.note == "同名误报，本人健在"

    def test_the_persons_page_shows_the_card_queued_and_withdrawn(
        self, client, clerk_a, county_admin, branch_a, queue
    ):
        person = queue[0]
        card_create(person=person, bank=branch_a.bank, acting_user=county_admin)
        client.force_login(clerk_a)
        self.mark(client, person)
        page = reverse("roster:person-detail", args=[person.pk])
        html = client.get(page).content.decode()
        assert 'data-testid="cancellation-pending"' in html
        history = html[html.index('data-testid="history"') :]
        assert "申请注销社保卡" in history and "持卡人已死亡" in history
        client.post(reverse("roster:person-undo-deceased", args=[person.pk]), {"reason": "误报"})
        html = client.get(page).content.decode()
        assert 'data-testid="cancellation-pending"' not in html
        assert "撤回社保卡注销申请" in html[html.index('data-testid="history"') :]

    def test_future_death_date_is_refused(self, client, clerk_a, queue):
        client.force_login(clerk_a)
        self.mark(client, queue[0], death_date="2099-01-01")
        queue[0].refresh_from_db()
        assert not queue[0].is_deceased

    def test_supervisor_may_not(self, client, supervisor, queue):
        client.force_login(supervisor)
        assert self.mark(client, queue[0]).status_code == 403

    def test_other_township_gets_404(self, client, clerk_b, queue):
        client.force_login(clerk_b)
        assert self.mark(client, queue[0]).status_code == 404


@pytest.mark.django_db
class TestProgress:
    url = reverse("roster:progress")

    def test_counts_per_village(self, client, clerk_a, queue):
        Person.objects.filter(name="甲").update(
            verification_status="unreachable", unreachable_reason="moved_away"
        )
        client.force_login(clerk_a)
        rows = {r["village__name"]: r for r in client.get(self.url).context["rows"]}
        assert rows["大河社区"]["in_scope"] == 2 and rows["大河社区"]["pending"] == 1
        assert rows["大河社区"]["unreachable_moved_away"] == 1
        assert rows["龙街村委会"]["pending"] == 1

    def test_other_township_sees_nothing_of_it(self, client, clerk_b, queue):
        client.force_login(clerk_b)
        assert client.get(self.url).context["rows"] == []

    def test_supervisor_sees_all(self, client, supervisor, queue):
        client.force_login(supervisor)
        assert client.get(self.url).context["totals"]["in_scope"] == 3


@pytest.mark.django_db
class TestStockCards:
    url = reverse("issuance:stock-cards")

    @pytest.fixture
    def old_stock(self, county_admin, branch_a, person_a, person_b, branch_b):
        from issuance.models import Card, LedgerEvent
        from issuance.services import card_record_event

        cards = []
        for person, branch in ((person_a, branch_a), (person_b, branch_b)):
            card = card_create(
                person=person,
                bank=branch.bank,
                acting_user=county_admin,
                occurred_at=datetime.datetime(2024, 12, 1, tzinfo=datetime.UTC),
            )
            card = card_record_event(
                card=card,
                event=LedgerEvent.PRODUCED,
                acting_user=county_admin,
                occurred_at=datetime.datetime(2025, 1, 5, tzinfo=datetime.UTC),
            )
            cards.append(card)
        assert Card.objects.filter(status="in_stock").count() == 2
        return cards

    def test_bank_staff_see_their_branch_only(self, client, banker_a, old_stock):
        client.force_login(banker_a)
        response = client.get(self.url)
        assert [c.person.name for c in response.context["page"]] == [old_stock[0].person.name]

    def test_clerk_sees_own_township(self, client, clerk_b, old_stock):
        client.force_login(clerk_b)
        assert [c.pk for c in client.get(self.url).context["page"]] == [old_stock[1].pk]

    def test_recent_stock_is_not_listed(
        self, client, supervisor, county_admin, branch_a, person_a2
    ):
        card_create(person=person_a2, bank=branch_a.bank, acting_user=county_admin)
        client.force_login(supervisor)
        assert list(client.get(self.url).context["page"]) == []


@pytest.mark.django_db(transaction=True)
def test_the_photo_file_survives_the_commit_and_a_replaced_one_is_removed(client, clerk_a, queue):
    """on_commit runs for real here: the new photo must stay, the old one must go."""
    person = queue[0]
    client.force_login(clerk_a)
    client.post(
        verify_url(person),
        form_data(person, photo_upload=SimpleUploadedFile("a.jpg", photo_bytes(), "image/jpeg")),
    )
    person.refresh_from_db()
    first = person.photo.path
    assert person.photo.storage.exists(person.photo.name)
    client.post(
        verify_url(person),
        form_data(
            person,
            photo_upload=SimpleUploadedFile("b.jpg", photo_bytes(color=(10, 20, 30)), "image/jpeg"),
        ),
    )
    person.refresh_from_db()
    assert person.photo.storage.exists(person.photo.name)
    assert person.photo_thumbnail.storage.exists(person.photo_thumbnail.name)
    assert person.photo.path != first
    import os

    assert not os.path.exists(first)
    response = client.get(reverse("roster:person-photo", args=[person.pk, "thumb"]))
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["supervisor", "banker_a"])
def test_queue_and_verify_are_for_collection_roles_only(client, request, persona, queue):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("roster:work-queue")).status_code == 403
    assert client.get(verify_url(queue[0])).status_code == 403


@pytest.mark.django_db
def test_progress_has_a_subtotal_per_township(client, supervisor, queue):
    client.force_login(supervisor)
    townships = client.get(reverse("roster:progress")).context["townships"]
    assert [(t["name"], t["in_scope"], len(t["villages"])) for t in townships] == [("金碧镇", 3, 2)]
