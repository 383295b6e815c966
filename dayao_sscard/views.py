from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from . import selectors
from .audit import ACTION_LABELS
from .jobs import job_file_gone_message, job_file_open, job_refresh
from .params import query_without_page
from .permissions import action_required, require


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.job_list(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "jobs/list.html", {"page": page})


@action_required("dayao_sscard.open_job")
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = job_refresh(selectors.job_get(user=request.user, pk=pk))
    return render(
        request,
        "jobs/detail.html",
        {"job": job, "waiting_long": selectors.job_is_waiting_long(job)},
    )


@action_required("dayao_sscard.open_job")
@require_GET
def job_status(request: HttpRequest, pk: int) -> JsonResponse:
    job = job_refresh(selectors.job_get(user=request.user, pk=pk))
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.status_label,
            "progress": job.progress,
            "message": job.message,
            "finished": job.is_finished,
            "error": job.error,
            "counts": job.counts,
            "has_result": bool(job.result_file),
            "waiting_long": selectors.job_is_waiting_long(job),
            "waits_for_broker": job.waits_for_broker,
        }
    )


@action_required("dayao_sscard.open_job")
def job_result(request: HttpRequest, pk: int) -> HttpResponse:
    job = job_refresh(selectors.job_get(user=request.user, pk=pk))
    require(request.user, "dayao_sscard.download_job_result", job)
    if not job.result_file and not job.result_deleted_at:
        raise Http404("该任务没有结果文件。")
    stream = job_file_open(job.result_file)
    if stream is None:
        # Deleted under the retention rule (or lost): the job's page says which, and when.
        messages.warning(request, job_file_gone_message(job))
        return redirect("job-detail", pk=job.pk)
    return FileResponse(stream, as_attachment=True, filename=job.result_name)


@action_required("dayao_sscard.view_audit_log")
def audit_list(request: HttpRequest) -> HttpResponse:
    events = selectors.audit_list(
        user=request.user,
        action=request.GET.get("action", "").strip(),
        username=request.GET.get("user", "").strip(),
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/list.html",
        {
            "page": page,
            "filters": request.GET,
            "query": query_without_page(request.GET),
            "actions": list(ACTION_LABELS.items()),
            "actors": selectors.audit_actors(user=request.user),
        },
    )


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
