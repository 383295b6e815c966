"""The card API for counter systems: read a card, record its ledger events (session login).

Thin: parse the request, call the ledger service (the one write path, the same as the
counter screen's), answer the card as GET shows it. The codes are the models' own.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import ensure_csrf_cookie

from dayao_sscard.api import (
    ApiError,
    api_view,
    bool_field,
    json_object_from,
    json_response,
    text_field,
)
from dayao_sscard.roles import Role
from roster.id_numbers import IdNumberError, normalize_id_number

from .events import COUNTER_EVENTS, PRODUCTION_EVENTS, acting_unit, custody_for_event
from .handovers import missing_card_refusal
from .models import Card, CardStatus, IssueMethod, LedgerEvent
from .rules import event_action
from .selectors import card_get_by_number
from .services import CLOCK_SKEW, CUSTODIAN_KINDS, card_record_event

CARD_NOT_FOUND = "未找到该卡号的社保卡，或该卡不在您的管辖范围内。"

# key: (Chinese label, longest value); the lengths are the ledger's columns.
TEXT_FIELDS = {
    "to_party": ("接收方", 100),
    "responsible_person": ("责任人", 50),
    "location": ("保管地点", 200),
    "signee": ("签收人", 50),
}
BOOL_FIELDS = {"face_to_face": "当面办理（面签）", "identity_checked": "已核验身份证件"}
KNOWN_FIELDS = {
    "event",
    "signee_id_number",
    "custody_kind",
    "method",
    "note",
    "occurred_at",
    *TEXT_FIELDS,
    *BOOL_FIELDS,
}
NOTE_LENGTH = {LedgerEvent.ACTIVATED: 300}  # the activation keeps the note too
NOTE_LENGTH_DEFAULT = 500
# A role that may record none of them is refused before the body is read, in general words.
EVENT_ACTIONS = tuple(
    dict.fromkeys(["issuance.record_card_event", *map(event_action, COUNTER_EVENTS)])
)


@api_view(methods=("GET",), not_found=CARD_NOT_FOUND)
@ensure_csrf_cookie
def card_detail(request: HttpRequest, card_number: str) -> JsonResponse:
    """The card in the caller's scope. Sets the ``csrftoken`` cookie a POST then needs."""
    card = card_get_by_number(user=request.user, card_number=card_number)
    return json_response(card_as_json(card))


@api_view(methods=("POST",), actions=EVENT_ACTIONS, not_found=CARD_NOT_FOUND)
def card_events(request: HttpRequest, card_number: str) -> JsonResponse:
    """Record one ledger event on the card: 201 with the card after it."""
    card = card_get_by_number(user=request.user, card_number=card_number)
    data = json_object_from(request)
    event = _event_from(data)
    if event == LedgerEvent.HANDED_OVER:
        _refuse_handing_over_what_another_unit_keeps(request.user, card)
    texts = {
        key: text_field(data, key, label, max_length=length)
        for key, (label, length) in TEXT_FIELDS.items()
    }
    flags = {key: bool_field(data, key, label) for key, label in BOOL_FIELDS.items()}
    custody = custody_for_event(
        event=event,
        acting_user=request.user,
        custody_kind=_code_field(data, "custody_kind", "接收方类型", CUSTODIAN_KINDS),
        method=_code_field(data, "method", "发放方式", IssueMethod.values),
        signee_id_number=_id_number_field(data, "signee_id_number", "签收人身份证号码"),
        **texts,
        **flags,
    )
    note_length = NOTE_LENGTH.get(event, NOTE_LENGTH_DEFAULT)
    if refusal := missing_card_refusal(card, event):
        raise ApiError(409, refusal)
    try:
        card_record_event(
            card=card,
            event=event,
            acting_user=request.user,
            custody=custody,
            occurred_at=_occurred_at(data),
            note=text_field(data, "note", "备注", max_length=note_length),
        )
    except ValidationError as refused:
        raise ApiError(409, "；".join(refused.messages)) from None
    card = card_get_by_number(user=request.user, card_number=card_number)
    return json_response(card_as_json(card), status=201)


def _refuse_handing_over_what_another_unit_keeps(user, card: Card) -> None:
    """Only the unit that keeps a card hands it over (as the 交接 screen asks), so that the
    ledger's custodian is who really held it; the county's administrators may record any."""
    if user.role == Role.COUNTY_ADMIN:
        return
    kind, name = acting_unit(user)
    if card.custody_kind != kind:
        keeper = card.custodian or "未登记责任人"
        raise ApiError(
            409,
            f"该卡现由{card.get_custody_kind_display()}（{keeper}）保管，不在{name}，"
            "不能由本单位交出；请由保管方办理交接。",
        )


def card_as_json(card: Card) -> dict:
    """The card as the counter needs it: the holder masked but for the name."""
    person = card.person
    return {
        "card_number": card.card_number,
        "status": card.status,
        "status_display": card.get_status_display(),
        "bank": str(card.bank),
        "custody_kind": card.custody_kind,
        "custodian": card.custodian,
        "person": {
            "name": person.name,
            "id_number": person.masked_id_number,
            "township": person.township.name,
        },
        "activated": bool(card.has_activation) or card.status == CardStatus.ACTIVATED,
    }


def _event_from(data: dict) -> str:
    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise ApiError(
            400,
            f"无法识别的字段：{'、'.join(unknown)}。可用字段：{'、'.join(sorted(KNOWN_FIELDS))}。",
        )
    event = data.get("event")
    accepted = "、".join(COUNTER_EVENTS)
    if not isinstance(event, str) or not event:
        raise ApiError(400, f"请填写字段“event”（流转环节），可选：{accepted}。")
    if event in PRODUCTION_EVENTS:
        raise ApiError(
            400,
            f"“{LedgerEvent(event).label}”由批量制卡及其结果文件或柜面即时制卡登记，"
            f"不能通过本接口登记；本接口可登记：{accepted}。",
        )
    if event not in COUNTER_EVENTS:
        raise ApiError(400, f"字段“event”（流转环节）的值无法识别，可选：{accepted}。")
    return event


def _code_field(data: dict, key: str, label: str, codes) -> str:
    value = data.get(key)
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or value not in codes:
        raise ApiError(400, f"字段“{key}”（{label}）的值无法识别，可选：{'、'.join(codes)}。")
    return value


def _id_number_field(data: dict, key: str, label: str) -> str:
    """An ID number checked as the roster checks them (18 digits, the check digit…)."""
    value = data.get(key)
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise ApiError(400, f"字段“{key}”（{label}）必须是字符串。")
    try:
        return normalize_id_number(value)
    except IdNumberError as exc:
        raise ApiError(400, f"字段“{key}”（{label}）无效：{exc.reason}。") from None


def _occurred_at(data: dict) -> datetime | None:
    value = data.get("occurred_at")
    if value is None:
        return None
    wrong = "字段“occurred_at”（发生时间）须为带时区的ISO 8601时间，如 2026-11-29T10:30:00+08:00。"
    if not isinstance(value, str):
        raise ApiError(400, wrong)
    try:
        when = parse_datetime(value.strip())
    except ValueError:
        when = None
    if when is None or timezone.is_naive(when):
        raise ApiError(400, wrong)
    if when > timezone.now() + CLOCK_SKEW:
        raise ApiError(400, "字段“occurred_at”（发生时间）不能晚于当前时间。")
    return when
