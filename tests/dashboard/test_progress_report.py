"""进度通报: the PDF (embedded Chinese fonts, the figures of ``progress_by_township``), the
workbook (the same figures, as numbers), a past day read from its snapshot, the job and
its two downloads, and who may make it."""

import datetime
import io
import subprocess
from urllib.parse import quote

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from dashboard.progress_reports import (
    TABLE_KEYS,
    figure_share,
    progress_report,
    progress_report_pdf,
    progress_report_start,
    progress_report_xlsx_write,
    report_charts,
)
from dashboard.svg_charts import Bar, percent, share_bars
from dayao_sscard.jobs import job_run
from dayao_sscard.models import AuditEvent, Job, JobKind, JobStatus
from dayao_sscard.roles import Role
from roster.figures import FIGURE_LABELS, FUNNEL_KEYS
from roster.progress import figures_rebuild, figures_snapshot, progress_by_township
from tests.factories import CampaignFactory, PersonFactory, UserFactory, VillageFactory, put_on_list
from tests.issuance.ledgerdata import ledger_cards

# A place name as an imported list could spell it: it must stay text, never markup.
ODD_VILLAGE = "<b>=SUM(A1)</b>村"


@pytest.fixture
def figures(county_admin, village_a, village_a2, village_b):
    """Listed persons in 金碧镇 (two villages) and 石羊镇, cards made and issued in 金碧镇."""
    CampaignFactory()
    put_on_list(*[PersonFactory(township=village_a.township, village=village_a) for _ in range(5)])
    put_on_list(*[PersonFactory(township=village_b.township, village=village_b) for _ in range(3)])
    odd = VillageFactory(township=village_a.township, name=ODD_VILLAGE)
    put_on_list(PersonFactory(township=odd.township, village=odd))
    ledger_cards(village_a2, count=4, acting_user=county_admin, issued=2)
    # The lists were written in bulk, as an import writes them: counted from scratch.
    figures_rebuild()
    return progress_by_township()


def today() -> datetime.date:
    return timezone.localdate()


def pdf_tool(tool: str, data: bytes, tmp_path, *args: str) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(
        [tool, *args, str(path), "-"][: None if tool == "pdftotext" else -1],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def township_row(figures: dict, name: str) -> dict:
    return next(t for t in figures["townships"] if t["name"] == name)


class TestThePdf:
    def test_embeds_every_font_and_shows_the_figures(self, figures, supervisor, tmp_path):
        report = progress_report(user=supervisor, day=today())
        pdf = progress_report_pdf(report)
        assert pdf.startswith(b"%PDF-")

        fonts = pdf_tool("pdffonts", pdf, tmp_path).splitlines()[2:]
        assert fonts, "the PDF names no font"
        assert all(line.split()[-5] == "yes" for line in fonts), fonts  # the emb column
        assert any("Noto" in line and "CJK" in line for line in fonts), fonts

        text = pdf_tool("pdftotext", pdf, tmp_path, "-layout")
        assert "大姚县社会保障卡应发尽发工作进度通报" in text
        assert f"通报日期：{today().year}年{today().month}月{today().day}日" in text
        assert "数据来源：实时数据" in text
        for stage in ("数据比对", "信息核查", "制卡", "发放", "金融功能激活"):
            assert stage in text
        jinbi, shiyang = township_row(figures, "金碧镇"), township_row(figures, "石羊镇")
        assert (jinbi["listed"], jinbi["made"], jinbi["issued"]) == (6, 4, 2)
        assert (shiyang["listed"], shiyang["made"]) == (3, 0)
        for row in (jinbi, shiyang):
            line = next(
                line for line in text.splitlines() if line.strip().startswith(row["name"] + " ")
            )
            numbers = line.split()[1:]
            assert numbers[: len(TABLE_KEYS)] == [str(row[key]) for key in TABLE_KEYS], line
        total = figures["total"]
        total_line = next(line for line in text.splitlines() if line.strip().startswith("全县合计"))
        assert total_line.split()[1:] == [str(total[key]) for key in TABLE_KEYS]
        # The next stage's standing per township, behind ones marked (after every deadline
        # of the plan, every township short of 100 % activated is behind).
        assert "当前阶段各乡镇进度：金融功能激活" in text
        assert "滞后" in text

    def test_the_charts_are_drawn_in_the_pdf_with_their_labels(self, figures, supervisor):
        report = progress_report(user=supervisor, day=today())
        charts = report_charts(report)
        assert set(charts) == {"funnel", "stage"}  # no snapshot yet: no trend line
        assert "<svg" in charts["stage"] and "金碧镇" in charts["stage"]
        assert "已制卡" in charts["funnel"]

    def test_the_funnel_shows_the_shares_of_the_table(self, figures, supervisor):
        """A figure's share in the funnel is the table's (of those who should hold a
        card): one report must not print two percentages for 已核查."""
        report = progress_report(user=supervisor, day=today())
        total = report.total
        assert total["listed"] != total["should_hold"]  # else both bases agree anyway

        funnel = report_charts(report)["funnel"]

        for key in FUNNEL_KEYS[1:]:
            assert f"{total[key]}（{percent(figure_share(total, key))}）" in funnel, key

    def test_the_stage_chart_expects_the_report_day_not_today(self, figures, supervisor):
        """A report of a past day marks the share expected on that day; its legend must
        not call that 今日 (the table beside it says 至通报日)."""
        report = progress_report(user=supervisor, day=today())

        stage = report_charts(report)["stage"]

        assert "今日" not in stage and "按进度至通报日应达" in stage

    def test_a_place_name_is_text_in_a_chart(self):
        svg = share_bars("图", [Bar(label=ODD_VILLAGE, share=50.0, expected=60.0, behind=True)])
        assert "<b>" not in svg and "&lt;b&gt;" in svg


class TestTheWorkbook:
    def test_the_same_figures_as_numbers(self, figures, supervisor):
        report = progress_report(user=supervisor, day=today())
        stream = io.BytesIO()
        progress_report_xlsx_write(report, stream)
        stream.seek(0)
        book = openpyxl.load_workbook(stream)
        assert book.sheetnames == ["汇总", "各乡镇", "各村（社区）", "趋势"]

        sheet = book["各乡镇"]
        rows = list(sheet.iter_rows(values_only=True))
        header = rows[0]
        assert header[:4] == ("区划代码", "乡镇", "应持卡人数", "名单人数")
        by_name = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
        assert len(by_name) == 13  # twelve townships and the county's total
        for row in figures["townships"] + [{**figures["total"], "name": "全县合计"}]:
            cells = by_name[row["name"]]
            for key in TABLE_KEYS:
                assert cells[FIGURE_LABELS[key]] == row[key], (row["name"], key)
            assert cells["已发放占比（%）"] == figure_share(row, "issued")
        assert isinstance(by_name["金碧镇"]["已制卡"], int)
        assert by_name["金碧镇"]["已制卡占比（%）"] == 40.0

        villages = list(book["各村（社区）"].iter_rows(values_only=True))
        names = [(row[0], row[1], row[3]) for row in villages[1:]]
        assert ("金碧镇", "大河社区", 5) in names and ("石羊镇", "石羊社区", 3) in names
        # A name that reads like a formula stays text (the shared writer's quote prefix).
        odd = next(c for c in book["各村（社区）"]["B"] if c.value == ODD_VILLAGE)
        assert odd.data_type == "s"

        summary = {row[0]: row[1:] for row in book["汇总"].iter_rows(values_only=True) if row[0]}
        assert summary["名单人数"][0] == figures["total"]["listed"] == 9
        assert summary["已发放"][0] == 2
        trend = list(book["趋势"].iter_rows(values_only=True))
        assert trend[0][0] == "日期" and trend[-1][1] == figures["total"]["listed"]


class TestThePastDay:
    def test_a_past_day_reads_its_snapshot_and_says_which(
        self, figures, supervisor, village_b, tmp_path
    ):
        taken = today() - datetime.timedelta(days=5)
        figures_snapshot(taken)
        put_on_list(
            *[PersonFactory(township=village_b.township, village=village_b) for _ in range(4)]
        )
        figures_rebuild()
        assert township_row(progress_by_township(), "石羊镇")["listed"] == 7

        asked = today() - datetime.timedelta(days=2)  # no snapshot that day: the one before
        report = progress_report(user=supervisor, day=asked)
        assert report.snapshot_day == taken
        assert report.source_label == f"{taken.year}年{taken.month}月{taken.day}日的每日进度快照"
        then = progress_by_township(day=asked)
        assert township_row(then, "石羊镇")["listed"] == 3
        assert report.total == then["total"]
        assert [point["day"] for point in report.trend] == [taken]

        text = pdf_tool("pdftotext", progress_report_pdf(report), tmp_path, "-layout")
        assert f"数据来源：{report.source_label}" in text
        line = next(line for line in text.splitlines() if line.strip().startswith("石羊镇 "))
        assert line.split()[1] == "3"

    def test_a_day_without_snapshot_and_a_future_day_are_refused(self, figures, supervisor):
        with pytest.raises(ValidationError, match="没有每日进度快照"):
            progress_report(user=supervisor, day=today() - datetime.timedelta(days=1))
        with pytest.raises(ValidationError, match="不能选择今天.*以后的日期"):
            progress_report(user=supervisor, day=today() + datetime.timedelta(days=1))

    def test_the_trend_is_drawn_once_snapshots_exist(self, figures, supervisor):
        figures_snapshot(today() - datetime.timedelta(days=3))
        report = progress_report(user=supervisor, day=today())
        assert len(report.trend) == 2
        assert "trend" in report_charts(report)


class TestTheJob:
    def test_the_page_starts_the_job_and_both_files_download(
        self, client, figures, supervisor, django_capture_on_commit_callbacks
    ):
        client.force_login(supervisor)
        page = client.get(reverse("progress-report"))
        assert page.status_code == 200
        assert f'value="{today().isoformat()}"' in page.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("progress-report"), {"day": today().isoformat()})
        job = Job.objects.get(kind=JobKind.PROGRESS_REPORT)
        assert response.status_code == 302
        assert response["Location"] == reverse("progress-report-job", args=[job.pk])
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.counts["乡镇数"] == 12

        page = client.get(response["Location"]).content.decode()
        day = f"{today().year}年{today().month}月{today().day}日"
        assert f"下载 进度通报_{day}.pdf" in page and f"下载 进度通报_{day}.xlsx" in page

        pdf = client.get(reverse("progress-report-file", args=[job.pk, "pdf"]))
        assert pdf.status_code == 200
        assert quote(f"进度通报_{day}.pdf") in pdf["Content-Disposition"]
        assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
        xlsx = client.get(reverse("progress-report-file", args=[job.pk, "xlsx"]))
        assert quote(f"进度通报_{day}.xlsx") in xlsx["Content-Disposition"]
        book = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
        assert "各乡镇" in book.sheetnames
        assert client.get(reverse("progress-report-file", args=[job.pk, "doc"])).status_code == 404
        assert AuditEvent.objects.filter(action="dashboard.progress_report.exported").count() == 1

    def test_a_double_click_starts_one_job(self, figures, supervisor, county_admin):
        first = progress_report_start(acting_user=supervisor, day=today())
        again = progress_report_start(acting_user=supervisor, day=today())
        assert again == first
        other = progress_report_start(acting_user=county_admin, day=today())
        assert other != first
        assert Job.objects.filter(kind=JobKind.PROGRESS_REPORT).count() == 2

    def test_a_bad_day_gets_a_chinese_message_and_no_job(self, client, figures, supervisor):
        client.force_login(supervisor)
        for day, message in (
            ("2026-13-45", "日期格式不正确"),
            ((today() + datetime.timedelta(days=1)).isoformat(), "以后的日期"),
            ((today() - datetime.timedelta(days=1)).isoformat(), "没有每日进度快照"),
        ):
            response = client.post(reverse("progress-report"), {"day": day})
            assert response.status_code == 400
            assert message in response.content.decode()
        assert not Job.objects.filter(kind=JobKind.PROGRESS_REPORT).exists()

    def test_a_job_of_another_kind_is_not_a_report(self, client, supervisor):
        job = Job.objects.create(kind=JobKind.EXPORT, title="导出", started_by=supervisor)
        client.force_login(supervisor)
        assert client.get(reverse("progress-report-job", args=[job.pk])).status_code == 404


class TestWhoMay:
    @pytest.mark.parametrize("persona", ["county_admin", "supervisor"])
    def test_county_roles_may(self, client, request, persona, figures):
        client.force_login(request.getfixturevalue(persona))
        assert client.get(reverse("progress-report")).status_code == 200

    @pytest.mark.parametrize("persona", ["clerk_a", "clerk_b", "collector_a", "banker_a"])
    def test_township_village_and_bank_staff_may_not(self, client, request, persona, figures):
        user = request.getfixturevalue(persona)
        client.force_login(user)
        assert client.get(reverse("progress-report")).status_code == 403
        response = client.post(reverse("progress-report"), {"day": today().isoformat()})
        assert response.status_code == 403
        with pytest.raises(PermissionDenied):
            progress_report_start(acting_user=user, day=today())
        with pytest.raises(PermissionDenied):
            progress_report(user=user, day=today())

    def test_another_readers_report_opens_but_its_files_are_the_starters(
        self, client, figures, supervisor, county_admin, clerk_a, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            job = progress_report_start(acting_user=county_admin, day=today())
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED
        client.force_login(supervisor)
        assert client.get(reverse("progress-report-job", args=[job.pk])).status_code == 200
        assert client.get(reverse("progress-report-file", args=[job.pk, "pdf"])).status_code == 403
        client.force_login(clerk_a)
        assert client.get(reverse("progress-report-job", args=[job.pk])).status_code == 403
        assert client.get(reverse("progress-report-file", args=[job.pk, "pdf"])).status_code == 403

    def test_a_starter_who_lost_the_role_gets_a_failed_job(self, figures, township_a):
        reader = UserFactory(role=Role.COUNTY_SUPERVISOR, township=None)
        job = progress_report_start(acting_user=reader, day=today())
        reader.role = Role.TOWNSHIP_STAFF
        reader.township = township_a
        reader.save()
        job_run(job.pk)
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED
        assert "生成进度通报" in job.error
