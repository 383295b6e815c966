"""发放 to the holder by township and village clerks, and 集中发放 days with their village
sign-off sheets (签收表).

Every issue is a ledger event (``card_record_event`` / ``cards_record_event``): here only
what the clerk says about it becomes its ``Custody`` — the method, the place, who signed,
the ID document checked — as the cross-app contract describes it: to the holder, the
holder signs and keeps the card; to a proxy (代领), the proxy signs under an approval the
ledger looks up. Bank clerks issue at their counter (``activation.services``).
"""

from dataclasses import dataclass, replace
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from dayao_sscard.audit import audit_record, snapshot
from dayao_sscard.permissions import require
from roster.id_numbers import try_normalize_id_number
from roster.models import Village

from .events import custody_for_event
from .models import (
    Card,
    CardStatus,
    CustodyKind,
    IssueMethod,
    LedgerEvent,
    SignOffOutcome,
    SignOffRow,
    SignOffSheet,
)
from .selectors import AWAITING_HOLDER_STATUSES, village_cards_awaiting_holders
from .services import CardOutcome, Custody, card_record_event, cards_record_event

# What a township or village clerk records; 网点柜台发放 is the bank's, at its counter.
CLERK_ISSUE_METHODS = (
    IssueMethod.WINDOW,
    IssueMethod.ON_SITE,
    IssueMethod.DOOR_TO_DOOR,
    IssueMethod.MAIL,
    IssueMethod.PROXY,
)


class AlreadyIssued(ValidationError):
    """The card was issued a moment ago (a second click, another clerk): nothing to do."""


class AlreadyRecorded(ValidationError):
    """The sheet's results were recorded a moment ago: nothing to do."""


def _clerk(acting_user) -> str:
    return (acting_user.display_name or acting_user.username)[:50]


def proxy_id_number_clean(raw: str) -> str:
    """The proxy's ID number as the ledger keeps it, or a refusal naming what is wrong."""
    if not (raw or "").strip():
        raise ValidationError("代领须填写代领人的身份证号码。")
    number, reason = try_normalize_id_number(raw)
    if number is None:
        raise ValidationError(f"代领人身份证号码有误：{reason}")
    return number


def issue_custody(
    *,
    card: Card,
    acting_user,
    method: str,
    place: str,
    signee: str,
    identity_checked: bool,
    proxy_name: str = "",
    proxy_id_number: str = "",
) -> Custody:
    """Where the card goes: to its holder, who signs; or (代领) to the named proxy."""
    if method not in CLERK_ISSUE_METHODS:
        raise ValidationError("请选择发放方式：窗口发放、集中发放、上门发放、邮寄发放或代领。")
    place = place.strip()
    if not place:
        raise ValidationError("请填写发放地点。")
    if method == IssueMethod.PROXY:
        name = proxy_name.strip()
        if not name:
            raise ValidationError("代领须填写代领人姓名。")
        custody = custody_for_event(
            event=LedgerEvent.ISSUED,
            acting_user=acting_user,
            to_party=name[:100],
            location=place[:200],
            signee=name[:50],
            method=IssueMethod.PROXY,
            identity_checked=identity_checked,
        )
        return replace(custody, extra={"proxy_id_number": proxy_id_number_clean(proxy_id_number)})
    return custody_for_event(
        event=LedgerEvent.ISSUED,
        acting_user=acting_user,
        to_party=card.person.name,
        location=place[:200],
        signee=signee.strip()[:50],
        method=method,
        identity_checked=identity_checked,
    )


def card_issue(
    *,
    card: Card,
    acting_user,
    method: str,
    place: str,
    signee: str = "",
    identity_checked: bool,
    occurred_at: datetime | None = None,
    proxy_name: str = "",
    proxy_id_number: str = "",
    tracking_number: str = "",
    note: str = "",
) -> Card:
    """发放 one card (窗口、集中、上门、邮寄, or 代领 under an approval) as the clerk records it.

    The ledger refuses what may not be (state, signee, ID check, a deceased holder, a
    pending 注销, a proxy without approval); a card issued a moment ago is ``AlreadyIssued``.
    """
    require(acting_user, "issuance.issue_card", card)
    note = note.strip()
    if method == IssueMethod.MAIL:
        tracking_number = tracking_number.strip()
        if not tracking_number:
            raise ValidationError("邮寄发放须填写邮寄单号。")
        note = f"邮寄单号：{tracking_number}" + (f"；{note}" if note else "")
    custody = issue_custody(
        card=card,
        acting_user=acting_user,
        method=method,
        place=place,
        signee=signee,
        identity_checked=identity_checked,
        proxy_name=proxy_name,
        proxy_id_number=proxy_id_number,
    )
    try:
        return card_record_event(
            card=card,
            event=LedgerEvent.ISSUED,
            acting_user=acting_user,
            custody=custody,
            occurred_at=occurred_at,
            note=note[:500],
        )
    except ValidationError as exc:
        if (done := _issued_already(card)) is not None:
            raise AlreadyIssued(done) from exc
        raise


def _issued_already(card: Card) -> str | None:
    """What to tell a clerk whose issue came second; None when the card is not issued."""
    current = Card.objects.filter(pk=card.pk).values_list("status", flat=True).first()
    if current not in (CardStatus.ISSUED, CardStatus.ACTIVATED):
        return None
    last = card.ledger_entries.filter(event=LedgerEvent.ISSUED).order_by("-sequence").first()
    if last is None:
        return "该卡已发放，无需重复登记。"
    when = timezone.localtime(last.occurred_at)
    return f"该卡已于{when:%Y-%m-%d %H:%M}发放给{last.to_party or last.signee}，无需重复登记。"


# ---- 集中发放 ------------------------------------------------------------------------------


def sign_off_sheet_create(*, acting_user, village: Village, day: date, place: str) -> SignOffSheet:
    """A sign-off sheet of the village's cards waiting for their holders, for one day.

    The village's row is locked: of two clicks, the second finds the sheet the first made
    (same day, place and cards) and gets it back instead of a second one.
    """
    require(acting_user, "issuance.create_sign_off_sheet", village)
    place = place.strip()
    if not place:
        raise ValidationError("请填写发放地点。")
    with transaction.atomic():
        village = Village.objects.select_for_update().select_related("township").get(pk=village.pk)
        cards = village_cards_awaiting_holders(user=acting_user, village=village)
        if not cards:
            raise ValidationError(
                f"{village.name}目前没有等待发放给持卡人的社保卡，无需打印签收表。"
            )
        same = _same_sheet(village, day, place, [card.pk for card in cards])
        if same is not None:
            return same
        taken = SignOffSheet.objects.filter(village=village, day=day).count()
        sheet = SignOffSheet.objects.create(
            number=f"{day:%Y%m%d}-{village.township.short_name}-{village.name[:30]}-{taken + 1}",
            village=village,
            day=day,
            place=place[:200],
            created_by=acting_user,
        )
        SignOffRow.objects.bulk_create(
            [
                SignOffRow(sheet=sheet, position=position, card=card)
                for position, card in enumerate(cards, start=1)
            ]
        )
        audit_record(
            actor=acting_user,
            action="issuance.signoffsheet.created",
            obj=sheet,
            after={**snapshot(sheet), "cards": len(cards)},
        )
        return sheet


def _same_sheet(village, day: date, place: str, card_pks: list[int]) -> SignOffSheet | None:
    for sheet in SignOffSheet.objects.filter(
        village=village, day=day, place=place[:200], recorded_at__isnull=True
    ):
        rows = list(sheet.rows.order_by("position").values_list("card_id", flat=True))
        if rows == card_pks:
            return sheet
    return None


@dataclass(frozen=True)
class RowResult:
    """What the clerk ticked for one row of the sheet."""

    signed: bool = False
    by_proxy: bool = False
    proxy_name: str = ""
    proxy_id_number: str = ""


def sign_off_sheet_record(
    *,
    sheet: SignOffSheet,
    acting_user,
    results: dict[int, RowResult],
    identity_checked: bool,
    occurred_at: datetime | None = None,
) -> SignOffSheet:
    """Record a 集中发放 day from its sheet: each ticked holder's card is issued to them
    (one ledger statement set for all), each ticked proxy row to its proxy; the rest
    stay where they are. All or nothing: a refused card is named and nothing is kept.
    Recorded once: the sheet row is locked, a second submit is ``AlreadyRecorded``.
    """
    require(acting_user, "issuance.record_sign_off_sheet", sheet)
    when = occurred_at or timezone.now()
    with transaction.atomic():
        locked = SignOffSheet.objects.select_for_update().get(pk=sheet.pk)
        if locked.recorded_at is not None:
            raise AlreadyRecorded(
                f"签收表{locked.number}的发放结果已由{locked.recorded_by}于"
                f"{timezone.localtime(locked.recorded_at):%Y-%m-%d %H:%M}登记，无需重复登记。"
            )
        # The cards locked first (in id order, as the ledger locks them): what is not
        # ticked is judged as it is now.
        card_pks = sorted(locked.rows.values_list("card_id", flat=True))
        list(Card.objects.select_for_update().filter(pk__in=card_pks).order_by("pk"))
        rows = list(locked.rows.select_related("card", "card__person").order_by("position"))
        ticked = [row for row in rows if results.get(row.pk, RowResult()).signed]
        if not ticked:
            raise ValidationError("请勾选当天已签收的持卡人；当天无人领取时无需登记。")
        if not identity_checked:
            raise ValidationError("请确认已核验每位签收人的身份证件。")
        note = f"集中发放，签收表{locked.number}"
        holders = [row for row in ticked if not results[row.pk].by_proxy]
        if holders:
            cards_record_event(
                cards=[row.card for row in holders],
                event=LedgerEvent.ISSUED,
                acting_user=acting_user,
                custody=Custody(
                    kind=CustodyKind.HOLDER,
                    method=IssueMethod.ON_SITE,
                    location=locked.place,
                    responsible_person=_clerk(acting_user),
                    identity_checked=True,
                ),
                outcomes={row.card_id: CardOutcome(signee=row.card.person.name) for row in holders},
                note=note,
                occurred_at=when,
            )
        for row in ticked:
            result = results[row.pk]
            if result.by_proxy:
                _issue_to_proxy(row, result, acting_user, locked, note, when)
                row.outcome, row.signee = SignOffOutcome.PROXY, result.proxy_name.strip()[:50]
            else:
                row.outcome, row.signee = SignOffOutcome.SIGNED, row.card.person.name[:50]
        for row in rows:
            if row.outcome == SignOffOutcome.PENDING:
                # Issued at a window meanwhile, or no longer waiting (注销, 回收…).
                waiting = row.card.status in AWAITING_HOLDER_STATUSES
                row.outcome = SignOffOutcome.NOT_COLLECTED if waiting else SignOffOutcome.ELSEWHERE
        SignOffRow.objects.bulk_update(rows, ["outcome", "signee"])
        before = snapshot(locked)
        locked.recorded_at, locked.recorded_by = timezone.now(), acting_user
        locked.save(update_fields=["recorded_at", "recorded_by"])
        audit_record(
            actor=acting_user,
            action="issuance.signoffsheet.recorded",
            obj=locked,
            before=before,
            after={
                **snapshot(locked),
                "signed": len(holders),
                "proxy": len(ticked) - len(holders),
                "not_collected": sum(r.outcome == SignOffOutcome.NOT_COLLECTED for r in rows),
            },
        )
        return locked


def _issue_to_proxy(row, result: RowResult, acting_user, sheet, note: str, when) -> None:
    card = row.card
    try:
        card_record_event(
            card=card,
            event=LedgerEvent.ISSUED,
            acting_user=acting_user,
            custody=issue_custody(
                card=card,
                acting_user=acting_user,
                method=IssueMethod.PROXY,
                place=sheet.place,
                signee=result.proxy_name,
                identity_checked=True,
                proxy_name=result.proxy_name,
                proxy_id_number=result.proxy_id_number,
            ),
            occurred_at=when,
            note=note,
        )
    except ValidationError as exc:
        raise ValidationError(
            f"第{row.position}行 {card.person.name}（代领）：{'；'.join(exc.messages)}"
        ) from exc
