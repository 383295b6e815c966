"""批量制卡 pages: the batch list, making a batch, its detail, file, sending and result."""

import tempfile
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dayao_sscard.params import id_param, query_without_page
from dayao_sscard.permissions import action_required
from roster.models import Township
from roster.selectors import township_choices, village_choices

from . import batches, selectors
from .forms import BatchCreateForm, BatchResultForm
from .models import MemberOutcome

# Refusals named one by one on the page; beyond these the clerk is told how many more.
REFUSALS_SHOWN = 30


@action_required("issuance.view_batches")
def batch_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.batch_list(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "issuance/batch_list.html", {"page": page, "query": ""})


@action_required("issuance.create_batch")
def batch_create(request: HttpRequest) -> HttpResponse:
    """Choose 待制卡 persons (ticked, or all the filters select) and a bank."""
    user = request.user
    data = request.POST if request.method == "POST" else request.GET
    townships = township_choices(user=user)
    township_code = data.get("township", "") if user.is_county_wide else user.township.code
    village = data.get("village", "")
    candidates = selectors.batch_candidates(user=user, township_code=township_code, village=village)
    form = BatchCreateForm(
        request.POST if request.method == "POST" else None,
        townships=townships,
        county_wide=user.is_county_wide,
        initial={"township": township_code, "village": village},
    )
    if request.method == "POST" and form.is_valid():
        if user.is_county_wide:
            code = form.cleaned_data["township"]
            township = Township.objects.get(code=code) if code else None
        else:
            township = user.township
        if form.cleaned_data["all_matching"]:
            person_ids = list(candidates.values_list("pk", flat=True))
        else:
            person_ids = [pk for v in request.POST.getlist("person") if (pk := id_param(v))]
        try:
            created = batches.batch_create(
                acting_user=user,
                bank=form.cleaned_data["bank"],
                township=township,
                person_ids=person_ids,
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            _tell_refusals(request, created.refusals)
            if created.batch is not None:
                count = created.batch.members.count()
                messages.success(
                    request, f"已建立申领批次 {created.batch.number}，共 {count} 人，已登记申领。"
                )
                return redirect("issuance:batch-detail", pk=created.batch.pk)
            messages.error(request, "所选人员都不能加入批次，未建立批次。")
    page = selectors.batch_candidate_page(
        user=user, township_code=township_code, village=village, number=request.GET.get("page")
    )
    return render(
        request,
        "issuance/batch_create.html",
        {
            "form": form,
            "page": page,
            "townships": townships,
            "township_code": township_code,
            "villages": village_choices(user=user, township_code=township_code),
            "village": village,
            "query": query_without_page(request.GET),
        },
    )


def _tell_refusals(request: HttpRequest, refusals: list) -> None:
    for refusal in refusals[:REFUSALS_SHOWN]:
        messages.warning(request, f"未加入 {refusal}")
    if len(refusals) > REFUSALS_SHOWN:
        messages.warning(request, f"另有 {len(refusals) - REFUSALS_SHOWN} 人未加入，原因同上类。")


@action_required("issuance.view_batches")
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_get(user=request.user, pk=pk)
    members = selectors.batch_members(batch=batch)
    page = Paginator(members, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "issuance/batch_detail.html",
        {
            "batch": batch,
            "page": page,
            "query": query_without_page(request.GET),
            "outcomes": MemberOutcome,
        },
    )


@action_required("issuance.download_batch_file")
@require_POST
def batch_download(request: HttpRequest, pk: int) -> FileResponse:
    """The zip for the bank, built into a temporary file (photos can be many MB)."""
    batch = selectors.batch_get(user=request.user, pk=pk)
    # Not a context manager: the response streams the file and closes it when sent.
    handle = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        written = batches.batch_file_write(batch=batch, acting_user=request.user, stream=handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    response = FileResponse(
        handle, as_attachment=True, filename=written.file_name, content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@action_required("issuance.send_batch")
@require_POST
def batch_send(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_get(user=request.user, pk=pk)
    try:
        sent = batches.batch_send(batch=batch, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(
            request, f"批次 {sent.number} 已标记为已报送{sent.bank}，批次内社保卡均为“制卡中”。"
        )
    return redirect("issuance:batch-detail", pk=batch.pk)


@action_required("issuance.change_batch")
@require_POST
def batch_remove_member(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_get(user=request.user, pk=pk)
    member_pk = id_param(request.POST.get("member"))
    if member_pk is None:
        messages.error(request, "请选择要移出批次的人员。")
        return redirect("issuance:batch-detail", pk=batch.pk)
    member = selectors.batch_member_get(batch=batch, pk=member_pk)
    try:
        removed = batches.batch_remove_member(member=member, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已将 {removed.person.name} 移出批次，其申领已撤回。")
    return redirect("issuance:batch-detail", pk=batch.pk)


@action_required("issuance.import_batch_result")
def batch_result(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload the bank's result; the page then shows what it did and every row it could not use."""
    batch = selectors.batch_get(user=request.user, pk=pk)
    form = BatchResultForm(request.POST or None, request.FILES or None)
    imported, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                imported = _import_upload(request, batch, upload)
            except ValidationError as exc:
                form.add_error("file", "；".join(exc.messages))
                status = 400
            else:
                batch = selectors.batch_get(user=request.user, pk=pk)
        else:
            status = 400
    return render(
        request,
        "issuance/batch_result.html",
        {"batch": batch, "form": form, "imported": imported},
        status=status,
    )


def _import_upload(request, batch, upload) -> batches.ResultImport:
    suffix = Path(upload.name).suffix[:10]
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
        handle.flush()
        return batches.batch_result_import(
            batch=batch,
            acting_user=request.user,
            path=Path(handle.name),
            original_name=upload.name,
        )
