"""Importing lists as they really arrive, and what must never happen with bad input."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from dayao_sscard.models import AuditEvent
from roster import imports
from roster.id_numbers import compute_check_char
from roster.imports import ListImportError, list_import
from roster.models import (
    CardClass,
    CardSystemRecord,
    ClassificationChange,
    InvalidListRow,
    ListEntry,
    Person,
    PersonCategory,
    PersonClass,
    SourceList,
    Village,
)
from roster.reports import classification_report
from tests.factories import make_id_number
from tests.roster.listfiles import (
    EXPORT_HEADER,
    UNISSUED_HEADER,
    write_csv,
    write_xls,
    write_xlsx,
)
from tests.samples import SAMPLES


def unissued(path, kind="unissued", source="省第一批", **kwargs):
    return list_import(kind=kind, path=path, original_name=path.name, source=source, **kwargs)


def rows_for(*people):
    return [UNISSUED_HEADER] + [
        [n, name, "", "彝族", id_number, "13887654321", township, village]
        for n, (name, id_number, township, village) in enumerate(people, start=1)
    ]


@pytest.fixture
def ids():
    return [make_id_number() for _ in range(6)]


@pytest.mark.django_db
class TestSampleFiles:
    def test_the_samples_reproduce_the_expected_report(self, tmp_path):
        samples = SAMPLES
        call_command(
            "import_list", "unissued", str(samples / "province_batch1.xlsx"), source="省第一批"
        )
        call_command(
            "import_list", "unissued", str(samples / "prefecture_batch2.csv"), source="州第二批"
        )
        call_command(
            "import_list", "subsidy", str(samples / "subsidy_gdlb.csv"), source="耕地地力保护补贴"
        )
        call_command("import_list", "card_export", str(samples / "card_export.xlsx"))
        expected = json.loads((samples / "expected.json").read_text())
        report = classification_report()
        got = {
            t["code"]: {k: t[k] for k in expected["townships"][t["code"]]}
            for t in report["townships"]
        }
        assert got == expected["townships"]
        assert report["total"] == expected["total"]
        assert (
            Person.objects.filter(list_entries__source_list__kind="unissued").distinct().count()
            == 400
        )

    def test_match_is_idempotent(self):
        samples = SAMPLES
        call_command(
            "import_list", "unissued", str(samples / "province_batch1.xlsx"), source="省第一批"
        )
        call_command("import_list", "card_export", str(samples / "card_export.xlsx"))
        before = classification_report()
        changes = ClassificationChange.objects.count()
        call_command("match")
        call_command("match")
        assert classification_report() == before
        assert ClassificationChange.objects.count() == changes

    def test_report_command_prints_the_json_shape(self, capsys):
        samples = SAMPLES
        call_command(
            "import_list", "unissued", str(samples / "province_batch1.xlsx"), source="省第一批"
        )
        capsys.readouterr()
        call_command("report", "classification", format="json")
        data = json.loads(capsys.readouterr().out)
        assert [t["code"] for t in data["townships"]][:2] == ["532326101", "532326102"]
        assert set(data["total"]) == {
            "listed",
            "card_made",
            "in_production",
            "card_failed",
            "no_card_info",
            "invalid_id",
            "deceased",
            "subsidy_recipients",
            "subsidy_without_card",
        }
        assert data["townships"][0].keys() >= {"code", "name", "listed"}


@pytest.mark.django_db
class TestFileFormats:
    def test_xlsx_with_title_rows_merged_villages_and_footer(self, tmp_path, ids):
        rows = rows_for(
            ("张三", ids[0], "金碧", "大河社区"),
            ("李四", ids[1], "金碧", None),
            ("王五", ids[2], "湾碧乡", "上营村民委员会"),
        )
        path = write_xlsx(
            tmp_path / "list.xlsx",
            rows,
            title_rows=["第一批省下发大姚县未制卡人员名单", "填报单位：大姚县人社局"],
            merges=["H4:H5"],
        )
        result = unissued(path)
        assert (result.rows_read, result.persons_new, result.invalid_rows) == (3, 3, 0)
        li = Person.objects.get(id_number=ids[1])
        assert (li.township.code, li.village.name) == ("532326101", "大河社区")
        wang = Person.objects.get(id_number=ids[2])
        assert (wang.township.code, wang.village.name) == ("532326206", "上营村委会")
        entry = ListEntry.objects.get(person=li)
        assert (entry.sheet, entry.row_number) == ("名单", 5)

    def test_xls_excel_97_2003(self, tmp_path, ids):
        rows = rows_for(("张三", ids[0], "石羊镇", "石羊社区"), ("李四", ids[1], "三台", ""))
        result = unissued(write_xls(tmp_path / "old.xls", rows, title_rows=["州第二批名单"]))
        assert result.persons_new == 2
        assert Person.objects.get(id_number=ids[1]).township.code == "532326208"

    @pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
    def test_csv_in_every_encoding(self, tmp_path, ids, encoding):
        rows = rows_for(("欧阳秀", ids[0], "龙街", "上村社区"), ("者龙春", ids[1], "三岔河镇", ""))
        result = unissued(write_csv(tmp_path / "list.csv", rows, encoding=encoding))
        assert result.persons_new == 2
        assert Person.objects.get(id_number=ids[0]).name == "欧阳秀"
        assert Village.objects.filter(name="上村社区", township__code="532326104").exists()

    def test_tab_separated_text(self, tmp_path, ids):
        rows = rows_for(("张三", ids[0], "金碧", ""))
        result = unissued(write_csv(tmp_path / "list.txt", rows, encoding="gbk", delimiter="\t"))
        assert result.persons_new == 1

    def test_other_header_spellings(self, tmp_path, ids):
        rows = [
            ["所属乡镇", "村委会", "人员姓名", "证件号码", "人员类别"],
            ["桂花镇", "老村村委会", "司马银", ids[0], "低保、残疾人"],
        ]
        result = unissued(write_csv(tmp_path / "x.csv", rows, encoding="gbk"))
        assert result.persons_new == 1
        person = Person.objects.get(id_number=ids[0])
        assert set(person.categories.values_list("category", flat=True)) == {
            "minimum_living",
            "disabled",
        }


@pytest.mark.django_db
class TestIdNumbersInRows:
    def test_messy_but_recoverable_numbers_are_cleaned(self, tmp_path, ids):
        full_width = ids[0].translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
        spaced = f" {ids[1][:6]} {ids[1][6:14]} {ids[1][14:]} "
        rows = rows_for(
            ("甲", full_width, "金碧", ""),
            ("乙", spaced, "金碧", ""),
            ("丙", "'" + ids[2], "金碧", ""),
            ("丁", ids[3] + "\u200b", "金碧", ""),
        )
        result = unissued(write_xlsx(tmp_path / "l.xlsx", rows))
        assert result.invalid_rows == 0
        assert set(Person.objects.values_list("id_number", flat=True)) == set(ids[:4])

    def test_legacy_15_digit_numbers_become_18(self, tmp_path):
        rows = rows_for(("老号码", "532326510101743", "金碧", ""))
        unissued(write_xlsx(tmp_path / "l.xlsx", rows))
        body = "53232619510101743"
        assert Person.objects.get().id_number == body + compute_check_char(body)

    def test_excel_mangled_and_invalid_numbers_are_reported_not_repaired(self, tmp_path, ids):
        rows = rows_for(
            ("好人", ids[0], "金碧", ""),
            ("浮点", 5.32326199001011e17, "石羊", ""),
            ("校验错", ids[1][:17] + ("1" if ids[1][17] != "1" else "2"), "湾碧", ""),
            ("科学计数", "5.32326E+17", "三台", ""),
        )
        result = unissued(write_xlsx(tmp_path / "l.xlsx", rows))
        assert result.persons_new == 1
        reasons = {p.name: p.reason for p in result.problems}
        assert "Excel" in reasons["浮点"] and "Excel" in reasons["科学计数"]
        assert reasons["校验错"] == "身份证号码校验位错误"
        stored = InvalidListRow.objects.order_by("row_number")
        assert [(r.row_number, r.township.code) for r in stored] == [
            (3, "532326102"),
            (4, "532326206"),
            (5, "532326208"),
        ]
        assert classification_report()["total"]["invalid_id"] == 3

    def test_unknown_township_is_a_problem_row(self, tmp_path, ids):
        rows = rows_for(("外县", ids[0], "昆明市五华区", ""), ("本县", ids[1], "金碧", ""))
        result = unissued(write_xlsx(tmp_path / "l.xlsx", rows))
        assert [p.reason for p in result.problems] == ["无法识别所属乡镇：昆明市五华区"]
        assert result.persons_new == 1


@pytest.mark.django_db
class TestDuplicatesAndReimports:
    def test_same_person_twice_in_a_file_is_one_person(self, tmp_path, ids):
        rows = rows_for(("张三", ids[0], "金碧", ""), ("张三", ids[0].lower(), "金碧镇", ""))
        result = unissued(write_xlsx(tmp_path / "l.xlsx", rows))
        assert (result.persons_new, result.duplicates) == (1, 1)
        assert result.duplicate_rows[0].row_number == 3

    def test_same_person_in_two_batches_is_one_person_on_two_lists(self, tmp_path, ids):
        unissued(write_xlsx(tmp_path / "a.xlsx", rows_for(("张三", ids[0], "金碧", ""))))
        result = unissued(
            write_csv(
                tmp_path / "b.csv", rows_for(("张三", ids[0], "金碧", "大河社区")), encoding="gbk"
            ),
            source="州第二批",
        )
        assert (result.persons_new, result.persons_existing, result.persons_filled) == (0, 1, 1)
        person = Person.objects.get()
        assert sorted(person.list_entries.values_list("source_list__source", flat=True)) == [
            "州第二批",
            "省第一批",
        ]
        assert person.village.name == "大河社区"
        event = AuditEvent.objects.get(action="roster.person.updated")
        assert event.before == {"village_id": None} and event.after == {
            "village_id": person.village_id
        }

    def test_reimporting_the_same_file_changes_nothing_and_says_so(self, tmp_path, ids):
        path = write_xlsx(tmp_path / "l.xlsx", rows_for(("张三", ids[0], "金碧", "")))
        unissued(path)
        copy = shutil.copy(path, tmp_path / "renamed.xlsx")
        counts = (
            Person.objects.count(),
            ListEntry.objects.count(),
            SourceList.objects.count(),
            AuditEvent.objects.count(),
        )
        result = unissued(Path(copy))
        assert result.already_imported_at
        assert "未作任何修改" in result.summary()["结果"]
        assert counts == (
            Person.objects.count(),
            ListEntry.objects.count(),
            SourceList.objects.count(),
            AuditEvent.objects.count(),
        )


@pytest.mark.django_db
class TestFilesThatCannotBeImported:
    def assert_nothing_imported(self):
        assert not Person.objects.exists()
        assert not SourceList.objects.exists()
        assert not ListEntry.objects.exists()
        assert not InvalidListRow.objects.exists()

    def test_missing_required_column_is_named(self, tmp_path, ids):
        rows = [["序号", "姓名", "乡镇"], [1, "张三", "金碧"]]
        with pytest.raises(ListImportError, match="找不到必需的列：公民身份号码"):
            unissued(write_xlsx(tmp_path / "l.xlsx", rows))
        self.assert_nothing_imported()

    def test_card_export_without_status_column(self, tmp_path, ids):
        rows = [["姓名", "社会保障号码"], ["张三", ids[0]]]
        with pytest.raises(ListImportError, match="制卡状态"):
            unissued(write_xlsx(tmp_path / "e.xlsx", rows), kind="card_export", source="")
        self.assert_nothing_imported()

    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("broken.xlsx", b"PK\x03\x04 this is not really a zip file", "无法打开"),
            ("fake.xlsx", b"just some text pretending", "不是有效的 Excel"),
            ("empty.csv", b"", "文件是空的"),
            ("binary.csv", b"\x00\x01\x02\xff\xfe" * 50, "编码"),
        ],
    )
    def test_broken_files_get_a_clear_chinese_error(self, tmp_path, name, content, message):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ListImportError, match=message):
            unissued(path)
        self.assert_nothing_imported()

    def test_truncated_xlsx(self, tmp_path, ids):
        path = write_xlsx(tmp_path / "l.xlsx", rows_for(("张三", ids[0], "金碧", "")))
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        with pytest.raises(ListImportError):
            unissued(path)
        self.assert_nothing_imported()

    def test_a_failure_half_way_leaves_nothing(self, tmp_path, ids, monkeypatch):
        path = write_xlsx(
            tmp_path / "l.xlsx",
            rows_for(("张三", ids[0], "金碧", ""), ("李四", ids[1], "金碧", "")),
        )

        def explode(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(imports, "classify_unclassified", explode)
        with pytest.raises(RuntimeError):
            unissued(path)
        self.assert_nothing_imported()
        assert not Village.objects.exists()


def export_rows(*records):
    return [EXPORT_HEADER] + [
        [
            n,
            "某人",
            id_number,
            card,
            "中国农业银行大姚县支行",
            "批量制卡",
            status,
            reason,
            card_status,
            made_on,
        ]
        for n, (id_number, card, status, reason, card_status, made_on) in enumerate(
            records, start=1
        )
    ]


@pytest.mark.django_db
class TestClassification:
    @pytest.fixture
    def listed(self, tmp_path, ids):
        people = [(f"人{i}", id_number, "金碧", "") for i, id_number in enumerate(ids)]
        unissued(write_xlsx(tmp_path / "list.xlsx", rows_for(*people)))
        return ids

    def classes(self):
        return dict(Person.objects.values_list("id_number", "classification__card_class"))

    def test_the_rules(self, tmp_path, listed):
        a, b, c, d, e, f = listed
        rows = export_rows(
            (a, "Y1", "制卡成功", "", "正常", "2020-01-01"),
            (b, "Y2", "制卡成功", "", "注销", "2019-01-01"),
            (b, "", "制卡失败", "照片不合格", "", ""),
            (c, "", "已申领", "", "", ""),
            (c, "", "制卡失败", "旧原因", "", ""),
            (d, "", "制卡失败", "旧原因", "", ""),
            (d, "", "制卡失败", "身份信息校验不通过", "", ""),
            (e, "Y3", "制卡成功", "", "注销", "2018-01-01"),
        )
        list_import(
            kind="card_export",
            path=write_xlsx(tmp_path / "e.xlsx", rows, footer=False),
            original_name="e.xlsx",
        )
        assert self.classes() == {
            a: "card_made",
            b: "card_failed",
            c: "in_production",
            d: "card_failed",
            e: "no_card_info",
            f: "no_card_info",
        }
        assert PersonClass.objects.get(person__id_number=d).failure_reason == "身份信息校验不通过"
        assert PersonClass.objects.get(person__id_number=b).failure_reason == "照片不合格"
        assert CardSystemRecord.objects.count() == 8

    def test_a_new_export_reclassifies_and_shows_what_changed(self, tmp_path, listed):
        a, b, *_ = listed
        first = export_rows(
            (a, "", "制卡中", "", "", ""), (b, "", "制卡失败", "照片不合格", "", "")
        )
        list_import(
            kind="card_export", path=write_xlsx(tmp_path / "1.xlsx", first), original_name="1.xlsx"
        )
        second = export_rows(
            (a, "Y9", "制卡成功", "", "正常", "2026-11-01"),
            (b, "", "制卡失败", "照片不合格", "", ""),
        )
        list_import(
            kind="card_export", path=write_xlsx(tmp_path / "2.xlsx", second), original_name="2.xlsx"
        )
        assert self.classes()[a] == "card_made"
        latest = SourceList.objects.filter(kind="card_export").latest("imported_at")
        # The first export classified a and b for the first time, which is not a change.
        changes = ClassificationChange.objects.all()
        assert [(c.person.id_number, c.previous_class, c.new_class) for c in changes] == [
            (a, "in_production", "card_made")
        ]
        assert changes.get().snapshot == latest

    def test_people_imported_after_the_export_are_classified_at_once(self, tmp_path, ids):
        rows = export_rows((ids[5], "Y1", "制卡成功", "", "正常", "2020-01-01"))
        list_import(
            kind="card_export", path=write_xlsx(tmp_path / "e.xlsx", rows), original_name="e.xlsx"
        )
        unissued(write_xlsx(tmp_path / "l.xlsx", rows_for(("后来", ids[5], "金碧", ""))))
        assert PersonClass.objects.get(person__id_number=ids[5]).card_class == CardClass.CARD_MADE

    def test_subsidy_recipients_without_a_card(self, tmp_path, ids):
        rows = [
            ["补贴项目", "乡镇", "村", "姓名", "身份证号", "补贴金额"],
            ["耕地地力保护补贴", "龙街镇", "老营社区", "刘红", ids[0], "661.00"],
            ["耕地地力保护补贴", "六苴", "上营社区", "罗龙", ids[1], "408.00"],
        ]
        list_import(
            kind="subsidy",
            path=write_csv(tmp_path / "s.csv", rows, encoding="gbk"),
            original_name="s.csv",
            source="耕地地力保护补贴",
        )
        export = export_rows((ids[0], "Y1", "制卡成功", "", "正常", "2020-01-01"))
        list_import(
            kind="card_export", path=write_xlsx(tmp_path / "e.xlsx", export), original_name="e.xlsx"
        )
        total = classification_report()["total"]
        assert (total["subsidy_recipients"], total["subsidy_without_card"], total["listed"]) == (
            2,
            1,
            0,
        )
        assert PersonCategory.objects.filter(category="subsidy_recipient").count() == 2
        assert ListEntry.objects.get(person__id_number=ids[1]).amount == "408.00"


class TestCommandLine:
    """The command as automation runs it: exit codes and Chinese messages on stderr."""

    def run(self, *args, tmp_path):
        env = {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
            "DAYAO_DATA_DIR": str(tmp_path),
            "PATH": "/usr/bin:/bin",
        }
        manage = Path(__file__).resolve().parents[2] / "manage.py"
        subprocess.run([sys.executable, str(manage), "migrate", "-v0"], env=env, check=True)
        return subprocess.run(
            [sys.executable, str(manage), *args], env=env, capture_output=True, text=True
        )

    def test_exit_codes(self, tmp_path):
        good = write_csv(
            tmp_path / "ok.csv",
            rows_for(("张三", make_id_number(), "金碧", ""), ("坏号", "123", "金碧", "")),
            encoding="gbk",
        )
        done = self.run(
            "import_list", "unissued", str(good), "--source", "省第一批", tmp_path=tmp_path
        )
        assert done.returncode == 0, done.stderr
        assert "新增人员：1" in done.stdout and "问题行：1" in done.stdout
        bad = tmp_path / "bad.xlsx"
        bad.write_bytes(b"garbage")
        failed = self.run("import_list", "unissued", str(bad), "--source", "x", tmp_path=tmp_path)
        assert failed.returncode != 0
        assert "不是有效的 Excel" in failed.stderr
        missing = self.run("import_list", "subsidy", str(tmp_path / "nope.csv"), tmp_path=tmp_path)
        assert missing.returncode != 0 and "找不到文件" in missing.stderr
