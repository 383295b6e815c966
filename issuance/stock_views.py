"""库存卡/睡眠卡 pages: the work list, a card's second issuance, the recovery list for the
provincial system and the pending 注销. Thin: the services in ``issuance/stock.py`` write."""

import tempfile

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from dayao_sscard.params import id_param, query_without_page
from dayao_sscard.permissions import action_required, may
from roster.paging import PlacePaginator
from roster.selectors import township_choices, village_choices

from . import selectors, stock
from .forms import AttemptForm, DormantForm, RecoverForm, StockIssueForm
from .issuing import AlreadyIssued
from .models import FAILED_OUTCOMES, AttemptMethod, AttemptOutcome, Card, CardStatus

# Outcomes after which the holder comes for the card: the page offers to issue it.
COLLECTING_OUTCOMES = (AttemptOutcome.COLLECTED, AttemptOutcome.AGREED)
ISSUABLE_STATUSES = (
    CardStatus.IN_STOCK,
    CardStatus.IN_TRANSIT,
    CardStatus.DORMANT,
    CardStatus.RECOVERED,
)
RECOVERABLE_STATUSES = (CardStatus.IN_STOCK, CardStatus.DORMANT, CardStatus.ISSUED)


def _refused(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, "；".join(exc.messages))


@action_required("issuance.view_stock_cards")
def stock_cards(request: HttpRequest) -> HttpResponse:
    """The work list: stock cards made long ago, dormant cards, cards issued long ago and
    never activated (and, asked for, recovered ones), each with its last attempt."""
    user = request.user
    filters = selectors.StockFilters(
        township=request.GET.get("township", "") if user.is_county_wide else "",
        village=request.GET.get("village", ""),
        bank=request.GET.get("bank", ""),
        state=request.GET.get("state", ""),
        contact=request.GET.get("contact", ""),
        age=request.GET.get("age", ""),
    )
    cutoffs = selectors.stock_cutoffs()
    cards = selectors.stock_work_list(user=user, filters=filters, cutoffs=cutoffs)
    counted = selectors.stock_work_counted(user=user, filters=filters, cutoffs=cutoffs)
    page = PlacePaginator(
        cards, 50, place="person__", counted=counted, stored_village="holder_village_id"
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "issuance/stock_cards.html",
        {
            "page": page,
            "filters": filters,
            "banks": selectors.stock_and_dormant_by_bank(user=user),
            "bank_choices": selectors.banks(),
            "townships": township_choices(user=user) if user.is_county_wide else [],
            "villages": village_choices(user=user, township_code=filters.township),
            "states": selectors.WorkState.CHOICES,
            "outcomes": AttemptOutcome.choices,
            "outcome_labels": dict(AttemptOutcome.choices),
            "method_labels": dict(AttemptMethod.choices),
            "ages": selectors.AGE_CHOICES,
            "stock_age_days": selectors.STOCK_AGE_DAYS,
            "dormant_after_days": selectors.DORMANT_AFTER_DAYS,
            "due_dormant": selectors.WorkState.DUE_DORMANT,
            "dormant_form": DormantForm(),
            "query": query_without_page(request.GET),
        },
    )


def _card_page(request: HttpRequest, card: Card, *, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    last = card.last_outcome
    # A form sent back with its errors stays on the page, whatever the card's state now.
    refused = set(forms)
    now = timezone.localtime().replace(second=0, microsecond=0, tzinfo=None)
    forms.setdefault("attempt_form", AttemptForm(initial={"attempted_at": now}))
    forms.setdefault(
        "issue_form",
        StockIssueForm(
            methods=stock.HOLDER_ISSUE_METHODS,
            initial={"location": f"{card.person.township.name}社保中心"},
        ),
    )
    last_note = ""
    if last in FAILED_OUTCOMES:
        last_note = f"二次发放未成功（{AttemptOutcome(last).label}）：{card.last_note}"
    forms.setdefault("recover_form", RecoverForm(initial={"reason": last_note}))
    live = not card.cancellation_pending and not card.person.is_deceased
    context = {
        "card": card,
        "attempts": selectors.card_attempts(card=card),
        "can_attempt": "attempt_form" in refused
        or (
            card.status in stock.ATTEMPT_STATUSES
            and may(user, "issuance.record_second_issuance", card)
        ),
        "can_issue": "issue_form" in refused
        or (
            live
            and last in COLLECTING_OUTCOMES
            and card.status in ISSUABLE_STATUSES
            and may(user, "issuance.issue_card", card)
        ),
        "can_recover": "recover_form" in refused
        or (
            live
            and last in FAILED_OUTCOMES
            and last != AttemptOutcome.DECEASED
            and card.status in RECOVERABLE_STATUSES
            and may(user, "issuance.recover_card", card)
        ),
        "holder_dead_unregistered": last == AttemptOutcome.DECEASED and not card.person.is_deceased,
        **forms,
    }
    return render(request, "issuance/stock_card.html", context, status=status)


@action_required("issuance.view_stock_cards")
def stock_card(request: HttpRequest, pk: int) -> HttpResponse:
    """One card's second issuance: its attempts and the next step the user may take."""
    return _card_page(request, selectors.stock_card_get(user=request.user, pk=pk))


@action_required("issuance.record_second_issuance")
@require_POST
def stock_card_attempt(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.stock_card_get(user=request.user, pk=pk)
    form = AttemptForm(request.POST)
    if not form.is_valid():
        return _card_page(request, card, status=400, attempt_form=form)
    data = form.cleaned_data
    try:
        attempt = stock.attempt_record(
            card=card,
            acting_user=request.user,
            attempted_at=data["attempted_at"],
            method=data["method"],
            outcome=data["outcome"],
            contacted=data["contacted"],
            note=data["note"],
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _card_page(request, card, status=400, attempt_form=form)
    messages.success(request, f"已登记联系记录：{attempt.get_outcome_display()}。")
    _tell_next_step(request, card, attempt.outcome)
    return redirect("issuance:stock-card", pk=card.pk)


def _tell_next_step(request: HttpRequest, card: Card, outcome: str) -> None:
    if outcome == AttemptOutcome.COLLECTED:
        messages.info(request, "请核验持卡人本人身份证件后，在下方办理发放。")
    elif outcome == AttemptOutcome.DECEASED:
        if card.person.is_deceased:
            messages.info(
                request,
                format_html(
                    '持卡人已登记死亡，该卡在<a href="{}">待注销清单</a>中，请办理注销。',
                    reverse("issuance:cancellation-list"),
                ),
            )
        else:
            messages.warning(
                request,
                format_html(
                    '请到<a href="{}">人员页面</a>登记死亡（注明死亡日期和信息来源），'
                    "登记后该卡自动进入待注销清单。",
                    reverse("roster:person-detail", args=[card.person.pk]),
                ),
            )
    elif outcome in FAILED_OUTCOMES:
        messages.info(request, "二次发放未成功，可在下方办理回收登记。")


@action_required("issuance.issue_card")
@require_POST
def stock_card_issue(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.stock_card_get(user=request.user, pk=pk)
    form = StockIssueForm(request.POST, methods=stock.HOLDER_ISSUE_METHODS)
    if not form.is_valid():
        return _card_page(request, card, status=400, issue_form=form)
    try:
        stock.stock_card_issue(
            card=card,
            acting_user=request.user,
            method=form.cleaned_data["method"],
            location=form.cleaned_data["location"],
            identity_checked=form.cleaned_data["identity_checked"],
            tracking_number=form.cleaned_data["tracking_number"],
        )
    except AlreadyIssued as exc:
        messages.info(request, "；".join(exc.messages))
        return redirect("issuance:stock-card", pk=card.pk)
    except ValidationError as exc:
        form.add_error(None, exc)
        return _card_page(request, card, status=400, issue_form=form)
    messages.success(request, f"已将社保卡发放给持卡人{card.person.name}本人。")
    return redirect("issuance:stock-card", pk=card.pk)


@action_required("issuance.recover_card")
@require_POST
def stock_card_recover(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.stock_card_get(user=request.user, pk=pk)
    form = RecoverForm(request.POST)
    if not form.is_valid():
        return _card_page(request, card, status=400, recover_form=form)
    try:
        stock.card_recover(
            card=card,
            acting_user=request.user,
            reason=form.cleaned_data["reason"],
            location=form.cleaned_data["location"],
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _card_page(request, card, status=400, recover_form=form)
    messages.success(request, "已办理回收登记，该卡已列入回收清单，待录入省系统。")
    return redirect("issuance:stock-card", pk=card.pk)


@action_required("issuance.mark_card_dormant")
@require_POST
def stock_cards_mark_dormant(request: HttpRequest) -> HttpResponse:
    """Bulk 认定睡眠卡 of the ticked cards, with one reason."""
    back = reverse("issuance:stock-cards") + (
        f"?{request.POST['query']}" if request.POST.get("query") else ""
    )
    form = DormantForm(request.POST)
    pks = [pk for v in request.POST.getlist("card") if (pk := id_param(v)) is not None]
    cards = list(Card.objects.for_user(request.user).select_related("person").filter(pk__in=pks))
    if len(cards) != len(set(pks)):
        messages.error(request, "所选社保卡中有不在您管辖范围内或不存在的卡。")
        return redirect(back)
    try:
        if not form.is_valid():
            raise ValidationError("认定睡眠卡必须写明原因。" if pks else "请勾选社保卡。")
        marked = stock.cards_mark_dormant(
            cards=cards, acting_user=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"已将 {len(marked)} 张社保卡认定为睡眠卡。")
    return redirect(back)


@action_required("issuance.view_cancellations")
def cancellation_list(request: HttpRequest) -> HttpResponse:
    """待注销: cards of deceased holders queued for 注销, to be carried out."""
    requests = selectors.cancellation_queue(user=request.user)
    page = Paginator(requests, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "issuance/cancellation_list.html",
        {"page": page, "query": query_without_page(request.GET)},
    )


@action_required("issuance.cancel_card")
@require_POST
def cancellation_carry_out(request: HttpRequest, pk: int) -> HttpResponse:
    cancellation = selectors.cancellation_get(user=request.user, pk=pk)
    try:
        done = stock.cancellation_carry_out(request=cancellation, acting_user=request.user)
    except ValidationError as exc:
        _refused(request, exc)
    else:
        messages.success(
            request,
            f"已注销{done.card.person.name}的社保卡{done.card.card_number or ''}。",
        )
    return redirect("issuance:cancellation-list")


@action_required("issuance.view_recoveries")
def recovery_list(request: HttpRequest) -> HttpResponse:
    """回收清单: recoveries not yet entered into the provincial card system."""
    entries = selectors.recovery_list(user=request.user)
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "issuance/recovery_list.html",
        {"page": page, "query": query_without_page(request.GET)},
    )


@action_required("issuance.view_recoveries")
@require_POST
def recovery_export(request: HttpRequest) -> FileResponse:
    # Not a context manager: the response streams the file and closes it when sent.
    handle = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        exported = stock.recovery_list_export(acting_user=request.user, stream=handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=exported.file_name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@action_required("issuance.mark_provincial_entry")
@require_POST
def recovery_mark_entered(request: HttpRequest) -> HttpResponse:
    pks = [pk for v in request.POST.getlist("entry") if (pk := id_param(v)) is not None]
    try:
        marked = stock.recoveries_mark_entered(entry_ids=pks, acting_user=request.user)
    except ValidationError as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"已登记 {marked} 条回收记录录入省系统。")
    return redirect("issuance:recovery-list")
