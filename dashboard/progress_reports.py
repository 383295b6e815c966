"""进度通报: the progress report of a chosen day, as a PDF and an Excel workbook, made by
a background job for the bureau to send to the townships.

The figures are those of ``roster.progress`` (the dashboards' and ``report progress``'s):
today's report reads the counters as they stand, a past day's the last daily snapshot
taken up to that day, and says which. Both files are written from one reading, so the
PDF and the workbook never disagree. The PDF's charts are inline SVG drawn here
(``dashboard.svg_charts``): WeasyPrint runs no JavaScript.
"""

import datetime
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import connection, transaction
from django.utils import timezone

from dayao_sscard.audit import audit_record
from dayao_sscard.jobs import JobFailure, JobProgress, job_attach_result, job_create
from dayao_sscard.models import Campaign, Job, JobKind, JobStatus, User
from dayao_sscard.pdf import pdf_from_template
from dayao_sscard.permissions import require
from dayao_sscard.spreadsheets import XlsxWorkbook
from dayao_sscard.tasks import job_enqueue
from roster.figures import FIGURE_LABELS, FUNNEL_KEYS, SIDE_KEYS
from roster.models import Township
from roster.progress import (
    STAGE_MEASURES,
    day_label,
    figure_share,
    figures_day,
    next_stage,
    progress_by_township,
    progress_by_village,
    progress_trend,
    share_base,
    stage_standing,
)

from . import svg_charts
from .selectors import campaign_active

ACTION = "dashboard.make_progress_report"
TITLE = "大姚县社会保障卡应发尽发工作进度通报"
TEMPLATE = "pdf/progress_report.html"
PDF, EXCEL = "pdf", "xlsx"
FORMATS = (PDF, EXCEL)
TABLE_KEYS = FUNNEL_KEYS + SIDE_KEYS
TREND_KEYS = ("verified", "made", "issued", "activated")
TREND_DAYS = 60


def _cells(figures: dict[str, int]) -> list[dict]:
    return [
        {"key": key, "n": figures.get(key, 0), "share": figure_share(figures, key)}
        for key in TABLE_KEYS
    ]


def days_left_label(days_left: int) -> str:
    if days_left > 0:
        return f"剩余 {days_left} 天"
    if days_left == 0:
        return "今日截止"
    return f"已逾期 {-days_left} 天"


@dataclass
class ProgressReport:
    day: datetime.date
    snapshot_day: datetime.date | None  # None: the counters as they stood when generated
    generated_at: datetime.datetime
    campaign: Campaign | None
    stages: list[dict]
    stage: dict | None  # the stage whose deadline is next on ``day``
    total: dict[str, int]
    townships: list[dict]
    villages: list[dict] = field(default_factory=list)
    trend: list[dict] = field(default_factory=list)

    @property
    def day_label(self) -> str:
        return day_label(self.day)

    @property
    def source_label(self) -> str:
        if self.snapshot_day is None:
            return f"实时数据（截至{timezone.localtime(self.generated_at):%Y年%m月%d日 %H:%M}）"
        return f"{day_label(self.snapshot_day)}的每日进度快照"

    @property
    def generated_label(self) -> str:
        return f"{timezone.localtime(self.generated_at):%Y年%m月%d日 %H:%M}"

    @property
    def behind(self) -> list[dict]:
        return [t for t in self.townships if t["standing"] and t["standing"]["behind"]]

    @property
    def figure_labels(self) -> list[str]:
        return [FIGURE_LABELS[key] for key in TABLE_KEYS]


def _stages(campaign: Campaign | None, day: datetime.date, total: dict) -> list[dict]:
    if campaign is None:
        return []
    stages = campaign.stages()
    for stage in stages:
        standing = stage_standing(total, stage, day)
        stage.update(
            days_left=standing["days_left"],
            days_left_label=days_left_label(standing["days_left"]),
            overdue=standing["days_left"] < 0,
            standing=standing,
            measure_label=FIGURE_LABELS[STAGE_MEASURES[stage["code"]][0]],
            base_label=FIGURE_LABELS[STAGE_MEASURES[stage["code"]][1]],
        )
    return stages


@contextmanager
def _one_reading() -> Iterator[None]:
    """Today's counters move while the report reads them township by township: on
    PostgreSQL every read of the report sees the database as it stood at the first, so the
    villages add up to their township. (Inside a transaction already begun, as in tests,
    its own view is kept; SQLite's single writer gives one view anyway.)"""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def progress_report(
    *, user, day: datetime.date, progress: Callable[[int, int, str], None] | None = None
) -> ProgressReport:
    """Every figure of the report of ``day`` in the user's scope, read once."""
    require(user, ACTION)
    with _one_reading():
        return _progress_report(user=user, day=day, progress=progress)


def _progress_report(
    *, user, day: datetime.date, progress: Callable[[int, int, str], None] | None
) -> ProgressReport:
    snapshot_day = figures_day(day)
    generated_at = timezone.now()
    read_day = None if snapshot_day is None else day
    by_township = progress_by_township(user=user, day=read_day)
    townships = {t.code: t for t in Township.objects.all()}
    campaign = campaign_active()
    stages = _stages(campaign, day, by_township["total"])
    stage = next_stage(stages, day)
    rows = []
    for row in by_township["townships"]:
        standing = stage_standing(row, stage, day) if stage else None
        rows.append(
            {"code": row["code"], "name": row["name"], "figures": row, "standing": standing}
        )
    villages = []
    for i, row in enumerate(rows):
        if progress:
            progress(i, len(rows), f"正在读取各村（社区）数据（{i}/{len(rows)} 个乡镇）")
        per_village = progress_by_village(user=user, township=townships[row["code"]], day=read_day)
        villages.append({"township": row["name"], "rows": per_village["villages"]})
    today = timezone.localdate()
    trend = [
        {**point, "day": datetime.date.fromisoformat(point["date"])}
        for point in progress_trend(user=user, days=(today - day).days + TREND_DAYS)
    ]
    trend = [point for point in trend if point["day"] <= day]
    return ProgressReport(
        day=day,
        snapshot_day=snapshot_day,
        generated_at=generated_at,
        campaign=campaign,
        stages=stages,
        stage=stage,
        total=by_township["total"],
        townships=rows,
        villages=villages,
        trend=trend,
    )


# ---- the PDF -------------------------------------------------------------------------------


def report_charts(report: ProgressReport) -> dict:
    charts = {
        "funnel": svg_charts.funnel(
            "全县进度漏斗",
            [
                (FIGURE_LABELS[key], report.total.get(key, 0), figure_share(report.total, key))
                for key in FUNNEL_KEYS
            ],
        )
    }
    if report.stage:
        charts["stage"] = svg_charts.share_bars(
            f"各乡镇{report.stage['label']}完成率",
            [
                svg_charts.Bar(
                    label=t["name"],
                    share=t["standing"]["share"],
                    expected=t["standing"]["expected"],
                    behind=t["standing"]["behind"],
                )
                for t in report.townships
            ],
        )
    if len(report.trend) >= 2:
        charts["trend"] = svg_charts.trend_lines(
            "全县进度趋势",
            [point["day"] for point in report.trend],
            [(FIGURE_LABELS[key], [point[key] for point in report.trend]) for key in TREND_KEYS],
        )
    return charts


def progress_report_pdf(report: ProgressReport) -> bytes:
    return pdf_from_template(
        TEMPLATE,
        {
            "title": TITLE,
            "report": report,
            "charts": report_charts(report),
            "rows": [{**t, "cells": _cells(t["figures"])} for t in report.townships],
            "total_cells": _cells(report.total),
            "figure_labels": report.figure_labels,
            "share_note": "占比：已死亡为占名单人数，其余为占应持卡人数。",
        },
    )


# ---- the workbook ------------------------------------------------------------------------


def _figure_header() -> list[str]:
    header = []
    for key in TABLE_KEYS:
        header.append(FIGURE_LABELS[key])
        if share_base(key):
            header.append(f"{FIGURE_LABELS[key]}占比（%）")
    return header


def _figure_values(figures: dict[str, int]) -> list:
    values = []
    for key in TABLE_KEYS:
        values.append(figures.get(key, 0))
        if share_base(key):
            values.append(figure_share(figures, key))
    return values


def progress_report_xlsx_write(report: ProgressReport, stream: BinaryIO) -> None:
    """汇总, 各乡镇, 各村（社区）, 趋势: the figures as numbers, shares as percent numbers."""
    workbook = XlsxWorkbook()
    summary = workbook.sheet("汇总", widths={"A": 18, "B": 16, "C": 12, "D": 14, "E": 14, "F": 14})
    summary.append([TITLE])
    summary.append(["通报日期", report.day])
    summary.append(["数据来源", report.source_label])
    summary.append(["生成时间", report.generated_label])
    summary.append(["工作方案", report.campaign.name if report.campaign else "未设置当前工作方案"])
    summary.append([])
    if report.stages:
        summary.header(
            ["阶段", "截止日期", "目标（%）", "截止情况", "全县完成率（%）", "至通报日应达（%）"]
        )
        for stage in report.stages:
            summary.append(
                [
                    stage["label"],
                    stage["deadline"],
                    stage["target"],
                    stage["days_left_label"],
                    stage["standing"]["share"],
                    stage["standing"]["expected"],
                ]
            )
        summary.append([])
    summary.header(["指标", "全县人数", "占比（%）"])
    summary.append(["应持卡人数", report.total.get("should_hold", 0), None])
    for key in TABLE_KEYS:
        summary.append(
            [FIGURE_LABELS[key], report.total.get(key, 0), figure_share(report.total, key)]
        )

    stage_header = []
    if report.stage:
        label = report.stage["label"]
        stage_header = [f"{label}完成率（%）", f"{label}至通报日应达（%）", "差额人数", "是否滞后"]
    townships = workbook.sheet("各乡镇", widths={"A": 12, "B": 14})
    townships.header(["区划代码", "乡镇", "应持卡人数", *_figure_header(), *stage_header])
    for t in report.townships:
        standing = t["standing"]
        stage_values = (
            [
                standing["share"],
                standing["expected"],
                standing["short"],
                "滞后" if standing["behind"] else "正常",
            ]
            if standing
            else []
        )
        townships.append(
            [
                t["code"],
                t["name"],
                t["figures"].get("should_hold", 0),
                *_figure_values(t["figures"]),
                *stage_values,
            ]
        )
    townships.append(
        ["", "全县合计", report.total.get("should_hold", 0), *_figure_values(report.total)]
    )

    villages = workbook.sheet("各村（社区）", widths={"A": 12, "B": 18})
    villages.header(["乡镇", "村（社区）", "应持卡人数", *_figure_header()])
    for group in report.villages:
        for row in group["rows"]:
            villages.append(
                [group["township"], row["name"], row.get("should_hold", 0), *_figure_values(row)]
            )

    trend = workbook.sheet("趋势", widths={"A": 14})
    trend.header(["日期", *(FIGURE_LABELS[key] for key in TABLE_KEYS)])
    for point in report.trend:
        trend.append([point["day"], *(point.get(key, 0) for key in TABLE_KEYS)])
    workbook.save(stream)


# ---- the job -----------------------------------------------------------------------------


def file_name(report: ProgressReport, fmt: str) -> str:
    return f"进度通报_{report.day_label}.{fmt}"


def progress_report_start(*, acting_user, day: datetime.date) -> Job:
    """Queue the report of ``day``. A second start of the same report by the same user
    while the first is still waiting or running (a double click) returns the first job.

    Raises ``ValidationError`` (Chinese) for a day without figures.
    """
    require(acting_user, ACTION)
    figures_day(day)
    with transaction.atomic():
        # Two starts by one user queue one after the other here, so the second sees the first.
        User.objects.select_for_update().filter(pk=acting_user.pk).exists()
        running = Job.objects.filter(
            kind=JobKind.PROGRESS_REPORT,
            started_by=acting_user,
            status__in=(JobStatus.QUEUED, JobStatus.RUNNING),
            params__day=day.isoformat(),
        ).first()
        if running is not None:
            return running
        job = job_create(
            kind=JobKind.PROGRESS_REPORT,
            work="dashboard.progress_reports.progress_report_run",
            title=f"进度通报（{day_label(day)}）",
            started_by=acting_user,
            params={"day": day.isoformat()},
        )
        job_enqueue(job)
    return job


def _attach_workbook(job: Job, *, name: str, content: File) -> None:
    """The job's second file, beside its result (the PDF): a job row holds one file, so
    its stored name goes into the job's parameters, read by ``report_file``."""
    stored = job.result_file.storage.save(f"jobs/result/{timezone.now():%Y/%m}/{name}", content)
    job.params = {**job.params, "xlsx_file": stored, "xlsx_name": name}
    Job.objects.filter(pk=job.pk).update(params=job.params)


def report_file(job: Job, fmt: str) -> tuple[File, str] | None:
    """The report's PDF or workbook, opened, and its name; None when it has none."""
    try:
        if fmt == PDF and job.result_file:
            return job.result_file.open("rb"), job.result_name
        if fmt == EXCEL and job.params.get("xlsx_file"):
            storage = job.result_file.storage
            return storage.open(job.params["xlsx_file"], "rb"), job.params["xlsx_name"]
    except FileNotFoundError:  # lost; one deleted under the retention rule is no longer named
        return None
    return None


def progress_report_run(job: Job, progress: JobProgress) -> dict:
    """The job's work: read the figures once, write the PDF and the workbook."""
    user = job.started_by
    require(user, ACTION)
    day = datetime.date.fromisoformat(job.params["day"])
    progress(0, 1, "正在读取进度数据", force=True)
    try:
        report = progress_report(
            user=user,
            day=day,
            progress=lambda done, total, message: progress(done, total + 3, message),
        )
    except ValidationError as exc:
        raise JobFailure("；".join(exc.messages)) from exc
    steps = len(report.townships) + 3
    progress(steps - 3, steps, "正在绘制图表并生成 PDF", force=True)
    pdf = progress_report_pdf(report)
    job_attach_result(job, name=file_name(report, PDF), content=ContentFile(pdf, name="report.pdf"))
    progress(steps - 1, steps, "正在生成 Excel", force=True)
    with tempfile.TemporaryFile() as stream:
        progress_report_xlsx_write(report, stream)
        stream.seek(0)
        _attach_workbook(
            job, name=file_name(report, EXCEL), content=File(stream, name="report.xlsx")
        )
    audit_record(
        actor=user,
        action="dashboard.progress_report.exported",
        obj=job,
        after={
            "day": job.params["day"],
            "snapshot_day": report.snapshot_day.isoformat() if report.snapshot_day else "",
        },
        note=f"生成{report.day_label}进度通报（{report.source_label}）",
    )
    return {
        "通报日期": report.day_label,
        "数据来源": report.source_label,
        "乡镇数": len(report.townships),
        "进度滞后乡镇数": len(report.behind),
    }
