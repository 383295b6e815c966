"""交接 pages: the list, a new handover, its detail, the printed sheet, receiving, the scan."""

from pathlib import Path

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dayao_sscard.paging import page_counted_along
from dayao_sscard.params import id_param, query_without_page
from dayao_sscard.pdf import pdf_from_template, pdf_response
from dayao_sscard.permissions import action_required, require
from roster.selectors import village_choices

from . import handover_selectors as selectors
from . import handovers
from .forms import HandoverCreateForm, HandoverSheetForm
from .models import HandoverOutcome, HandoverStatus
from .selectors import banks

# Refusals named one by one on the page; beyond these the clerk is told how many more.
ERRORS_SHOWN = 50


@action_required("issuance.view_handovers")
def handover_list(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "all")
    if tab not in dict(selectors.TABS):
        tab = "all"
    status = request.GET.get("status", "")
    number = request.GET.get("number", "")[:30]
    found = selectors.handover_list(user=request.user, tab=tab, status=status, number=number)
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "issuance/handover_list.html",
        {
            "page": page,
            "tabs": selectors.TABS,
            "tab": tab,
            "status": status,
            "number": number,
            "statuses": HandoverStatus.choices,
            "incoming": selectors.handover_incoming_count(user=request.user),
            "query": query_without_page(request.GET),
        },
    )


def _numbers(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@action_required("issuance.create_handover")
def handover_create(request: HttpRequest) -> HttpResponse:
    """Choose the receiver and the cards: scanned or typed, or ticked in the filtered list."""
    user = request.user
    filters = request.GET
    village, bank, q = filters.get("village", ""), filters.get("bank", ""), filters.get("q", "")
    candidates = selectors.handover_candidates(user=user, village=village, bank=bank, query=q)
    receivers = handovers.receiver_choices(user)
    form = HandoverCreateForm(
        request.POST if request.method == "POST" else None,
        receivers=receivers,
        initial={"sender_person": user.display_name or user.username},
    )
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            if data["all_matching"]:
                card_ids = list(candidates.values_list("pk", flat=True))
            else:
                card_ids = [pk for v in request.POST.getlist("card") if (pk := id_param(v))]
            try:
                created = handovers.handover_create(
                    acting_user=user,
                    receiver=handovers.receiver_from_key(user, data["receiver"]),
                    sender_person=data["sender_person"],
                    receiver_person=data["receiver_person"],
                    location=data["location"],
                    card_numbers=_numbers(data["card_numbers"]),
                    card_ids=card_ids,
                    note=data["note"],
                )
            except ValidationError as exc:
                errors = exc.messages[:ERRORS_SHOWN]
                if len(exc.messages) > ERRORS_SHOWN:
                    more = len(exc.messages) - ERRORS_SHOWN
                    errors.append(f"另有 {more} 张卡不能交接，请先处理以上各卡后再提交。")
            else:
                messages.success(
                    request,
                    f"已办理交接，交接单号 {created.number}，共 {created.card_count} 张卡，"
                    f"已交{created.receiver_name}（待接收）。请打印交接单，双方签字。",
                )
                return redirect("issuance:handover-detail", pk=created.pk)
        status = 400
    page = page_counted_along(candidates, 100, request.GET.get("page"))
    ticked = set(request.POST.getlist("card")) if request.method == "POST" else set()
    return render(
        request,
        "issuance/handover_create.html",
        {
            "form": form,
            "errors": errors,
            "page": page,
            "ticked": ticked,
            "villages": village_choices(user=user),
            "banks": banks(),
            "village": village,
            "bank": bank,
            "q": q,
            "query": query_without_page(request.GET),
        },
        status=status,
    )


@action_required("issuance.view_handovers")
def handover_detail(request: HttpRequest, pk: int) -> HttpResponse:
    handover = selectors.handover_get(user=request.user, pk=pk)
    items = selectors.handover_items(handover=handover)
    page = Paginator(items, 200).get_page(request.GET.get("page"))
    return render(
        request,
        "issuance/handover_detail.html",
        {
            "handover": handover,
            "page": page,
            "counts": selectors.handover_outcome_counts(handover=handover),
            "missing": items.filter(outcome=HandoverOutcome.MISSING),
            "extras": handover.extras.select_related("card", "card__person", "recorded_by"),
            "sheet_form": HandoverSheetForm(),
            "query": query_without_page(request.GET),
        },
    )


@action_required("issuance.view_handovers")
@require_GET
def handover_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The 交接单 to print and sign: both parties, the cards, the count, a QR code."""
    import segno  # only the printed sheet draws one

    handover = selectors.handover_get(user=request.user, pk=pk)
    items = list(selectors.handover_items(handover=handover))
    pdf = pdf_from_template(
        "issuance/handover_sheet_pdf.html",
        {
            "handover": handover,
            "items": items,
            "count_in_words": handovers.count_in_words(len(items)),
            "qr": segno.make(handover.number, error="m").svg_data_uri(scale=3, border=1),
            "printed_at": timezone.now(),
            "printed_by": request.user,
        },
    )
    return pdf_response(pdf, f"{handover.number}.pdf")


def _receipt_context(handover, items, post=None, problems=None) -> dict:
    post = post or {}
    missing = set(problems.unexplained_missing) if problems else set()
    rows = [
        {"item": item, "reason": post.get(f"reason_{item.pk}", ""), "flagged": item.pk in missing}
        for item in items
    ]
    numbers = post.getlist("extra_number") if hasattr(post, "getlist") else []
    reasons = post.getlist("extra_reason") if hasattr(post, "getlist") else []
    extras = dict(zip(numbers, reasons, strict=False))
    for raw in problems.unexplained_extras if problems else []:
        extras.setdefault(raw, "")
    return {
        "handover": handover,
        "rows": rows,
        "scanned": post.get("scanned", ""),
        "extras": [{"number": n, "reason": r} for n, r in extras.items()],
        "errors": problems.messages if problems else [],
    }


@action_required("issuance.receive_handover")
def handover_receive(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm the box against its sheet: scanned card by card, or all at once."""
    handover = selectors.handover_get(user=request.user, pk=pk)
    require(request.user, "issuance.receive_handover", handover)
    if handover.status != HandoverStatus.PENDING:
        messages.info(request, _already_text(handover))
        return redirect("issuance:handover-detail", pk=handover.pk)
    items = list(selectors.handover_items(handover=handover))
    if request.method != "POST":
        return render(request, "issuance/handover_receive.html", _receipt_context(handover, items))
    post = request.POST
    everything = post.get("action") == "all"
    extras = [
        handovers.Extra(number, reason)
        for number, reason in zip(
            post.getlist("extra_number"), post.getlist("extra_reason"), strict=False
        )
    ]
    try:
        done = handovers.handover_receive(
            acting_user=request.user,
            handover=handover,
            received_numbers=None if everything else _numbers(post.get("scanned", "")),
            missing_reasons={item.pk: post.get(f"reason_{item.pk}", "") for item in items},
            extras=extras,
        )
    except handovers.ReceiptProblems as problems:
        context = _receipt_context(handover, items, post, problems)
        return render(request, "issuance/handover_receive.html", context, status=400)
    except ValidationError as exc:
        context = _receipt_context(handover, items, post)
        context["errors"] = exc.messages
        return render(request, "issuance/handover_receive.html", context, status=400)
    if done.already:
        messages.info(request, _already_text(done.handover))
    elif done.missing or done.extras:
        messages.warning(
            request,
            f"已接收 {done.received} 张；未到卡 {done.missing} 张、多出 {done.extras} 张，"
            "已作为差异登记。未到的卡仍为“在途”。",
        )
    else:
        messages.success(
            request, f"已确认接收交接单 {handover.number} 的全部 {done.received} 张卡。"
        )
    return redirect("issuance:handover-detail", pk=handover.pk)


def _already_text(handover) -> str:
    received_at = timezone.localtime(handover.received_at)
    return (
        f"交接单 {handover.number} 已于{received_at:%Y年%m月%d日 %H:%M}"
        f"由{handover.received_by}确认接收（{handover.get_status_display()}），未重复办理。"
    )


@action_required("issuance.receive_handover")
@require_POST
def handover_receive_late(request: HttpRequest, pk: int) -> HttpResponse:
    """A card recorded as 未到卡 has turned up: receive it now."""
    handover = selectors.handover_get(user=request.user, pk=pk)
    require(request.user, "issuance.receive_handover", handover)
    item = selectors.handover_item_get(handover=handover, pk=id_param(request.POST.get("item")))
    try:
        done = handovers.handover_receive_late(acting_user=request.user, item=item)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"卡号 {done.card.card_number} 已后补接收入库。")
    return redirect("issuance:handover-detail", pk=handover.pk)


@action_required("issuance.attach_handover_sheet")
@require_POST
def handover_attach_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    handover = selectors.handover_get(user=request.user, pk=pk)
    require(request.user, "issuance.attach_handover_sheet", handover)
    form = HandoverSheetForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择签字交接单的扫描件（PDF、JPG 或 PNG）。")
        return redirect("issuance:handover-detail", pk=handover.pk)
    upload = form.cleaned_data["file"]
    if refusal := handovers.sheet_size_refusal(upload.size):
        # Refused before the file is read into memory.
        messages.error(request, refusal)
        return redirect("issuance:handover-detail", pk=handover.pk)
    data = upload.read()
    try:
        handovers.handover_attach_sheet(
            acting_user=request.user, handover=handover, data=data, file_name=upload.name
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已上传签字交接单扫描件。")
    return redirect("issuance:handover-detail", pk=handover.pk)


_CONTENT_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".png": "image/png"}


@action_required("issuance.view_handovers")
@require_GET
def handover_sheet_file(request: HttpRequest, pk: int) -> FileResponse:
    handover = selectors.handover_get(user=request.user, pk=pk)
    if not handover.sheet:
        raise Http404("没有扫描件。")
    suffix = Path(handover.sheet.name).suffix.lower()
    response = FileResponse(
        handover.sheet.open("rb"),
        content_type=_CONTENT_TYPES.get(suffix, "application/octet-stream"),
        filename=f"交接单{handover.number}签字扫描件{suffix}",
    )
    response["Cache-Control"] = "private, no-store"
    return response
