"""进度通报: choose a day, start the job, follow it, download its PDF and workbook."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from dayao_sscard.jobs import job_file_gone_message, job_refresh
from dayao_sscard.permissions import action_required, require
from roster.progress import figures_day

from . import selectors
from .progress_reports import (
    ACTION,
    FORMATS,
    day_label,
    progress_report_start,
    report_file,
)

BAD_DAY = "日期格式不正确，请选择通报日期（年-月-日）。"


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationError(BAD_DAY) from exc


@action_required(ACTION)
def report(request: HttpRequest) -> HttpResponse:
    user = request.user
    data = request.POST if request.method == "POST" else request.GET
    today = timezone.localdate()
    value = data.get("day", "") or today.isoformat()
    error, source = "", ""
    try:
        day = _day(value)
        snapshot_day = figures_day(day)
        if request.method == "POST":
            job = progress_report_start(acting_user=user, day=day)
            return redirect("progress-report-job", pk=job.pk)
        source = (
            "按实时数据生成"
            if snapshot_day is None
            else f"使用{day_label(snapshot_day)}的每日进度快照"
        )
    except (ValidationError, PermissionDenied) as exc:
        error = "；".join(getattr(exc, "messages", [str(exc)]))
    return render(
        request,
        "dashboard/report.html",
        {
            "day": value,
            "today": today.isoformat(),
            "source": source,
            "error": error,
            "reports": selectors.progress_report_jobs(user=user),
        },
        status=400 if error else 200,
    )


@action_required(ACTION)
def report_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = job_refresh(selectors.progress_report_job(user=request.user, pk=pk))
    return render(request, "dashboard/report_job.html", {"job": job})


@action_required(ACTION)
def report_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    job = selectors.progress_report_job(user=request.user, pk=pk)
    require(request.user, "dayao_sscard.download_job_result", job)
    found = report_file(job, fmt) if fmt in FORMATS else None
    if found is None and job.result_deleted_at:
        messages.warning(request, job_file_gone_message(job))
        return redirect("progress-report-job", pk=job.pk)
    if found is None:
        raise Http404("该进度通报没有这个文件。")
    stream, name = found
    return FileResponse(stream, as_attachment=True, filename=name)
