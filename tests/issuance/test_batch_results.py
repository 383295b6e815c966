"""The bank's result for a batch (制卡回盘): made, failed, and every row it cannot use."""

import shutil

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dayao_sscard.models import AuditEvent
from issuance.batches import batch_result_import
from issuance.models import BatchStatus, Card, CardStatus, CustodyKind, LedgerEntry, MemberOutcome
from roster.models import Person, VerificationStatus
from roster.selectors import last_card_failure, work_queue
from tests.factories import UserFactory
from tests.roster.listfiles import write_csv, write_xlsx
from tests.roster.test_concurrent_imports import run_in_threads

from .batchdata import (
    NOT_IN_THE_BATCH,
    RESULT_GBK_CSV,
    RESULT_XLSX,
    fixture_persons,
    make_batch,
    ready_person,
)


@pytest.fixture
def persons(village_a):
    return {p.name: p for p in fixture_persons(village_a)}


@pytest.fixture
def sent(clerk_a, persons):
    return make_batch(clerk_a, list(persons.values()), send=True)


def run(batch, user, path, name=None):
    return batch_result_import(
        batch=batch, acting_user=user, path=path, original_name=name or path.name
    )


def outcomes(batch) -> dict[str, tuple]:
    return {
        m.person.name: (m.outcome, m.card.status, m.card.card_number, m.card.failure_reason)
        for m in batch.members.select_related("person", "card")
    }


def reasons(result) -> dict[int, str]:
    return {p["row"]: p["reason"] for p in result.problems}


@pytest.mark.django_db
class TestTheResult:
    def test_made_cards_are_in_stock_at_the_bank_and_failed_persons_back_in_the_queue(
        self, sent, clerk_a, persons
    ):
        result = run(sent, clerk_a, RESULT_XLSX)

        assert (result.rows_read, result.made, result.failed, result.unchanged) == (6, 2, 2, 0)
        assert outcomes(sent) == {
            "陈建国": ("made", "in_stock", "J00012341", ""),
            "杜秀英": ("failed", "failed", None, "照片不合格：背景不是白色"),
            "罗志华": ("made", "in_stock", "J00012343", ""),
            "王秀兰": ("failed", "failed", None, "证件已过期，请更新证件有效期"),
            "李文军": ("pending", "in_production", None, ""),
        }
        made = Card.objects.get(card_number="J00012341")
        assert (made.custody_kind, made.custodian) == (CustodyKind.BANK, "农信社")
        assert made.made_on is not None
        assert [e.event for e in made.ledger_entries.all()] == [
            "applied",
            "production_started",
            "produced",
        ]
        failed = persons["杜秀英"]
        failed.refresh_from_db()
        assert failed.verification_status == VerificationStatus.PENDING
        queue = {p.name: p.card_failure for p in work_queue(user=clerk_a)}
        assert queue == {
            "杜秀英": "照片不合格：背景不是白色",
            "王秀兰": "证件已过期，请更新证件有效期",
        }
        assert last_card_failure(person=failed).failure_reason == "照片不合格：背景不是白色"
        assert (
            AuditEvent.objects.filter(action="roster.person.returned_to_verification").count() == 2
        )

    def test_each_members_outcome_is_audited(self, sent, clerk_a):
        run(sent, clerk_a, RESULT_XLSX)

        audited = AuditEvent.objects.filter(action="issuance.batchmember.result_recorded")
        members = {m.pk: m.person.name for m in sent.members.select_related("person")}
        assert {
            (members[int(e.object_id)], e.before["outcome"], e.after["outcome"], e.actor_id)
            for e in audited
        } == {
            ("陈建国", "pending", "made", clerk_a.pk),
            ("罗志华", "pending", "made", clerk_a.pk),
            ("杜秀英", "pending", "failed", clerk_a.pk),
            ("王秀兰", "pending", "failed", clerk_a.pk),
        }
        assert all(
            e.after["outcome_at"] and e.note == f"申领批次{sent.number}回盘" for e in audited
        )

        run(sent, clerk_a, RESULT_XLSX)
        assert audited.count() == 4, "the same result again changes and audits nothing"

    def test_rows_it_cannot_use_are_reported_by_row_and_not_guessed(self, sent, clerk_a):
        result = run(sent, clerk_a, RESULT_XLSX)

        assert reasons(result) == {
            7: "该身份证号码不在本批次中（或已移出本批次），未处理。",
            8: "身份证号码疑似被Excel转换为科学计数法，尾数已丢失，无法恢复，未处理。",
        }
        unknown = next(p for p in result.problems if p["row"] == 7)
        assert unknown["id_number"] == "532326********006X" and unknown["name"] == "赵小红"
        assert [p["row"] for p in result.problems] == [7, 8]
        assert result.problems[1]["id_number"] == "5.32326E+17"  # as Excel shows it
        assert not Person.objects.filter(id_number=NOT_IN_THE_BATCH).exists()
        assert not Card.objects.filter(card_number__in=["J00012345", "J00012346"]).exists()

    def test_a_partly_answered_batch_stays_sent_and_closes_when_all_are_back(
        self, sent, clerk_a, tmp_path
    ):
        run(sent, clerk_a, RESULT_XLSX)
        sent.refresh_from_db()
        assert sent.status == BatchStatus.SENT
        assert sent.result_file_name == "result_with_failures.xlsx"
        assert sent.result_counts["制卡成功"] == 2 and len(sent.result_problems) == 2

        rest = write_csv(
            tmp_path / "补充回盘.csv",
            [
                ["社会保障号码", "制卡结果", "社会保障卡号"],
                ["532326198811010053", "成功", "J00012345"],
            ],
        )
        result = run(sent, clerk_a, rest)

        assert (result.made, result.closed) == (1, True)
        sent.refresh_from_db()
        assert sent.status == BatchStatus.CLOSED

    def test_importing_the_same_result_again_changes_nothing(self, sent, clerk_a):
        run(sent, clerk_a, RESULT_XLSX)
        sent.refresh_from_db()
        entries, batch_state = LedgerEntry.objects.count(), (sent.result_imported_at, sent.status)
        versions = dict(Person.objects.values_list("pk", "version"))

        again = run(sent, clerk_a, RESULT_XLSX)

        assert (again.made, again.failed, again.unchanged) == (0, 0, 4)
        assert LedgerEntry.objects.count() == entries
        assert dict(Person.objects.values_list("pk", "version")) == versions
        sent.refresh_from_db()
        assert (sent.result_imported_at, sent.status) == batch_state

    def test_a_gbk_csv_is_read_and_a_card_number_twice_is_reported(self, sent, clerk_a):
        result = run(sent, clerk_a, RESULT_GBK_CSV)

        assert (result.made, result.failed) == (2, 2)
        assert reasons(result) == {6: "卡号 J00012341 与第 2 行重复，未处理。"}
        assert outcomes(sent)["李文军"][0] == MemberOutcome.PENDING

    def test_a_card_number_another_card_holds_is_reported(self, sent, clerk_a, village_a, tmp_path):
        holder = ready_person(village_a, name="他人")
        Card.objects.create(
            person=holder, bank=sent.bank, card_number="J00012341", status=CardStatus.IN_STOCK
        )
        result = run(sent, clerk_a, RESULT_XLSX)
        assert reasons(result)[3] == "卡号 J00012341 已属于另一张社保卡，未处理。"
        assert outcomes(sent)["陈建国"][0] == MemberOutcome.PENDING

    def test_a_row_contradicting_an_earlier_result_changes_nothing(self, sent, clerk_a, tmp_path):
        run(sent, clerk_a, RESULT_XLSX)
        contradiction = write_xlsx(
            tmp_path / "更正.xlsx",
            [
                ["身份证号码", "制卡结果", "卡号", "失败原因"],
                ["53232619800517001X", "失败", "", "重复制卡"],
                ["532326198503020022", "成功", "J00099999", ""],
            ],
        )
        result = run(sent, clerk_a, contradiction)
        assert set(reasons(result).values()) == {
            "该人员已回盘为制卡成功（卡号 J00012341），与本行不一致，未修改。",
            "该人员已回盘为制卡失败并退回核查，与本行不一致，未修改；请重新申领。",
        }
        assert outcomes(sent)["陈建国"][:3] == ("made", "in_stock", "J00012341")

    def test_an_id_number_that_does_not_validate_is_shown_masked(self, sent, clerk_a, tmp_path):
        path = write_csv(
            tmp_path / "回盘.csv",
            [
                ["姓名", "社会保障号码", "制卡结果", "社会保障卡号"],
                ["李文军", "532326198811010054", "成功", "J00012345"],  # check digit wrong
                ["王秀兰", "5323261990062", "成功", "J00012346"],
                ["罗志华", "532326197208110000", "成功", "J00012347"],  # Excel lost the tail
                ["杜秀英", "5.32326E+17", "成功", "J00012348"],
            ],
        )
        result = run(sent, clerk_a, path)

        shown = {p["row"]: p["id_number"] for p in result.problems}
        assert shown == {
            2: "532326********0054",
            3: "*********0062",
            4: "532326********0000",
            5: "5.32326E+17",
        }
        assert "校验" in reasons(result)[2]
        sent.refresh_from_db()
        assert [p["id_number"] for p in sent.result_problems] == list(shown.values())

    def test_the_holders_id_number_as_the_card_number_is_refused(
        self, sent, clerk_a, persons, tmp_path
    ):
        """The same check as 即时制卡 (``card_number_for_holder``); the number is not echoed."""
        id_number = persons["李文军"].id_number
        path = write_csv(
            tmp_path / "回盘.csv",
            [["社会保障号码", "制卡结果", "社会保障卡号"], [id_number, "成功", id_number]],
        )
        result = run(sent, clerk_a, path)

        assert reasons(result) == {
            2: "这是持卡人的身份证号码，不是社会保障卡卡号，请核对卡面上的卡号，未处理。"
        }
        assert outcomes(sent)["李文军"][0] == MemberOutcome.PENDING
        assert not Card.objects.filter(card_number=id_number).exists()

    def test_unreadable_results_and_blank_reasons(self, sent, clerk_a, tmp_path):
        path = write_xlsx(
            tmp_path / "r.xlsx",
            [
                ["社会保障号码", "状态", "卡号", "原因"],
                ["53232619800517001X", "待定", "", ""],
                ["532326198503020022", "失败", "", ""],
                ["532326197208110039", "成功", "", ""],
                ["532326199006250040", "成功", "J" + "0" * 30, ""],
                ["", "成功", "J1", ""],
            ],
        )
        result = run(sent, clerk_a, path)
        assert reasons(result) == {
            2: "制卡结果“待定”，无法识别（应为“成功”或“失败”），未处理。",
            4: "制卡成功但缺少社会保障卡卡号，未处理。",
            5: f"社会保障卡卡号应为9至20位（输入了31位），请核对卡面上的卡号：“J{'0' * 30}”，未处理。",
            6: "身份证号码为空，未处理。",
        }
        assert outcomes(sent)["杜秀英"][3] == "回盘文件未注明失败原因"


@pytest.mark.django_db
class TestBadFiles:
    def test_a_broken_file_writes_nothing(self, sent, clerk_a, tmp_path):
        broken = tmp_path / "回盘.xlsx"
        broken.write_bytes(b"PK\x03\x04 this is not a workbook")
        with pytest.raises(ValidationError, match="不是有效的 Excel 文件"):
            run(sent, clerk_a, broken)
        assert not Card.objects.filter(status__in=["in_stock", "failed"]).exists()
        sent.refresh_from_db()
        assert sent.result_imported_at is None

    def test_a_file_without_the_result_column_names_it(self, sent, clerk_a, tmp_path):
        path = write_csv(
            tmp_path / "r.csv", [["身份证号码", "姓名"], ["53232619800517001X", "陈建国"]]
        )
        with pytest.raises(ValidationError, match="找不到必需的列：制卡结果（或制卡状态）"):
            run(sent, clerk_a, path)

    def test_an_empty_file_is_refused(self, sent, clerk_a, tmp_path):
        empty = tmp_path / "r.csv"
        empty.write_bytes(b"")
        with pytest.raises(ValidationError, match="文件是空的"):
            run(sent, clerk_a, empty)

    def test_a_draft_batch_takes_no_result(self, clerk_a, persons, tmp_path):
        draft = make_batch(clerk_a, list(persons.values()))
        with pytest.raises(ValidationError, match="尚未报送"):
            run(draft, clerk_a, shutil.copy(RESULT_XLSX, tmp_path / "r.xlsx"))

    @pytest.mark.parametrize("persona", ["supervisor", "clerk_b", "collector_a", "banker_a"])
    def test_only_the_township_and_the_county_import_results(self, request, sent, persona):
        with pytest.raises(PermissionDenied):
            run(sent, request.getfixturevalue(persona), RESULT_XLSX)
        assert not Card.objects.filter(status="in_stock").exists()

    def test_the_county_imports_any_townships_result(self, sent, county_admin):
        assert run(sent, county_admin, RESULT_XLSX).made == 2


@pytest.mark.django_db(transaction=True)
def test_the_same_result_uploaded_twice_at_once_is_applied_once(village_a, ledger_flushable):
    clerk = UserFactory(username="clerk_t", role="township_staff", township=village_a.township)
    batch = make_batch(clerk, fixture_persons(village_a), send=True)

    first, second = run_in_threads(
        lambda: run(batch, clerk, RESULT_XLSX), lambda: run(batch, clerk, RESULT_XLSX)
    )

    assert sorted((r.made, r.unchanged) for r in (first, second)) == [(0, 4), (2, 0)]
    assert LedgerEntry.objects.filter(event="produced").count() == 2
    assert LedgerEntry.objects.filter(event="production_failed").count() == 2
    assert AuditEvent.objects.filter(action="roster.person.returned_to_verification").count() == 2
