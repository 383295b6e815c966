"""Death lists and 12333 collection results as they arrive, and resolving 采集冲突."""

import datetime
import shutil
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from dayao_sscard.models import AuditEvent, Job
from issuance.models import CancellationRequest
from issuance.services import card_create
from roster import imports
from roster.id_numbers import birth_date_from_id, gender_from_id
from roster.imports import ListImportError, list_import
from roster.models import (
    CollectionConflict,
    InvalidListRow,
    Person,
    SourceList,
    VerificationStatus,
    VitalStatus,
)
from roster.services import PersonEditConflict, conflict_resolve, list_import_start
from tests.factories import BankFactory, PersonFactory, make_id_number
from tests.roster.listfiles import write_csv, write_xls, write_xlsx

# 12333 validities end in 2035, deaths fall before today: all against one today.
pytestmark = pytest.mark.usefixtures("fixed_clock")

DEATH_HEADER = ["序号", "姓名", "身份证号码", "死亡日期"]
COLLECTION_HEADER = [
    "身份证号码",
    "姓名",
    "性别",
    "国籍",
    "职业",
    "联系电话",
    "住址",
    "证件有效期限",
    "照片状态",
]


def days_from_today(days):
    """Asked at run time: a module-level date goes stale when a run crosses midnight in 大姚."""
    return timezone.localdate() + datetime.timedelta(days=days)


def import_file(path, kind, source="", **kwargs):
    return list_import(kind=kind, path=path, original_name=path.name, source=source, **kwargs)


def deaths(path, source="民政火化信息", **kwargs):
    return import_file(path, "deaths", source, **kwargs)


def collection(path, acting_user, source="12333采集", **kwargs):
    return import_file(path, "collection_12333", source, acting_user=acting_user, **kwargs)


def death_rows(*people):
    return [DEATH_HEADER] + [
        [n, name, id_number, died] for n, (name, id_number, died) in enumerate(people, start=1)
    ]


def consistent_person(village, **fields) -> Person:
    """A person whose gender and birth date agree with the ID number, whatever the sequence."""
    id_number = make_id_number()
    values = {
        "id_number": id_number,
        "birth_date": birth_date_from_id(id_number),
        "gender": gender_from_id(id_number),
        "township": village.township,
        "village": village,
        **fields,
    }
    return PersonFactory(**values)


def fresh(person) -> Person:
    return Person.objects.get(pk=person.pk)


def reasons(result) -> list[tuple[int, str]]:
    return [(p.row_number, p.reason) for p in result.problems]


# ---- 死亡人员名单 -------------------------------------------------------------------------


@pytest.mark.django_db
class TestDeathList:
    def test_a_living_person_is_marked_deceased_and_the_card_queued_for_cancellation(
        self, tmp_path, county_admin, person_a
    ):
        card = card_create(person=person_a, bank=BankFactory(), acting_user=county_admin)
        path = write_xlsx(
            tmp_path / "火化信息.xlsx",
            death_rows((person_a.name, person_a.id_number, "2022-05-03")),
            title_rows=["大姚县2022年5月火化人员信息"],
        )
        result = deaths(path, acting_user=county_admin)

        person = fresh(person_a)
        assert person.vital_status == VitalStatus.DECEASED
        assert person.death_date == datetime.date(2022, 5, 3)
        assert person.death_source == "民政火化信息"
        assert person.death_note == "名单导入：火化信息.xlsx 第3行"
        assert person.version == person_a.version + 1
        request = CancellationRequest.objects.get(card=card)
        assert request.status == CancellationRequest.Status.PENDING
        assert request.reason == "持卡人已死亡（2022-05-03，民政火化信息）"
        assert request.requested_by == county_admin
        event = AuditEvent.objects.get(action="roster.person.marked_deceased")
        assert (event.object_id, event.actor) == (str(person.pk), county_admin)
        assert event.before["vital_status"] == "alive"
        assert event.after == {
            "vital_status": "deceased",
            "death_date": "2022-05-03",
            "death_source": "民政火化信息",
            "death_note": "名单导入：火化信息.xlsx 第3行",
        }
        assert AuditEvent.objects.filter(
            action="issuance.cancellationrequest.created", object_id=str(request.pk)
        ).exists()
        summary = result.summary()
        assert (summary["标记死亡"], summary["原已死亡"], summary["系统中无此人"]) == (1, 0, 0)
        assert (summary["问题行"], summary["列入注销的社保卡"]) == (0, 1)

    def test_already_deceased_is_counted_and_left_unchanged(self, tmp_path, person_a):
        Person.objects.filter(pk=person_a.pk).update(
            vital_status=VitalStatus.DECEASED, death_date=datetime.date(2021, 1, 2)
        )
        result = deaths(
            write_xlsx(tmp_path / "d.xlsx", death_rows(("", person_a.id_number, "2022-05-03")))
        )
        assert result.deaths_already == 1 and result.deaths_marked == 0
        person = fresh(person_a)
        assert (person.death_date, person.version) == (datetime.date(2021, 1, 2), 1)
        assert not AuditEvent.objects.filter(action="roster.person.marked_deceased").exists()

    def test_someone_not_in_the_system_is_listed_but_not_an_error(self, tmp_path, person_a):
        unknown = make_id_number()
        rows = death_rows(("外县人", unknown, "2022-05-03"), ("", person_a.id_number, "2022-05-04"))
        result = deaths(write_xlsx(tmp_path / "d.xlsx", rows))
        assert reasons(result) == [(2, "系统中无此人")]
        summary = result.summary()
        assert (summary["系统中无此人"], summary["问题行"], summary["标记死亡"]) == (1, 0, 1)
        stored = InvalidListRow.objects.get()
        assert (stored.row_number, stored.raw_id_number, stored.id_unusable) == (2, unknown, False)

    def test_future_unreadable_and_missing_dates_are_problem_rows(
        self, tmp_path, person_a, person_a2, person_b
    ):
        tomorrow = days_from_today(1)
        rows = death_rows(
            ("", person_a.id_number, tomorrow.isoformat()),
            ("", person_a2.id_number, "去年冬天"),
            ("", person_b.id_number, ""),
        )
        result = deaths(write_xlsx(tmp_path / "d.xlsx", rows))
        assert reasons(result) == [
            (2, f"死亡日期晚于今天：{tomorrow:%Y-%m-%d}"),
            (3, "死亡日期无法识别：去年冬天"),
            (4, "缺少死亡日期"),
        ]
        assert result.summary()["问题行"] == 3
        assert not Person.objects.filter(vital_status=VitalStatus.DECEASED).exists()

    def test_a_death_before_birth_is_a_problem_row(self, tmp_path, person_a):
        rows = death_rows(("", person_a.id_number, "1901-01-01"))
        result = deaths(write_xlsx(tmp_path / "d.xlsx", rows))
        assert reasons(result) == [(2, "死亡日期早于出生日期：1901-01-01")]

    def test_invalid_id_numbers_are_reported_with_row_numbers(self, tmp_path, person_a):
        good = person_a.id_number
        bad_check = good[:17] + ("1" if good[17] != "1" else "2")
        rows = death_rows(
            (person_a.name, good, "2022-05-03"),
            ("校验错", bad_check, "2022-05-03"),
            ("科学计数", "5.32326E+17", "2022-05-03"),
        )
        result = deaths(write_xlsx(tmp_path / "d.xlsx", rows, footer=False))
        assert reasons(result)[0] == (3, "身份证号码校验位错误")
        assert result.problems[1].row_number == 4 and "Excel" in result.problems[1].reason
        assert result.deaths_marked == 1

    def test_missing_death_date_column_is_named_and_nothing_is_written(self, tmp_path, person_a):
        rows = [["姓名", "身份证号码", "备注"], [person_a.name, person_a.id_number, "火化"]]
        with pytest.raises(ListImportError, match="找不到必需的列：死亡日期"):
            deaths(write_xlsx(tmp_path / "d.xlsx", rows))
        assert not SourceList.objects.exists()
        assert fresh(person_a).vital_status == VitalStatus.ALIVE

    def test_gbk_csv_with_cremation_date_and_a_source_column(self, tmp_path, person_a, person_b):
        rows = [
            ["姓名", "公民身份号码", "火化日期", "来源"],
            [person_a.name, person_a.id_number, "2022/5/3", "公安户籍注销"],
            [person_b.name, person_b.id_number, "2022年5月4日", ""],
        ]
        result = deaths(write_csv(tmp_path / "d.csv", rows, encoding="gbk"))
        assert result.deaths_marked == 2
        assert fresh(person_a).death_source == "公安户籍注销"
        assert fresh(person_b).death_source == "民政火化信息"
        assert fresh(person_b).death_date == datetime.date(2022, 5, 4)

    def test_xls_with_cancellation_date(self, tmp_path, person_a):
        rows = [["姓名", "身份证号", "注销日期"], [person_a.name, person_a.id_number, "20220503"]]
        result = deaths(write_xls(tmp_path / "d.xls", rows, title_rows=["户籍注销人员"]))
        assert result.deaths_marked == 1
        assert fresh(person_a).death_note == "名单导入：d.xls 第3行"

    def test_excel_date_cells(self, tmp_path, person_a):
        rows = death_rows(("", person_a.id_number, datetime.datetime(2022, 5, 3, 10, 30)))
        deaths(write_xlsx(tmp_path / "d.xlsx", rows))
        assert fresh(person_a).death_date == datetime.date(2022, 5, 3)

    def test_a_different_name_is_not_marked(self, tmp_path, person_a):
        rows = death_rows(("别人", person_a.id_number, "2022-05-03"))
        result = deaths(write_xlsx(tmp_path / "d.xlsx", rows))
        assert reasons(result) == [(2, f"姓名与系统不一致（系统中为{person_a.name}），未登记死亡")]
        assert fresh(person_a).vital_status == VitalStatus.ALIVE

    def test_same_person_twice_is_marked_once(self, tmp_path, person_a):
        rows = death_rows(
            ("", person_a.id_number, "2022-05-03"), ("", person_a.id_number, "2022-05-03")
        )
        result = deaths(write_xlsx(tmp_path / "d.xlsx", rows))
        assert (result.deaths_marked, result.duplicates) == (1, 1)
        assert AuditEvent.objects.filter(action="roster.person.marked_deceased").count() == 1

    def test_reimporting_the_same_file_changes_nothing(self, tmp_path, county_admin, person_a):
        card_create(person=person_a, bank=BankFactory(), acting_user=county_admin)
        path = write_xlsx(tmp_path / "d.xlsx", death_rows(("", person_a.id_number, "2022-05-03")))
        deaths(path, acting_user=county_admin)
        counts = (AuditEvent.objects.count(), CancellationRequest.objects.count())
        result = deaths(Path(shutil.copy(path, tmp_path / "again.xlsx")))
        assert result.already_imported_at
        assert counts == (AuditEvent.objects.count(), CancellationRequest.objects.count())

    def test_a_failure_after_marking_leaves_nothing(
        self, tmp_path, county_admin, person_a, monkeypatch
    ):
        card_create(person=person_a, bank=BankFactory(), acting_user=county_admin)

        def explode(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(imports, "audit_record", explode)
        path = write_xlsx(tmp_path / "d.xlsx", death_rows(("", person_a.id_number, "2022-05-03")))
        with pytest.raises(RuntimeError):
            deaths(path, acting_user=county_admin)
        assert fresh(person_a).vital_status == VitalStatus.ALIVE
        assert not CancellationRequest.objects.exists()
        assert not SourceList.objects.exists()

    def test_the_command_line_imports_a_death_list(self, tmp_path, person_a, capsys):
        path = write_csv(tmp_path / "d.csv", death_rows(("", person_a.id_number, "2022-05-03")))
        call_command("import_list", "deaths", str(path), source="民政火化信息")
        assert "标记死亡：1" in capsys.readouterr().out
        assert fresh(person_a).is_deceased


# ---- 12333采集结果 -------------------------------------------------------------------------


def collection_rows(*rows):
    return [COLLECTION_HEADER] + [list(row) for row in rows]


def row_for(person, **values):
    """A 12333 row that repeats the system's values, with some changed."""
    data = {
        "id_number": person.id_number,
        "name": person.name,
        "gender": "男" if person.gender == "male" else "女",
        "nationality": "中国",
        "occupation": person.occupation,
        "phone": person.phone,
        "address": person.address,
        "validity": "",
        "photo": "",
        **values,
    }
    return list(data.values())


@pytest.fixture
def blank_person(village_a):
    return consistent_person(
        village_a,
        name="普阿妹",
        occupation="",
        address="",
        phone="",
        id_valid_from=None,
        id_valid_until=None,
        photo_on_12333=False,
    )


@pytest.mark.django_db
class TestCollectionResults:
    def test_blanks_are_filled_once_per_person_and_audited(self, tmp_path, clerk_a, blank_person):
        row = row_for(
            blank_person,
            occupation="农民",
            phone="138 8765 4321",
            address="大姚县金碧镇大河社区5组",
            validity="2015.03.01-2035.03.01",
            photo="已采集",
        )
        result = collection(write_xlsx(tmp_path / "c.xlsx", collection_rows(row)), clerk_a)

        person = fresh(blank_person)
        assert (person.occupation, person.phone, person.address) == (
            "农民",
            "13887654321",
            "大姚县金碧镇大河社区5组",
        )
        assert (person.id_valid_from, person.id_valid_until) == (
            datetime.date(2015, 3, 1),
            datetime.date(2035, 3, 1),
        )
        assert person.photo_on_12333 is True
        assert person.verification_status == VerificationStatus.READY
        assert person.version == blank_person.version + 1
        event = AuditEvent.objects.get(action="roster.person.updated")
        assert event.actor == clerk_a
        assert event.before["occupation"] == "" and event.after["occupation"] == "农民"
        assert event.after["verification_status"] == "ready"
        summary = result.summary()
        assert (summary["更新人员"], summary["补全字段"], summary["冲突字段"]) == (1, 5, 0)
        assert (summary["照片已采集"], summary["问题行"]) == (1, 0)
        assert not CollectionConflict.objects.exists()

    def test_equal_values_change_nothing(self, tmp_path, clerk_a, person_a):
        result = collection(
            write_xlsx(tmp_path / "c.xlsx", collection_rows(row_for(person_a))), clerk_a
        )
        assert fresh(person_a).version == person_a.version
        assert (result.collection_persons, result.collection_conflicts) == (0, 0)
        assert not AuditEvent.objects.filter(action="roster.person.updated").exists()

    def test_a_different_value_becomes_a_pending_conflict(self, tmp_path, clerk_a, person_a):
        rows = collection_rows(row_for(person_a, phone="13900001111", gender="女"))
        result = collection(write_xlsx(tmp_path / "c.xlsx", rows), clerk_a)
        person = fresh(person_a)
        assert (person.phone, person.gender, person.version) == ("13887654321", "male", 1)
        conflicts = CollectionConflict.objects.order_by("field")
        assert [
            (c.field, c.current_value, c.incoming_value, c.resolution, c.row_number)
            for c in conflicts
        ] == [
            ("gender", "男", "女", "pending", 2),
            ("phone", "13887654321", "13900001111", "pending", 2),
        ]
        assert result.summary()["冲突字段"] == 2

    def test_a_second_file_with_the_same_value_adds_no_second_conflict(
        self, tmp_path, clerk_a, person_a
    ):
        row = row_for(person_a, phone="13900001111")
        collection(write_xlsx(tmp_path / "1.xlsx", collection_rows(row)), clerk_a)
        second = write_csv(tmp_path / "2.csv", collection_rows(row), encoding="gbk")
        result = collection(second, clerk_a)
        assert result.collection_conflicts == 0
        assert CollectionConflict.objects.count() == 1

    def test_reimporting_the_same_file_changes_nothing(self, tmp_path, clerk_a, blank_person):
        rows = collection_rows(row_for(blank_person, occupation="农民", phone="13900001111"))
        path = write_xlsx(tmp_path / "c.xlsx", rows)
        collection(path, clerk_a)
        before = (fresh(blank_person).version, AuditEvent.objects.count())
        result = collection(Path(shutil.copy(path, tmp_path / "again.xlsx")), clerk_a)
        assert "未作任何修改" in result.summary()["结果"]
        assert before == (fresh(blank_person).version, AuditEvent.objects.count())

    @pytest.mark.parametrize(
        ("validity", "start", "until", "long_term"),
        [
            ("2015.03.01-2035.03.01", datetime.date(2015, 3, 1), datetime.date(2035, 3, 1), False),
            ("2015-03-01至长期", datetime.date(2015, 3, 1), None, True),
            ("20150301-20350301", datetime.date(2015, 3, 1), datetime.date(2035, 3, 1), False),
            ("长期", None, None, True),
        ],
    )
    def test_validity_in_one_column(
        self, tmp_path, clerk_a, blank_person, validity, start, until, long_term
    ):
        rows = collection_rows(row_for(blank_person, validity=validity))
        collection(write_xlsx(tmp_path / "c.xlsx", rows), clerk_a)
        person = fresh(blank_person)
        assert (person.id_valid_from, person.id_valid_until) == (start, until)
        assert person.id_valid_long_term is long_term

    def test_validity_in_two_columns(self, tmp_path, clerk_a, blank_person):
        rows = [
            ["身份证号码", "证件有效期起始", "证件有效期截止", "照片"],
            [blank_person.id_number, datetime.datetime(2010, 7, 2), "长期", "是"],
        ]
        collection(write_xlsx(tmp_path / "c.xlsx", rows), clerk_a)
        person = fresh(blank_person)
        assert person.id_valid_from == datetime.date(2010, 7, 2)
        assert person.id_valid_long_term and person.photo_on_12333

    def test_unreadable_values_make_the_whole_row_a_problem(self, tmp_path, clerk_a, blank_person):
        rows = collection_rows(
            row_for(
                blank_person, occupation="农民", gender="未知", validity="2035.03.01-2015.03.01"
            )
        )
        result = collection(write_xlsx(tmp_path / "c.xlsx", rows), clerk_a)
        assert reasons(result) == [(2, "性别无法识别：未知；证件有效期截止日期早于起始日期")]
        assert fresh(blank_person).occupation == ""

    def test_unknown_out_of_scope_and_deceased_are_problem_rows(
        self, tmp_path, clerk_a, person_a, person_b, village_a
    ):
        dead = consistent_person(
            village_a,
            vital_status=VitalStatus.DECEASED,
            death_date=days_from_today(-1),
            occupation="",
        )
        rows = collection_rows(
            row_for(person_b, occupation="教师", phone="13900001111"),
            [make_id_number(), "外人", "男", "", "农民", "", "", "", ""],
            row_for(dead, occupation="农民"),
            row_for(person_a),
        )
        result = collection(write_xlsx(tmp_path / "c.xlsx", rows), clerk_a)
        # Another township's person reads exactly as one who does not exist.
        assert reasons(result) == [
            (2, "系统中无此人，或不在您的管辖范围内"),
            (3, "系统中无此人，或不在您的管辖范围内"),
            (4, "已登记死亡，不再采集"),
        ]
        other, unknown = result.problems[:2]
        assert (other.handling, other.township_id) == (unknown.handling, unknown.township_id)
        assert result.summary()["问题行"] == 3
        assert fresh(person_b).occupation == person_b.occupation
        assert fresh(dead).occupation == ""
        assert not CollectionConflict.objects.exists()
        out_of_scope = InvalidListRow.objects.get(row_number=2)
        assert out_of_scope.township_id is None

    def test_county_admin_reaches_every_township(self, tmp_path, county_admin, person_b):
        rows = collection_rows(row_for(person_b, phone="13900001111"))
        result = collection(write_xlsx(tmp_path / "c.xlsx", rows), county_admin)
        assert result.collection_conflicts == 1 and not result.problems

    def test_the_later_collection_wins_within_a_file(self, tmp_path, clerk_a, blank_person):
        rows = [
            ["身份证号码", "职业", "采集时间"],
            [blank_person.id_number, "学生", "2022-06-01 09:00"],
            [blank_person.id_number, "农民", "2022-06-05 10:00"],
        ]
        result = collection(write_xlsx(tmp_path / "c.xlsx", rows), clerk_a)
        assert fresh(blank_person).occupation == "农民"
        assert [p.row_number for p in result.duplicate_rows] == [2]

    def test_a_read_only_user_cannot_import(self, tmp_path, supervisor, person_a):
        rows = collection_rows(row_for(person_a, occupation="教师"))
        with pytest.raises(PermissionDenied, match="只读"):
            collection(write_xlsx(tmp_path / "c.xlsx", rows), supervisor)
        assert not SourceList.objects.exists()


@pytest.mark.django_db
class TestWhoMayStartAnImport:
    def upload(self):
        return SimpleUploadedFile("c.csv", "身份证号码,职业\r\n".encode())

    def test_township_staff_bring_back_12333_results_within_their_scope(
        self, clerk_a, person_a, person_b, django_capture_on_commit_callbacks
    ):
        text = f"身份证号码,职业\r\n{person_a.id_number},教师\r\n{person_b.id_number},村医\r\n"
        upload = SimpleUploadedFile("12333.csv", text.encode("gbk"))
        with django_capture_on_commit_callbacks(execute=True):
            job = list_import_start(
                acting_user=clerk_a, kind="collection_12333", source="", uploaded_file=upload
            )
        job.refresh_from_db()
        assert job.status == "succeeded", job.error
        assert (job.counts["冲突字段"], job.counts["问题行"]) == (1, 1)
        assert job.result_file.name.endswith(".xlsx")  # the problem report
        assert fresh(person_b).occupation == person_b.occupation

    def test_the_report_does_not_tell_whether_another_townships_id_number_exists(
        self, clerk_a, person_b, django_capture_on_commit_callbacks
    ):
        import openpyxl

        unknown = make_id_number()
        text = f"身份证号码,职业\r\n{person_b.id_number},教师\r\n{unknown},村医\r\n"
        upload = SimpleUploadedFile("12333.csv", text.encode("gbk"))
        with django_capture_on_commit_callbacks(execute=True):
            job = list_import_start(
                acting_user=clerk_a, kind="collection_12333", source="", uploaded_file=upload
            )
        job.refresh_from_db()
        with job.result_file.open("rb") as handle:
            rows = list(openpyxl.load_workbook(handle).active.iter_rows(values_only=True))[1:]
        # 文件, 工作表, 行号, 姓名, 身份证号码, 问题, 处理: equal but for the row and the number.
        elsewhere, absent = ([v for i, v in enumerate(row) if i not in (2, 4)] for row in rows)
        assert elsewhere == absent
        assert absent[-2:] == ["系统中无此人，或不在您的管辖范围内", "未匹配，无需处理"]

    @pytest.mark.parametrize("kind", ["deaths", "unissued", "card_export"])
    def test_township_staff_may_not_import_county_lists(self, clerk_a, kind):
        with pytest.raises(PermissionDenied):
            list_import_start(
                acting_user=clerk_a, kind=kind, source="x", uploaded_file=self.upload()
            )
        assert not Job.objects.exists()

    @pytest.mark.parametrize("persona", ["supervisor", "collector_a", "banker_a"])
    def test_others_may_not_import_12333_results(self, request, persona):
        with pytest.raises(PermissionDenied):
            list_import_start(
                acting_user=request.getfixturevalue(persona),
                kind="collection_12333",
                source="",
                uploaded_file=self.upload(),
            )

    def test_county_admin_may_import_deaths(self, county_admin):
        job = list_import_start(
            acting_user=county_admin, kind="deaths", source="民政", uploaded_file=self.upload()
        )
        assert job.pk


# ---- resolving conflicts --------------------------------------------------------------------


@pytest.fixture
def conflicted(tmp_path, clerk_a, village_a):
    """A complete person whose phone and occupation came back different from 12333."""
    person = consistent_person(
        village_a,
        phone="0878-6221234",
        occupation="农民",
        id_valid_from=datetime.date(2015, 3, 1),
        id_valid_until=datetime.date(2035, 3, 1),
        photo_on_12333=True,
        verification_status=VerificationStatus.READY,
    )
    rows = collection_rows(row_for(person, phone="13900001111", occupation="个体工商户"))
    collection(write_xlsx(tmp_path / "conflicts.xlsx", rows), clerk_a)
    return fresh(person)


def conflict_of(person, field_name) -> CollectionConflict:
    return CollectionConflict.objects.get(person=person, field=field_name)


@pytest.mark.django_db
class TestConflictResolve:
    def test_taking_one_value_and_keeping_another(self, clerk_a, conflicted):
        phone, occupation = conflict_of(conflicted, "phone"), conflict_of(conflicted, "occupation")
        saved = conflict_resolve(
            conflict_ids_and_choices={phone.pk: "taken", occupation.pk: "kept"},
            person=conflicted,
            acting_user=clerk_a,
            expected_version=conflicted.version,
        )
        assert (saved.phone, saved.occupation) == ("13900001111", "农民")
        assert saved.version == conflicted.version + 1
        assert saved.verification_status == VerificationStatus.READY
        phone.refresh_from_db()
        occupation.refresh_from_db()
        assert (phone.resolution, occupation.resolution) == ("taken", "kept")
        assert phone.resolved_by == clerk_a and phone.resolved_at
        event = AuditEvent.objects.filter(action="roster.person.updated").latest("id")
        assert event.before == {"phone": "0878-6221234"}
        assert event.after == {"phone": "13900001111"}
        assert AuditEvent.objects.filter(action="roster.collectionconflict.updated").count() == 2

    def test_keeping_everything_leaves_the_person_alone(self, clerk_a, conflicted):
        ids = {c.pk: "kept" for c in CollectionConflict.objects.all()}
        saved = conflict_resolve(
            conflict_ids_and_choices=ids,
            person=conflicted,
            acting_user=clerk_a,
            expected_version=conflicted.version,
        )
        assert (saved.phone, saved.version) == ("0878-6221234", conflicted.version)
        assert not CollectionConflict.objects.filter(resolution="pending").exists()

    def test_a_stale_version_writes_nothing(self, clerk_a, conflicted):
        phone = conflict_of(conflicted, "phone")
        with pytest.raises(PersonEditConflict, match="已被他人修改"):
            conflict_resolve(
                conflict_ids_and_choices={phone.pk: "taken"},
                person=conflicted,
                acting_user=clerk_a,
                expected_version=conflicted.version - 1,
            )
        phone.refresh_from_db()
        assert phone.resolution == "pending"
        assert fresh(conflicted).phone == "0878-6221234"

    def test_a_conflict_already_resolved_is_refused(self, clerk_a, conflicted):
        phone = conflict_of(conflicted, "phone")
        CollectionConflict.objects.filter(pk=phone.pk).update(resolution="kept")
        with pytest.raises(ValidationError, match="已由他人处理"):
            conflict_resolve(
                conflict_ids_and_choices={phone.pk: "taken"},
                person=conflicted,
                acting_user=clerk_a,
                expected_version=conflicted.version,
            )

    def test_another_township_cannot_resolve(self, clerk_b, conflicted):
        phone = conflict_of(conflicted, "phone")
        with pytest.raises(PermissionDenied):
            conflict_resolve(
                conflict_ids_and_choices={phone.pk: "taken"},
                person=conflicted,
                acting_user=clerk_b,
                expected_version=conflicted.version,
            )

    def test_taking_a_blanked_validity_and_gender(self, tmp_path, clerk_a, village_a):
        person = consistent_person(
            village_a, id_valid_from=datetime.date(2015, 3, 1), id_valid_until=None
        )
        rows = collection_rows(row_for(person, validity="2016-01-01至长期"))
        collection(write_xlsx(tmp_path / "c.xlsx", rows), clerk_a)
        person = fresh(person)
        assert person.id_valid_long_term  # the blank end was filled
        start = conflict_of(person, "id_valid_from")
        assert (start.current_value, start.incoming_value) == ("2015-03-01", "2016-01-01")
        saved = conflict_resolve(
            conflict_ids_and_choices={start.pk: "taken"},
            person=person,
            acting_user=clerk_a,
            expected_version=person.version,
        )
        assert saved.id_valid_from == datetime.date(2016, 1, 1)
