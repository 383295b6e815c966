"""Person pages with every persona: one who may, one who may not, one of another township."""

import pytest
from django.urls import reverse
from django.utils import timezone

from dayao_sscard.models import AuditEvent, Job, JobStatus
from issuance.models import Card, CardStatus, LedgerEntry, LedgerEvent
from roster.models import Category, Person, PersonCategory
from tests.factories import BankFactory, classify


def detail(person):
    return reverse("roster:person-detail", args=[person.pk])


def edit(person):
    return reverse("roster:person-edit", args=[person.pk])


def reveal(person):
    return reverse("roster:person-reveal-id", args=[person.pk])


@pytest.mark.django_db
class TestPersonList:
    url = reverse("roster:person-list")

    def test_it_requires_login(self, client):
        response = client.get(self.url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))

    def test_township_clerk_sees_only_own_township(self, client, clerk_a, person_a, person_b):
        client.force_login(clerk_a)
        response = client.get(self.url)
        assert response.status_code == 200
        names = [p.name for p in response.context["page"]]
        assert names == [person_a.name]

    def test_ids_are_masked_in_the_list(self, client, clerk_a, person_a):
        client.force_login(clerk_a)
        body = client.get(self.url).content.decode()
        assert person_a.id_number not in body
        assert person_a.masked_id_number in body

    def test_supervisor_sees_the_whole_county(self, client, supervisor, person_a, person_b):
        client.force_login(supervisor)
        response = client.get(self.url)
        assert {p.name for p in response.context["page"]} == {person_a.name, person_b.name}

    def test_collector_sees_only_own_village(self, client, collector_a, person_a, person_a2):
        client.force_login(collector_a)
        response = client.get(self.url)
        assert [p.name for p in response.context["page"]] == [person_a.name]

    def test_bank_staff_see_only_holders_of_their_branch(
        self, client, banker_a, person_a, person_b
    ):
        client.force_login(banker_a)
        assert list(client.get(self.url).context["page"]) == []

    @pytest.mark.parametrize(
        "query_of",
        [
            lambda p: p.name[:2],
            lambda p: p.id_number,
            lambda p: p.id_number[-6:],
            lambda p: "\u3000" + p.id_number.lower() + " ",
            lambda p: p.village.name,
        ],
    )
    def test_search_by_name_id_or_village(self, client, clerk_a, person_a, person_a2, query_of):
        client.force_login(clerk_a)
        response = client.get(self.url, {"q": query_of(person_a)})
        assert person_a in list(response.context["page"])

    def test_search_by_id_cannot_reach_another_township(self, client, clerk_a, person_b):
        client.force_login(clerk_a)
        response = client.get(self.url, {"q": person_b.id_number})
        assert list(response.context["page"]) == []

    def test_filters_by_class_and_village(self, client, clerk_a, person_a, person_a2):
        classify(person_a, "card_failed")
        client.force_login(clerk_a)
        response = client.get(self.url, {"card_class": "card_failed"})
        assert list(response.context["page"]) == [Person.objects.get(pk=person_a.pk)]
        response = client.get(self.url, {"village": str(person_a2.village_id)})
        assert [p.pk for p in response.context["page"]] == [person_a2.pk]


@pytest.mark.django_db
class TestPersonDetail:
    def test_clerk_of_the_township_sees_the_person(self, client, clerk_a, person_a):
        client.force_login(clerk_a)
        response = client.get(detail(person_a))
        assert response.status_code == 200
        assert person_a.masked_id_number in response.content.decode()
        assert person_a.id_number not in response.content.decode()

    def test_clerk_of_another_township_gets_404(self, client, clerk_b, person_a):
        client.force_login(clerk_b)
        assert client.get(detail(person_a)).status_code == 404

    def test_collector_of_another_village_gets_404(self, client, collector_a, person_a2):
        client.force_login(collector_a)
        assert client.get(detail(person_a2)).status_code == 404

    def test_bank_staff_without_the_card_get_404(self, client, banker_a, person_a):
        client.force_login(banker_a)
        assert client.get(detail(person_a)).status_code == 404

    def test_supervisor_sees_without_edit_or_reveal(self, client, supervisor, person_a):
        client.force_login(supervisor)
        body = client.get(detail(person_a)).content.decode()
        assert "显示完整号码" not in body
        assert "修改联系信息" not in body

    ACTIONS = ("核查/采集信息", "修改联系信息", "登记死亡", "显示完整号码", "人员类别")

    @pytest.mark.parametrize(
        "persona, offered",
        [
            ("clerk_a", {"核查/采集信息", "修改联系信息", "登记死亡", "显示完整号码", "人员类别"}),
            (
                "collector_a",
                {"核查/采集信息", "修改联系信息", "登记死亡", "显示完整号码", "人员类别"},
            ),
            ("banker_a", {"显示完整号码"}),
            ("supervisor", {"人员类别"}),
        ],
    )
    def test_the_page_offers_only_the_actions_the_persona_may_take(
        self, client, request, branch_a, person_a, persona, offered
    ):
        Card.objects.create(person=person_a, bank=branch_a.bank)
        client.force_login(request.getfixturevalue(persona))
        body = client.get(detail(person_a)).content.decode()
        assert {action for action in self.ACTIONS if action in body} == offered

    def test_history_shows_audited_changes(self, client, clerk_a, person_a):
        client.force_login(clerk_a)
        client.post(edit(person_a), {"phone": "13911112222", "address": "新地址", "version": 1})
        response = client.get(detail(person_a))
        assert [item["event"].action for item in response.context["history"]] == [
            "roster.person.updated"
        ]


@pytest.mark.django_db
class TestTheCardsOnThePersonPage:
    """A bank clerk reaches the holder through the branch's card, and sees that card only."""

    @pytest.fixture
    def holder(self, clerk_a, branch_a, person_a):
        """The branch's old card, cancelled; a new one made for another bank, in its stock."""
        Card.objects.create(person=person_a, bank=branch_a.bank, status=CardStatus.CANCELLED)
        new = Card.objects.create(
            person=person_a,
            bank=BankFactory(name="中国邮政储蓄银行", short_name="邮储"),
            status=CardStatus.IN_STOCK,
            card_number="Y11110000",
        )
        LedgerEntry.objects.create(
            card=new,
            sequence=1,
            event=LedgerEvent.RECEIVED,
            status_before=CardStatus.IN_TRANSIT,
            status_after=CardStatus.IN_STOCK,
            to_party="石羊信用社库房",
            occurred_at=timezone.now(),
            recorded_by=clerk_a,
        )
        return person_a

    def test_the_township_clerk_sees_every_card_and_its_ledger(self, client, clerk_a, holder):
        client.force_login(clerk_a)
        body = client.get(detail(holder)).content.decode()
        assert "Y11110000" in body and "石羊信用社库房" in body

    def test_a_bank_clerk_sees_only_the_branchs_card(self, client, banker_a, branch_a, holder):
        client.force_login(banker_a)
        response = client.get(detail(holder))
        assert response.status_code == 200
        assert [card.bank for card in response.context["cards"]] == [branch_a.bank]
        body = response.content.decode()
        assert "Y11110000" not in body and "石羊信用社库房" not in body

    def test_the_api_answers_with_the_card_the_caller_reaches(self, client, banker_a, holder):
        client.force_login(banker_a)
        url = reverse("api:person-detail", args=[holder.id_number])
        assert client.get(url).json()["card"]["status"] == CardStatus.CANCELLED


@pytest.mark.django_db
class TestPersonEdit:
    def form(self, person, **changes):
        data = {
            "phone": person.phone,
            "address": person.address,
            "occupation": person.occupation,
            "group_name": person.group_name,
            "version": person.version,
        }
        data.update(changes)
        return data

    def test_clerk_saves_and_the_change_is_audited(self, client, clerk_a, person_a):
        client.force_login(clerk_a)
        response = client.post(edit(person_a), self.form(person_a, phone="139 1234 5678"))
        assert response.status_code == 302
        person_a.refresh_from_db()
        assert person_a.phone == "13912345678"
        assert person_a.version == 2
        event = AuditEvent.objects.get(action="roster.person.updated")
        assert event.actor == clerk_a
        assert event.before == {"phone": "13887654321"}
        assert event.after == {"phone": "13912345678"}
        assert event.township_id == person_a.township_id

    def test_invalid_phone_is_refused_in_chinese(self, client, clerk_a, person_a):
        client.force_login(clerk_a)
        response = client.post(edit(person_a), self.form(person_a, phone="12345"))
        assert response.status_code == 200
        assert "联系电话格式不正确" in response.content.decode()
        person_a.refresh_from_db()
        assert person_a.phone == "13887654321"

    def test_supervisor_may_not_change(self, client, supervisor, person_a):
        client.force_login(supervisor)
        assert client.get(edit(person_a)).status_code == 403
        response = client.post(edit(person_a), self.form(person_a, phone="13912345678"))
        assert response.status_code == 403
        assert not AuditEvent.objects.exists()

    def test_clerk_of_another_township_gets_404(self, client, clerk_b, person_a):
        client.force_login(clerk_b)
        response = client.post(edit(person_a), self.form(person_a, phone="13912345678"))
        assert response.status_code == 404
        person_a.refresh_from_db()
        assert person_a.phone == "13887654321"

    def test_two_clerks_at_once_do_not_overwrite_each_other(self, client, clerk_a, person_a):
        client.force_login(clerk_a)
        first = self.form(person_a, phone="13900000001")
        second = self.form(person_a, address="后来者的地址")
        assert client.post(edit(person_a), first).status_code == 302
        response = client.post(edit(person_a), second)
        assert response.status_code == 409
        assert "已被他人修改" in response.content.decode()
        person_a.refresh_from_db()
        assert person_a.phone == "13900000001"
        assert person_a.address != "后来者的地址"
        # The second clerk's input is kept on the page to resubmit.
        assert "后来者的地址" in response.content.decode()


@pytest.mark.django_db
class TestRevealIdNumber:
    def test_clerk_sees_the_full_number_and_it_is_recorded(self, client, clerk_a, person_a):
        client.force_login(clerk_a)
        response = client.post(reveal(person_a))
        assert response.status_code == 200
        assert person_a.id_number in response.content.decode()
        event = AuditEvent.objects.get(action="roster.person.id_number_viewed")
        assert event.actor == clerk_a and event.object_id == str(person_a.pk)

    def test_supervisor_may_not_see_the_full_number(self, client, supervisor, person_a):
        client.force_login(supervisor)
        assert client.post(reveal(person_a)).status_code == 403
        assert not AuditEvent.objects.exists()

    def test_clerk_of_another_township_gets_404(self, client, clerk_b, person_a):
        client.force_login(clerk_b)
        assert client.post(reveal(person_a)).status_code == 404

    def test_get_is_not_allowed(self, client, clerk_a, person_a):
        client.force_login(clerk_a)
        assert client.get(reveal(person_a)).status_code == 405


@pytest.mark.django_db
class TestPersonExport:
    url = reverse("roster:person-export")

    def run_export(self, client, user, django_capture_on_commit_callbacks, **filters):
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(self.url, filters)
        assert response.status_code == 302
        return Job.objects.get()

    def read_rows(self, job):
        import openpyxl

        with job.result_file.open("rb") as handle:
            sheet = openpyxl.load_workbook(handle, read_only=True).active
            return [row for row in sheet.iter_rows(values_only=True)]

    def test_clerk_exports_own_township_with_full_ids(
        self, client, clerk_a, person_a, person_b, django_capture_on_commit_callbacks
    ):
        job = self.run_export(client, clerk_a, django_capture_on_commit_callbacks)
        assert job.status == JobStatus.SUCCEEDED
        assert job.counts == {"导出人数": 1}
        assert job.result_name.startswith("人员名单_")
        rows = self.read_rows(job)
        assert rows[0][0] == "序号"
        assert [r[4] for r in rows[1:]] == [person_a.name]
        assert rows[1][7] == person_a.id_number
        assert AuditEvent.objects.filter(action="roster.person.list_exported").count() == 1

    def test_supervisor_export_is_masked(
        self, client, supervisor, person_a, person_b, django_capture_on_commit_callbacks
    ):
        job = self.run_export(client, supervisor, django_capture_on_commit_callbacks)
        rows = self.read_rows(job)
        assert {r[7] for r in rows[1:]} == {person_a.masked_id_number, person_b.masked_id_number}

    def test_export_applies_the_filters(
        self, client, clerk_a, person_a, person_a2, django_capture_on_commit_callbacks
    ):
        job = self.run_export(
            client, clerk_a, django_capture_on_commit_callbacks, village=str(person_a2.village_id)
        )
        assert [r[4] for r in self.read_rows(job)[1:]] == [person_a2.name]

    def test_a_bank_clerks_export_is_masked_and_without_membership(
        self, client, banker_a, branch_a, person_a, person_a2, django_capture_on_commit_callbacks
    ):
        Card.objects.create(person=person_a, bank=branch_a.bank)
        PersonCategory.objects.create(person=person_a2, category=Category.MINIMUM_LIVING)
        job = self.run_export(
            client, banker_a, django_capture_on_commit_callbacks, category="minimum_living"
        )
        rows = self.read_rows(job)
        # The 低保 filter is not the counter's to use: the branch's holder, not the 低保 list.
        assert [r[4] for r in rows[1:]] == [person_a.name]
        assert "所在名单" not in rows[0]
        assert rows[1][7] == person_a.masked_id_number and rows[1][8] == "138****4321"
        event = AuditEvent.objects.get(action="roster.person.list_exported")
        assert event.actor == banker_a
        assert event.after["rows"] == 1 and event.after["full_values"] is False
        assert "已脱敏的名单 1 人" in event.note

    def test_every_export_is_audited_with_its_row_count(
        self, client, supervisor, person_a, person_b, django_capture_on_commit_callbacks
    ):
        self.run_export(client, supervisor, django_capture_on_commit_callbacks)
        event = AuditEvent.objects.get(action="roster.person.list_exported")
        assert event.after["rows"] == 2 and event.after["with_categories"] is True

    def test_a_supervisor_cannot_download_anothers_full_export(
        self, client, clerk_a, supervisor, person_a, django_capture_on_commit_callbacks
    ):
        job = self.run_export(client, clerk_a, django_capture_on_commit_callbacks)
        client.force_login(supervisor)
        assert client.get(reverse("job-detail", args=[job.pk])).status_code == 200
        assert "job-result" not in client.get(reverse("job-detail", args=[job.pk])).content.decode()
        assert client.get(reverse("job-result", args=[job.pk])).status_code == 403

    def test_another_user_cannot_download_the_result(
        self, client, clerk_a, clerk_b, person_a, django_capture_on_commit_callbacks
    ):
        job = self.run_export(client, clerk_a, django_capture_on_commit_callbacks)
        client.force_login(clerk_b)
        assert client.get(reverse("job-result", args=[job.pk])).status_code == 404
        assert client.get(reverse("job-detail", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_history_is_in_chinese_and_masks_the_phone(client, clerk_a, supervisor, person_a):
    client.force_login(clerk_a)
    client.post(
        edit(person_a),
        {"phone": "13912345678", "address": person_a.address, "version": 1},
    )
    client.force_login(supervisor)
    body = client.get(detail(person_a)).content.decode()
    assert "修改人员" in body
    assert "联系电话：</span>138****4321 → 139****5678" in body
    assert "13912345678" not in body
    body = client.get(reverse("audit-list")).content.decode()
    assert "13912345678" not in body and "139****5678" in body
