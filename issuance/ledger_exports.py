"""The distribution ledger (发放台账) as a signed PDF and as Excel, from the web (a
background job) or the command line (``manage.py ledger pdf``): the same file either way.
"""

import tempfile
from collections.abc import Callable
from typing import BinaryIO

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from dayao_sscard.audit import audit_record
from dayao_sscard.jobs import JobProgress, job_attach_result, job_create
from dayao_sscard.models import Job, JobKind, User
from dayao_sscard.pdf import pdf_from_parts
from dayao_sscard.permissions import require
from dayao_sscard.roles import Role
from dayao_sscard.spreadsheets import XlsxWorkbook
from dayao_sscard.tasks import job_enqueue

from .chain import chain_head
from .ledger_report import LedgerReport, ledger_place, ledger_report
from .signing import pdf_sign

PDF, EXCEL = "pdf", "xlsx"
FORMAT_LABELS = {PDF: "PDF（已签名）", EXCEL: "Excel"}
FORMAT_NAMES = {PDF: "PDF", EXCEL: "Excel"}
TEMPLATE = "issuance/ledger_pdf.html"
# Below this many cards starting worker processes (each imports WeasyPrint and loads the
# fonts: seconds) costs more than printing the villages one after another saves.
PARALLEL_FROM_CARDS = 300
# The template's @page margin: the joined document's page numbers go in its bottom margin.
PAGE_MARGIN = "14mm 10mm 12mm 10mm"

XLSX_COLUMNS = {
    "序号": 7,
    "村（社区）": 14,
    "卡号": 14,
    "持卡人": 10,
    "身份证号（脱敏）": 21,
    "发卡银行": 10,
    "流转环节（各次交接）": 60,
    "保管地点": 20,
    "责任人": 10,
    "发放时间": 17,
    "签收人": 10,
    "发放方式": 12,
    "状态": 12,
}


def command_line_reader() -> User:
    """Who reads the ledger for ``manage.py ledger pdf``: whoever runs commands on the
    server holds the whole database; read as the county supervisor does (masked, read only).
    Never saved: the audit log names it 命令行."""
    return User(username="命令行", role=Role.COUNTY_SUPERVISOR, is_active=True)


def ledger_file_name(report: LedgerReport, fmt: str) -> str:
    return (
        f"发放台账_{report.scope_label}_{timezone.localtime(report.generated_at):%Y%m%d_%H%M}.{fmt}"
    )


def ledger_pdf_bytes(
    report: LedgerReport, *, progress: Callable[[int, int], None] | None = None
) -> bytes:
    """The signed PDF of the report: a part per village, printed side by side, joined,
    numbered, then signed as a whole."""
    today = timezone.localdate(report.generated_at)
    head = chain_head(today)
    common = {
        "report": report,
        "generated": f"{timezone.localtime(report.generated_at):%Y-%m-%d %H:%M}",
        "numbered": False,
        "chain_head": head,
        "chain_day": f"{today.year}年{today.month}月{today.day}日",
    }
    parts = [
        render_to_string(TEMPLATE, {**common, "villages": [v], "with_summary": False})
        for v in report.villages
    ]
    parts.append(render_to_string(TEMPLATE, {**common, "villages": [], "with_summary": True}))
    joined = pdf_from_parts(
        parts,
        workers=settings.LEDGER_PDF_WORKERS if report.card_count >= PARALLEL_FROM_CARDS else 1,
        orientation="landscape",
        margin=PAGE_MARGIN,
        on_part_done=progress,
    )
    return pdf_sign(joined, reason=f"{report.scope_label}社会保障卡发放台账")


def ledger_xlsx_write(report: LedgerReport, stream: BinaryIO) -> int:
    """The same rows as the PDF, one sheet; returns the number of cards written."""
    workbook = XlsxWorkbook()
    sheet = workbook.sheet(
        f"{report.scope_label}发放台账",
        header=list(XLSX_COLUMNS),
        widths={chr(ord("A") + i): w for i, w in enumerate(XLSX_COLUMNS.values())},
    )
    written = 0
    for village in report.villages:
        for row in village.rows:
            written += 1
            sheet.append(
                [
                    written,
                    row.village,
                    row.card_number,
                    row.holder,
                    row.masked_id_number,
                    row.bank,
                    "；".join(str(step) for step in row.handovers),
                    row.location,
                    row.responsible_person,
                    row.issued_at,
                    row.signee,
                    row.method,
                    row.status,
                ]
            )
    workbook.save(stream)
    return written


def _audit_export(user, report: LedgerReport, fmt: str, obj) -> None:
    audit_record(
        actor=user,
        action="issuance.ledger.exported",
        obj=obj,
        after={
            "township": report.township.code,
            "village": report.village.name if report.village else "",
            "format": fmt,
            "cards": report.card_count,
        },
        note=f"导出{report.scope_label}发放台账（{FORMAT_NAMES[fmt]}）{report.card_count} 张",
    )


def ledger_pdf_write_for_command(*, township_code: str, village_name: str, out: BinaryIO) -> int:
    """``manage.py ledger pdf``: the signed PDF the web job makes; returns the card count.

    Raises ``ValidationError`` (Chinese) for an unknown township or village.
    """
    reader = command_line_reader()
    township, village = ledger_place(
        user=reader, township_code=township_code, village_name=village_name
    )
    report = ledger_report(user=reader, township=township, village=village)
    out.write(ledger_pdf_bytes(report))
    _audit_export(reader, report, PDF, village or township)
    return report.card_count


def ledger_export_start(*, acting_user, township_code: str, village_name: str, fmt: str) -> Job:
    """Create the ledger job and queue it; the job page follows its progress."""
    township, village = ledger_place(
        user=acting_user, township_code=township_code, village_name=village_name
    )
    fmt = fmt if fmt in FORMAT_LABELS else PDF
    place = f"{township.name}{village.name}" if village else township.name
    with transaction.atomic():
        job = job_create(
            kind=JobKind.LEDGER,
            work="issuance.ledger_exports.ledger_export_run",
            title=f"{place}发放台账（{FORMAT_NAMES[fmt]}）",
            started_by=acting_user,
            params={
                "township": township.code,
                "village": village.name if village else "",
                "format": fmt,
            },
        )
        job_enqueue(job)
    return job


def ledger_export_run(job: Job, progress: JobProgress) -> dict:
    """The job's work: read the ledger, write the file, attach it to the job."""
    user = job.started_by
    require(user, "issuance.view_ledger")
    township, village = ledger_place(
        user=user, township_code=job.params["township"], village_name=job.params.get("village", "")
    )
    fmt = job.params.get("format", PDF)
    progress(0, 1, "正在读取台账", force=True)
    report = ledger_report(user=user, township=township, village=village)
    name = ledger_file_name(report, fmt)
    with tempfile.TemporaryFile() as stream:
        if fmt == EXCEL:
            ledger_xlsx_write(report, stream)
        else:
            villages = len(report.villages)

            def part_done(done: int, total: int) -> None:
                # The last part is the summary; joining and signing come after it.
                message = "正在合并、编页码并签名" if done == total else "正在生成"
                progress(
                    done, total + 1, f"{message}（已完成 {min(done, villages)}/{villages} 个村）"
                )

            stream.write(ledger_pdf_bytes(report, progress=part_done))
        stream.seek(0)
        job_attach_result(job, name=name, content=File(stream, name=name))
    _audit_export(user, report, fmt, job)
    return {"卡数": report.card_count, "村（社区）数": len(report.villages)}
