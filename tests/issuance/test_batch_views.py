"""批量制卡 pages: who may open and use them, and what they show."""

import io
import zipfile

import pytest
from django.urls import reverse

from dayao_sscard.models import AuditEvent
from issuance.models import ApplicationBatch, BatchStatus, Card, CardStatus, MemberOutcome
from issuance.services import card_record_event
from roster.models import VitalStatus

from .batchdata import RESULT_XLSX, bank, fixture_persons, make_batch, ready_person


@pytest.fixture
def batch_a(clerk_a, village_a):
    return make_batch(clerk_a, [ready_person(village_a, name="甲一", photo=True)])


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.django_db
class TestBatchList:
    def test_it_lists_the_townships_batches_only(
        self, client, clerk_a, clerk_b, batch_a, village_b
    ):
        other = make_batch(clerk_b, [ready_person(village_b)])
        page = signed_in(client, clerk_a).get(reverse("issuance:batch-list")).content.decode()
        assert batch_a.number in page and other.number not in page
        assert "新建申领批次" in page

    def test_a_supervisor_reads_every_batch_without_the_button(
        self, client, supervisor, batch_a, clerk_b, village_b
    ):
        other = make_batch(clerk_b, [ready_person(village_b)])
        page = signed_in(client, supervisor).get(reverse("issuance:batch-list")).content.decode()
        assert batch_a.number in page and other.number in page
        assert "新建申领批次" not in page

    @pytest.mark.parametrize("persona", ["collector_a", "banker_a"])
    def test_collectors_and_banks_have_no_batch_pages(self, client, request, persona):
        user = request.getfixturevalue(persona)
        assert signed_in(client, user).get(reverse("issuance:batch-list")).status_code == 403
        home = client.get(reverse("home")).content.decode()
        assert "批量制卡" not in home

    def test_the_menu_names_it_for_the_township(self, client, clerk_a):
        assert "批量制卡" in signed_in(client, clerk_a).get(reverse("home")).content.decode()


@pytest.mark.django_db
class TestMakingABatchOnThePage:
    def test_the_page_lists_the_ready_persons_of_the_township(
        self, client, clerk_a, village_a, village_a2, village_b
    ):
        here, there = ready_person(village_a, name="本村"), ready_person(village_a2, name="邻村")
        ready_person(village_b, name="外乡")
        ready_person(village_a, name="待核查人", verification_status="pending")
        url = reverse("issuance:batch-create")
        page = signed_in(client, clerk_a).get(url).content.decode()
        assert here.name in page and there.name in page
        assert "外乡" not in page and "待核查人" not in page
        assert here.id_number not in page and here.masked_id_number in page
        filtered = client.get(url, {"village": village_a2.pk}).content.decode()
        assert there.name in filtered and here.name not in filtered

    def test_ticked_persons_make_a_batch_and_refusals_are_named(
        self, client, clerk_a, village_a, fixed_clock
    ):
        good = ready_person(village_a, name="合格")
        incomplete = ready_person(village_a, name="缺地址", address="")
        response = signed_in(client, clerk_a).post(
            reverse("issuance:batch-create"),
            {"bank": bank().pk, "person": [good.pk, incomplete.pk]},
            follow=True,
        )
        batch = ApplicationBatch.objects.get()
        assert response.redirect_chain[-1][0] == reverse("issuance:batch-detail", args=[batch.pk])
        page = response.content.decode()
        assert f"已建立申领批次 {batch.number}，共 1 人" in page
        assert (
            f"未加入 缺地址（{incomplete.masked_id_number}）：资料不全：缺少住所地或工作单位地址"
            in page
        )

    def test_all_matching_takes_every_ready_person_of_the_filter(
        self, client, clerk_a, village_a, village_a2
    ):
        for n in range(3):
            ready_person(village_a, name=f"大河{n}")
        ready_person(village_a2, name="龙街")
        signed_in(client, clerk_a).post(
            reverse("issuance:batch-create"),
            {"bank": bank().pk, "village": village_a.pk, "all_matching": "on"},
        )
        batch = ApplicationBatch.objects.get()
        assert sorted(batch.members.values_list("person__name", flat=True)) == [
            "大河0",
            "大河1",
            "大河2",
        ]

    def test_a_clerk_cannot_post_persons_of_another_township_into_a_batch(
        self, client, clerk_a, village_b
    ):
        outsider = ready_person(village_b)
        response = signed_in(client, clerk_a).post(
            reverse("issuance:batch-create"), {"bank": bank().pk, "person": [outsider.pk]}
        )
        assert response.status_code == 200
        page = response.content.decode()
        assert "不在您的管辖范围内" in page
        assert outsider.name not in page and outsider.masked_id_number not in page
        assert not ApplicationBatch.objects.exists() and not Card.objects.exists()

    def test_a_township_clerk_cannot_choose_another_township(self, client, clerk_a, village_a):
        person = ready_person(village_a)
        response = signed_in(client, clerk_a).post(
            reverse("issuance:batch-create"),
            {"bank": bank().pk, "township": "532326102", "person": [person.pk]},
        )
        assert response.status_code == 302
        assert ApplicationBatch.objects.get().township == village_a.township

    def test_a_double_submission_makes_one_batch(self, client, clerk_a, village_a):
        person = ready_person(village_a)
        data = {"bank": bank().pk, "person": [person.pk]}
        signed_in(client, clerk_a).post(reverse("issuance:batch-create"), data)
        second = client.post(reverse("issuance:batch-create"), data).content.decode()
        assert ApplicationBatch.objects.count() == 1
        assert "已在申领批次" in second

    def test_the_county_chooses_a_township_or_the_whole_county(
        self, client, county_admin, village_a, village_b
    ):
        persons = [ready_person(village_a), ready_person(village_b)]
        page = signed_in(client, county_admin).get(reverse("issuance:batch-create")).content
        assert "全县（不限乡镇）" in page.decode()
        client.post(
            reverse("issuance:batch-create"),
            {"bank": bank().pk, "township": "", "person": [p.pk for p in persons]},
        )
        assert ApplicationBatch.objects.get().township is None

    def test_a_supervisor_may_not(self, client, supervisor):
        response = signed_in(client, supervisor).get(reverse("issuance:batch-create"))
        assert response.status_code == 403


@pytest.mark.django_db
class TestTheBatchPage:
    def test_it_shows_members_masked_with_the_actions_the_clerk_may_do(
        self, client, clerk_a, batch_a
    ):
        member = batch_a.members.get()
        page = signed_in(client, clerk_a).get(reverse("issuance:batch-detail", args=[batch_a.pk]))
        text = page.content.decode()
        assert member.person.masked_id_number in text and member.person.id_number not in text
        for action in ("下载制卡数据包", "标记为已报送银行", "移出"):
            assert action in text
        assert "导入银行回盘" not in text

    def test_a_supervisor_sees_it_without_actions(self, client, supervisor, batch_a):
        text = (
            signed_in(client, supervisor)
            .get(reverse("issuance:batch-detail", args=[batch_a.pk]))
            .content.decode()
        )
        assert batch_a.number in text
        for action in ("下载制卡数据包", "标记为已报送银行", "移出", "导入银行回盘"):
            assert action not in text

    def test_another_township_gets_404_everywhere(self, client, clerk_b, batch_a):
        signed_in(client, clerk_b)
        for name, method in (
            ("issuance:batch-detail", "get"),
            ("issuance:batch-result", "get"),
            ("issuance:batch-download", "post"),
            ("issuance:batch-send", "post"),
            ("issuance:batch-remove-member", "post"),
        ):
            url = reverse(name, args=[batch_a.pk])
            assert getattr(client, method)(url).status_code == 404, name
        batch_a.refresh_from_db()
        assert batch_a.status == BatchStatus.DRAFT
        assert not AuditEvent.objects.filter(action__endswith="file_downloaded").exists()

    def test_the_download_is_the_zip_and_is_audited(self, client, clerk_a, batch_a):
        person = batch_a.members.get().person
        response = signed_in(client, clerk_a).post(
            reverse("issuance:batch-download", args=[batch_a.pk])
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        assert "attachment" in response["Content-Disposition"]
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        assert f"照片/{person.id_number}.jpg" in archive.namelist()
        assert AuditEvent.objects.get(action__endswith="file_downloaded").note == "1行，照片1张"

    def test_sending_and_removing_from_the_page(self, client, clerk_a, village_a):
        stays, leaves = ready_person(village_a, name="留下"), ready_person(village_a, name="移出")
        batch = make_batch(clerk_a, [stays, leaves])
        signed_in(client, clerk_a)
        leaving = batch.members.get(person=leaves)
        client.post(
            reverse("issuance:batch-remove-member", args=[batch.pk]), {"member": leaving.pk}
        )
        leaving.refresh_from_db()
        assert leaving.outcome == MemberOutcome.REMOVED

        response = client.post(reverse("issuance:batch-send", args=[batch.pk]), follow=True)
        assert "已标记为已报送" in response.content.decode()
        assert batch.members.get(person=stays).card.status == CardStatus.IN_PRODUCTION
        again = client.post(reverse("issuance:batch-send", args=[batch.pk]), follow=True)
        assert "无需再次报送" in again.content.decode()

    def test_a_member_of_another_batch_is_not_found(self, client, clerk_a, batch_a, village_a):
        other = make_batch(clerk_a, [ready_person(village_a)])
        response = signed_in(client, clerk_a).post(
            reverse("issuance:batch-remove-member", args=[batch_a.pk]),
            {"member": other.members.get().pk},
        )
        assert response.status_code == 404


@pytest.mark.django_db
class TestTheResultPage:
    def test_the_upload_shows_what_it_did_and_every_row_it_could_not_use(
        self, client, clerk_a, village_a
    ):
        batch = make_batch(clerk_a, fixture_persons(village_a), send=True)
        with open(RESULT_XLSX, "rb") as upload:
            response = signed_in(client, clerk_a).post(
                reverse("issuance:batch-result", args=[batch.pk]), {"file": upload}
            )
        assert response.status_code == 200
        text = response.content.decode()
        assert "制卡失败（已退回核查）" in text
        assert "第 7 行" in text and "该身份证号码不在本批次中" in text
        assert "第 8 行" in text and "科学计数法" in text
        assert "53232619950214006X" not in text
        later = client.get(reverse("issuance:batch-result", args=[batch.pk])).content.decode()
        assert "上次导入：result_with_failures.xlsx" in later and "第 8 行" in later

    def test_a_broken_upload_is_refused_in_chinese(self, client, clerk_a, village_a):
        batch = make_batch(clerk_a, [ready_person(village_a)], send=True)
        upload = io.BytesIO(b"\xd0\xcf\x11\xe0 broken")
        upload.name = "回盘.xls"
        response = signed_in(client, clerk_a).post(
            reverse("issuance:batch-result", args=[batch.pk]), {"file": upload}
        )
        assert response.status_code == 400
        assert "文件无法打开" in response.content.decode()
        assert batch.members.get().card.status == CardStatus.IN_PRODUCTION

    def test_a_supervisor_may_not_import(self, client, supervisor, clerk_a, village_a):
        batch = make_batch(clerk_a, [ready_person(village_a)], send=True)
        response = signed_in(client, supervisor).post(
            reverse("issuance:batch-result", args=[batch.pk])
        )
        assert response.status_code == 403


@pytest.mark.django_db
def test_the_person_page_and_the_queue_show_the_banks_reason(client, clerk_a, village_a):
    persons = fixture_persons(village_a)
    batch = make_batch(clerk_a, persons, send=True)
    signed_in(client, clerk_a)
    with open(RESULT_XLSX, "rb") as upload:
        client.post(reverse("issuance:batch-result", args=[batch.pk]), {"file": upload})
    failed = next(p for p in persons if p.name == "杜秀英")
    queue = client.get(reverse("roster:work-queue")).content.decode()
    assert "杜秀英" in queue and "照片不合格：背景不是白色" in queue
    assert "陈建国" not in queue
    person_page = client.get(reverse("roster:person-detail", args=[failed.pk])).content.decode()
    assert "制卡失败，已退回核查" in person_page and "照片不合格：背景不是白色" in person_page
    verify_page = client.get(reverse("roster:person-verify", args=[failed.pk])).content.decode()
    assert "上次制卡失败" in verify_page


@pytest.mark.django_db
def test_a_death_after_the_batch_was_sent_is_reported_not_made(client, clerk_a, village_a):
    persons = fixture_persons(village_a)
    batch = make_batch(clerk_a, persons, send=True)
    first = persons[0]
    first.vital_status, first.death_date = VitalStatus.DECEASED, first.created_at.date()
    first.save()
    card = batch.members.get(person=first).card
    card_record_event(card=card, event="cancelled", acting_user=clerk_a, note="持卡人已死亡")
    with open(RESULT_XLSX, "rb") as upload:
        response = signed_in(client, clerk_a).post(
            reverse("issuance:batch-result", args=[batch.pk]), {"file": upload}
        )
    assert "该人员的社保卡当前为“已注销”，未处理" in response.content.decode()
