"""库存卡/睡眠卡: second-issuance attempts (二次发放), recovery (回收登记) and its entry into
the provincial card system, dormant marking, and carrying out 注销.

Every change of a card's status goes through the ledger (``card_record_event`` /
``cards_record_event``); what this module adds is the attempts, the provincial entries
and the closing of 注销 requests, each in the same transaction as its ledger entry.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dayao_sscard.audit import audit_record, audit_record_many, snapshot
from dayao_sscard.permissions import may, require, require_all

from .events import custody_for_event
from .exporters import recoveries_write_xlsx
from .issuing import CLERK_ISSUE_METHODS, card_issue
from .models import (
    FAILED_OUTCOMES,
    AttemptMethod,
    AttemptOutcome,
    CancellationRequest,
    Card,
    CardStatus,
    IssueMethod,
    LedgerEntry,
    LedgerEvent,
    ProvincialEntry,
    SecondIssuanceAttempt,
)
from .selectors import DORMANT_AFTER_DAYS, cards_issued_too_recently, recovery_list
from .services import CLOCK_SKEW, Custody, card_record_event, cards_record_event

# A second issuance is tried for cards that have not (or not usefully) reached their holder.
ATTEMPT_STATUSES = (
    CardStatus.IN_STOCK,
    CardStatus.IN_TRANSIT,
    CardStatus.ISSUED,
    CardStatus.DORMANT,
    CardStatus.RECOVERED,
)


def _clerk(user) -> str:
    return (user.display_name or user.username)[:50]


def attempt_record(
    *,
    card: Card,
    acting_user,
    attempted_at: datetime,
    method: str,
    outcome: str,
    contacted: str = "",
    note: str = "",
) -> SecondIssuanceAttempt:
    """Write down one second-issuance attempt and its outcome; a failure needs its reason.

    Under the card's row lock, so the same attempt sent twice (a double click) is one row.
    What follows (issuing, recovering, 注销) is the clerk's next step, each its own service.
    """
    require(acting_user, "issuance.record_second_issuance", card)
    note, contacted = note.strip(), contacted.strip()
    if method not in AttemptMethod.values:
        raise ValidationError("请选择联系方式。")
    if outcome not in AttemptOutcome.values:
        raise ValidationError("请选择联系结果。")
    if outcome in FAILED_OUTCOMES and not note:
        raise ValidationError(
            f"结果为“{AttemptOutcome(outcome).label}”时必须写明原因（如何联系、为何未能发放）。"
        )
    if attempted_at > timezone.now() + CLOCK_SKEW:
        raise ValidationError("联系时间不能晚于当前时间。")
    with transaction.atomic():
        locked = (
            Card.objects.select_for_update(of=("self",)).select_related("person").get(pk=card.pk)
        )
        if locked.status not in ATTEMPT_STATUSES:
            raise ValidationError(
                f"该卡当前状态为“{locked.get_status_display()}”，不需要二次发放。"
            )
        if outcome == AttemptOutcome.COLLECTED and locked.person.is_deceased:
            raise ValidationError("持卡人已登记死亡，不能登记为已领取；请办理注销。")
        if SecondIssuanceAttempt.objects.filter(
            card=locked, attempted_at=attempted_at, method=method, outcome=outcome
        ).exists():
            raise ValidationError("这条联系记录已经登记过了，请勿重复提交。")
        try:
            with transaction.atomic():
                attempt = SecondIssuanceAttempt.objects.create(
                    card=locked,
                    attempted_at=attempted_at,
                    method=method,
                    attempted_by=acting_user,
                    contacted=contacted[:50],
                    outcome=outcome,
                    note=note[:300],
                    recorded_by=acting_user,
                )
        except IntegrityError as exc:
            raise ValidationError("这条联系记录已经登记过了，请勿重复提交。") from exc
        audit_record(
            actor=acting_user,
            action="issuance.secondissuanceattempt.created",
            obj=attempt,
            after=snapshot(attempt),
            note=f"{locked.person.name}：{attempt.get_method_display()}，{attempt.get_outcome_display()}",
        )
    return attempt


# Methods a card reaches its holder by from the work list: to the holder in person. 代领
# needs an approval and has its own screen; counter issue is the bank's counter screen.
# The card page's methods but 代领, which goes through its approval's page.
HOLDER_ISSUE_METHODS = tuple(
    (method.value, method.label) for method in CLERK_ISSUE_METHODS if method != IssueMethod.PROXY
)


def stock_card_issue(
    *,
    card: Card,
    acting_user,
    method: str,
    location: str,
    identity_checked: bool,
    occurred_at: datetime | None = None,
    tracking_number: str = "",
) -> Card:
    """Issue a stock, dormant or recovered card to its holder, who signs for it.

    The card page's 发放 (``issuing.card_issue``) with the holder's own name as the signee
    (issue 10, contract 2): one set of rules for both pages (who may, the place, 邮寄单号,
    a second click). The ledger refuses a card queued for 注销, a dead holder, an
    unchecked ID document.
    """
    if method not in dict(HOLDER_ISSUE_METHODS):
        raise ValidationError("请选择发放方式（代领须经代管审批，另行办理）。")
    return card_issue(
        card=card,
        acting_user=acting_user,
        method=method,
        place=location,
        signee=card.person.name,
        identity_checked=identity_checked,
        occurred_at=occurred_at,
        tracking_number=tracking_number,
        note="二次发放",
    )


def card_recover(
    *, card: Card, acting_user, reason: str, location: str = "", occurred_at: datetime | None = None
) -> Card:
    """回收登记: the card comes back into the clerk's unit's custody, with the reason.

    A dead holder's card is cancelled (注销), not recovered.
    """
    require(acting_user, "issuance.recover_card", card)
    reason = reason.strip()
    if not reason:
        raise ValidationError("回收登记必须写明原因（二次发放未成功的原因）。")
    if Card.objects.select_related("person").get(pk=card.pk).person.is_deceased:
        raise ValidationError("持卡人已登记死亡，该卡应办理注销，不办理回收登记。")
    custody = custody_for_event(
        event=LedgerEvent.RECOVERED, acting_user=acting_user, location=location.strip()[:200]
    )
    return card_record_event(
        card=card,
        event=LedgerEvent.RECOVERED,
        acting_user=acting_user,
        custody=custody,
        occurred_at=occurred_at,
        note=reason[:500],
    )


def cards_mark_dormant(*, cards: list[Card], acting_user, reason: str) -> list[Card]:
    """认定睡眠卡 for cards issued long ago and never activated, all or none, with a reason."""
    require_all(acting_user, "issuance.mark_card_dormant", Card, [c.pk for c in cards])
    reason = reason.strip()
    if not cards:
        raise ValidationError("请勾选要认定为睡眠卡的社保卡。")
    if not reason:
        raise ValidationError("认定睡眠卡必须写明原因。")
    # Other statuses are the ledger's to refuse, with its own reason.
    recent = cards_issued_too_recently([c.pk for c in cards]).first()
    if recent is not None:
        raise ValidationError(
            f"{recent.person.name}的社保卡发放未满{DORMANT_AFTER_DAYS}天，暂不能认定为睡眠卡。"
        )
    return cards_record_event(
        cards=cards,
        event=LedgerEvent.MARKED_DORMANT,
        acting_user=acting_user,
        custody=Custody(responsible_person=_clerk(acting_user)),
        note=reason[:500],
    )


def cancellation_carry_out(*, request: CancellationRequest, acting_user) -> CancellationRequest:
    """办理注销: record CANCELLED on the card (the request's reason as its note) and close
    the request, in one transaction; a request already closed is said so."""
    require(acting_user, "issuance.cancel_card", request.card)
    Status = CancellationRequest.Status
    with transaction.atomic():
        locked = (
            CancellationRequest.objects.select_for_update(of=("self",))
            .select_related("card", "card__person")
            .get(pk=request.pk)
        )
        if locked.status != Status.PENDING:
            raise ValidationError(
                f"该注销申请已{locked.get_status_display().removeprefix('已')}，无需再办理。"
            )
        card_record_event(
            card=locked.card,
            event=LedgerEvent.CANCELLED,
            acting_user=acting_user,
            custody=Custody(responsible_person=_clerk(acting_user)),
            note=locked.reason,
        )
        before = snapshot(locked, ["status", "closed_at", "close_note"])
        locked.status = Status.DONE
        locked.closed_at = timezone.now()
        locked.close_note = f"已由{_clerk(acting_user)}办理注销"[:200]
        locked.save(update_fields=["status", "closed_at", "close_note"])
        audit_record(
            actor=acting_user,
            action="issuance.cancellationrequest.done",
            obj=locked,
            before=before,
            after=snapshot(locked, ["status", "closed_at", "close_note"]),
        )
    return locked


def recoveries_mark_entered(*, entry_ids: list[int], acting_user) -> int:
    """Mark recoveries entered into the provincial card system; they leave the list.

    Those already marked (a second click, a colleague) are left as they are; the count
    says how many this call marked.
    """
    pks = sorted(set(entry_ids))
    if not pks:
        raise ValidationError("请勾选已录入省系统的回收登记。")
    require_all(acting_user, "issuance.mark_provincial_entry", LedgerEntry, pks)
    now = timezone.now()
    with transaction.atomic():
        # Locked in id order: of two clerks marking the same rows, the second waits and
        # then finds them marked.
        entries = list(
            LedgerEntry.objects.select_for_update(of=("self",))
            .select_related("card", "card__person")
            .filter(pk__in=pks, event=LedgerEvent.RECOVERED)
            .order_by("pk")
        )
        if len(entries) != len(pks):
            raise ValidationError("所选记录中有不是回收登记的记录。")
        done = set(
            ProvincialEntry.objects.filter(ledger_entry_id__in=pks).values_list(
                "ledger_entry_id", flat=True
            )
        )
        fresh = [e for e in entries if e.pk not in done]
        ProvincialEntry.objects.bulk_create(
            [ProvincialEntry(ledger_entry=e, entered_by=acting_user, entered_at=now) for e in fresh]
        )
        audit_record_many(
            actor=acting_user,
            action="issuance.card.provincial_entered",
            changes=[
                (e.card, None, {"ledger_entry": e.pk, "entered_at": now.isoformat()}) for e in fresh
            ],
        )
    return len(fresh)


@dataclass(frozen=True)
class RecoveryExport:
    file_name: str
    rows: int


def recovery_list_export(*, acting_user, stream: BinaryIO) -> RecoveryExport:
    """The recovery list as Excel, for entering into the provincial card system.

    Full ID numbers only for roles that may reveal them; audited with the row count.
    """
    require(acting_user, "issuance.view_recoveries")
    full_ids = may(acting_user, "roster.reveal_person_id")
    entries = recovery_list(user=acting_user)
    rows = recoveries_write_xlsx(entries.iterator(chunk_size=2000), stream, full_ids=full_ids)
    audit_record(
        actor=acting_user,
        action="issuance.recovery_list.exported",
        obj=acting_user,
        after={"rows": rows, "full_values": full_ids},
        note=f"导出{'含完整身份证号码的' if full_ids else '已脱敏的'}回收清单 {rows} 条",
    )
    return RecoveryExport(file_name=f"回收清单_{timezone.localtime():%Y%m%d_%H%M}.xlsx", rows=rows)
