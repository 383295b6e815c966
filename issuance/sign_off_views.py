"""集中发放 pages: the sheets of a village, making and printing one, recording its day."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from dayao_sscard.params import query_without_page
from dayao_sscard.pdf import pdf_from_template, pdf_response
from dayao_sscard.permissions import action_required
from roster.selectors import village_choices

from . import issuing, selectors
from .forms import SignOffCreateForm, SignOffRecordForm
from .selectors import ISSUABLE_STATUSES


@action_required("issuance.view_sign_off_sheets")
@require_GET
def sign_off_list(request: HttpRequest) -> HttpResponse:
    """The sheets, per village: which were recorded, and how many signed."""
    village = request.GET.get("village", "")
    sheets = selectors.sign_off_sheets(user=request.user, village_id=village)
    page = Paginator(sheets, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "issuance/sign_off_list.html",
        {
            "page": page,
            "villages": village_choices(user=request.user),
            "village": village,
            "query": query_without_page(request.GET),
        },
    )


@action_required("issuance.create_sign_off_sheet")
def sign_off_create(request: HttpRequest) -> HttpResponse:
    """Pick the village, the day and the place; the sheet lists the cards waiting today."""
    villages = village_choices(user=request.user)
    form = SignOffCreateForm(
        request.POST if request.method == "POST" else None,
        villages=villages,
        waiting=selectors.village_awaiting_counts(user=request.user),
        initial={"village": request.GET.get("village", "")},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            village = next(v for v in villages if v.pk == data["village"])
            try:
                sheet = issuing.sign_off_sheet_create(
                    acting_user=request.user, village=village, day=data["day"], place=data["place"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    f"已生成签收表 {sheet.number}，共 {sheet.rows.count()} 张社保卡；"
                    "请下载打印，发放当天请持卡人签收。",
                )
                return redirect("issuance:sign-off-detail", pk=sheet.pk)
    return render(request, "issuance/sign_off_create.html", {"form": form}, status=status)


@action_required("issuance.view_sign_off_sheets")
@require_GET
def sign_off_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = selectors.sign_off_sheet_get(user=request.user, pk=pk)
    return render(
        request,
        "issuance/sign_off_detail.html",
        {"sheet": sheet, "rows": selectors.sign_off_rows(sheet=sheet)},
    )


@action_required("issuance.view_sign_off_sheets")
@require_GET
def sign_off_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The printed sheet: the rows as they were fixed, masked ID numbers, signature columns;
    a holder's approved proxies in the remarks, so whoever hands out cards knows them."""
    sheet = selectors.sign_off_sheet_get(user=request.user, pk=pk)
    pdf = pdf_from_template(
        "issuance/sign_off_sheet_pdf.html",
        {
            "sheet": sheet,
            "rows": list(selectors.sign_off_rows(sheet=sheet)),
            "approvals": selectors.sign_off_approvals(user=request.user, sheet=sheet),
        },
    )
    return pdf_response(pdf, f"集中发放签收表{sheet.number}.pdf")


@action_required("issuance.record_sign_off_sheet")
def sign_off_record(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick who signed (本人 or 代领); submit records them all at once, or none."""
    sheet = get_object_or_404(selectors.sign_off_sheets(user=request.user), pk=pk)
    if sheet.recorded_at is not None:
        messages.info(request, f"签收表 {sheet.number} 的发放结果已登记。")
        return redirect("issuance:sign-off-detail", pk=sheet.pk)
    rows = list(selectors.sign_off_rows(sheet=sheet))
    form = SignOffRecordForm(
        request.POST if request.method == "POST" else None,
        rows=rows,
        day=sheet.day,
        approvals=selectors.sign_off_approvals(user=request.user, sheet=sheet),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                recorded = issuing.sign_off_sheet_record(
                    sheet=sheet,
                    acting_user=request.user,
                    results=_results(form, rows),
                    identity_checked=form.cleaned_data["identity_checked"],
                    occurred_at=form.cleaned_data["occurred_at"],
                )
            except issuing.AlreadyRecorded as exc:
                messages.info(request, "；".join(exc.messages))
                return redirect("issuance:sign-off-detail", pk=sheet.pk)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                counts = selectors.sign_off_sheet_get(user=request.user, pk=recorded.pk)
                messages.success(
                    request,
                    f"已登记签收表 {recorded.number} 的发放结果：本人签收 {counts.n_signed} 人，"
                    f"代领 {counts.n_proxy} 人，未领取 {counts.n_not_collected} 人（仍在库存）。",
                )
                return redirect("issuance:sign-off-detail", pk=sheet.pk)
    return render(
        request,
        "issuance/sign_off_record.html",
        {"sheet": sheet, "form": form, "issuable": ISSUABLE_STATUSES},
        status=status,
    )


def _results(form: SignOffRecordForm, rows) -> dict[int, issuing.RowResult]:
    data = form.cleaned_data
    return {
        row.pk: issuing.RowResult(
            signed=bool(data.get(f"signed_{row.pk}")),
            by_proxy=data.get(f"who_{row.pk}") == "proxy",
            proxy_name=data.get(f"proxy_name_{row.pk}", ""),
            proxy_id_number=data.get(f"proxy_id_{row.pk}", ""),
        )
        for row in rows
    }
