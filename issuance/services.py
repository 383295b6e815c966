"""Card writes: every change of status is a ledger entry, under a row lock, audited."""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from activation.models import Activation
from dayao_sscard.audit import audit_record, audit_record_many, snapshot
from dayao_sscard.permissions import require, require_all
from dayao_sscard.roles import Role
from roster.models import Person
from roster.progress import figures_touch
from roster.witnesses import card_refusal

from . import chain
from .card_numbers import card_number_for_holder
from .models import (
    LIVE_CARD_STATUSES,
    Bank,
    BankBranch,
    BranchTownship,
    CancellationRequest,
    Card,
    CustodyKind,
    HandoverItem,
    HandoverOutcome,
    IssueMethod,
    LedgerEntry,
    LedgerEvent,
    ProductionType,
    ProxyApproval,
)
from .proxies import proxy_issue_refusal, same_name
from .rules import event_action
from .selectors import (
    bank_by_name,
    branch_serving,
    pending_cancellation,
    pending_cancellations_of_cards,
)
from .states import TRANSITIONS, next_status

# Who may keep a card between the province's card factory and its holder.
CUSTODIAN_KINDS = (
    CustodyKind.PROVINCE,
    CustodyKind.BANK,
    CustodyKind.COUNTY,
    CustodyKind.TOWNSHIP,
    CustodyKind.VILLAGE,
)


@dataclass
class Custody:
    """Where the card goes with this event, and on whose signature."""

    kind: str = ""
    party: str = ""
    location: str = ""
    responsible_person: str = ""
    signee: str = ""
    method: str = ""
    face_to_face: bool = False
    identity_checked: bool = False  # the signee's (or holder's) ID document was seen
    extra: dict = field(default_factory=dict)


def card_create(
    *,
    person: Person,
    bank: Bank,
    acting_user,
    production_type: str = "batch",
    occurred_at: datetime | None = None,
    note: str = "",
) -> Card:
    """Register a card application (申领); refused for the dead and for a second live card."""
    require(acting_user, "issuance.create_card", person)
    if acting_user.role == Role.BANK_STAFF and acting_user.bank_branch.bank_id != bank.pk:
        raise PermissionDenied(f"您只能办理本行的社保卡，不能办理{bank}的社保卡。")
    if person.is_deceased:
        raise ValidationError("该人员已登记死亡，不能申领社保卡。")
    with transaction.atomic():
        Person.objects.select_for_update().get(pk=person.pk)
        if Card.objects.filter(person=person, status__in=LIVE_CARD_STATUSES).exists():
            raise ValidationError("该人员已有一张有效社保卡（一人一卡），不能重复申领。")
        card = Card.objects.create(person=person, bank=bank, production_type=production_type)
        audit_record(
            actor=acting_user, action="issuance.card.created", obj=card, after=snapshot(card)
        )
        return card_record_event(
            card=card,
            event=LedgerEvent.APPLIED,
            acting_user=acting_user,
            occurred_at=occurred_at,
            note=note,
            custody=Custody(kind=CustodyKind.NONE),
        )


def card_make_instant(
    *, person: Person, card_number: str, acting_user, occurred_at: datetime | None = None
) -> Card:
    """即时制卡 at a bank counter while the person waits: the card of the clerk's bank,
    applied for and made on the spot (two ledger entries), in the branch's custody.

    Only for a person ``card_refusal`` lets have a card now (alive, compared with the card
    system and without a card there, verified complete, no live card in our ledger, in no
    open batch). It is asked under the person's row lock, so of two clicks or two clerks
    at once one makes the card and the others are told why not. Issuing and activating it
    are the next steps, each its own ledger entry.
    """
    require(acting_user, "issuance.make_instant_card", person)
    number = card_number_for_holder(card_number, id_number=person.id_number)
    branch = acting_user.bank_branch
    when = occurred_at or timezone.now()
    try:
        with transaction.atomic():
            locked = Person.objects.select_for_update().get(pk=person.pk)
            if refusal := card_refusal(locked):
                raise ValidationError(refusal)
            card = card_create(
                person=locked,
                bank=branch.bank,
                acting_user=acting_user,
                production_type=ProductionType.INSTANT,
                occurred_at=when,
                note="网点即时制卡",
            )
            return card_record_event(
                card=card,
                event=LedgerEvent.PRODUCED,
                acting_user=acting_user,
                occurred_at=when,
                card_number=number,
                note="网点即时制卡",
                custody=Custody(
                    kind=CustodyKind.BANK,
                    party=str(branch),
                    location=f"{branch}柜台",
                    responsible_person=str(acting_user)[:50],
                ),
            )
    except IntegrityError as exc:
        if refused := card_conflict(exc, card_number=number):
            raise ValidationError(refused) from exc
        raise


def _card_number_taken(number: str) -> str:
    return f"卡号{number}已登记在另一张社保卡上，请核对卡号。"


def card_conflict(exc: IntegrityError, *, card_number: str) -> str:
    """Which of a card's uniqueness rules the database enforced, in Chinese; "" for any
    other error. A writer that took no person lock (an import) can still meet ours there.
    PostgreSQL names the constraint, SQLite the indexed column."""
    text = str(exc)
    if "one_live_card_per_person" in text or "issuance_card.person_id" in text:
        return "该人员刚刚已有一张有效社保卡（一人一卡），不能重复制卡；请刷新后查看。"
    if "card_number_unique" in text or "issuance_card.card_number" in text:
        return _card_number_taken(card_number)
    return ""


def card_record_event(
    *,
    card: Card,
    event: str,
    acting_user,
    custody: Custody | None = None,
    occurred_at: datetime | None = None,
    card_number: str | None = None,
    failure_reason: str = "",
    note: str = "",
) -> Card:
    """Append one ledger entry and move the card to the status it leads to.

    The card row is locked, so two clicks or two clerks cannot both issue it.
    """
    require(acting_user, event_action(event), card)
    custody = _issued_to_holder_by_default(event, custody or Custody())
    with transaction.atomic():
        locked = (
            Card.objects.select_for_update(of=("self",)).select_related("person").get(pk=card.pk)
        )
        last = _last_entry(locked)
        current = "" if event == LedgerEvent.APPLIED and last is None else locked.status
        following = next_status(current, event)
        if following is None:
            raise ValidationError(
                f"当前状态为“{locked.get_status_display()}”，不能办理“{LedgerEvent(event).label}”。"
            )
        when = occurred_at or timezone.now()
        _check_event_rules(
            locked, event, custody, failure_reason, note, on=timezone.localdate(when)
        )
        if event in _MOVES_WITH_ITS_SHEET:
            _check_on_no_open_sheet(locked, event)
        before = snapshot(locked)
        _check_when(when, last)
        if event == LedgerEvent.PRODUCTION_FAILED:
            locked.failure_reason = failure_reason
        if event == LedgerEvent.PRODUCED:
            locked.made_on = timezone.localdate(when)
            if card_number:
                locked.card_number = _card_number_free(card_number, locked)
        entry = _entry(
            locked,
            last,
            event=event,
            current=current,
            following=following,
            custody=custody,
            when=when,
            acting_user=acting_user,
            note=note or failure_reason,
        )
        locked.save()
        # The card's save recounted its holder without this entry; a PRODUCED entry tells
        # the disagreement flag the card was made after the latest export, so count again.
        with figures_touch([locked.person_id] if event == LedgerEvent.PRODUCED else []):
            entry.save(force_insert=True)
        if event == LedgerEvent.ACTIVATED:
            _activation_record(locked, acting_user, when, note)
        audit_record(
            actor=acting_user,
            action=f"issuance.card.{event}",
            obj=locked,
            before=before,
            after=snapshot(locked),
        )
        audit_record(
            actor=acting_user,
            action="issuance.ledger_entry.created",
            obj=entry,
            after=snapshot(entry),
        )
    return locked


def _issued_to_holder_by_default(event: str, custody: Custody) -> Custody:
    """Issued without naming a proxy is issued to the holder, who signed for it."""
    if event == LedgerEvent.ISSUED and not custody.kind:
        return replace(custody, kind=CustodyKind.HOLDER, party=custody.party or custody.signee)
    return custody


def card_issue_to_proxy(
    *,
    approval: ProxyApproval,
    acting_user,
    location: str,
    identity_checked: bool,
    note: str = "",
    occurred_at: datetime | None = None,
) -> Card:
    """凭审批发放: the holder's card goes to the custodian the approval names (经批准代领),
    through the ledger, which checks the approval again for the day."""
    require(acting_user, "issuance.issue_to_proxy", approval)
    location = (location or "").strip()
    if not location:
        raise ValidationError("请填写发放地点。")
    issuable = TRANSITIONS[LedgerEvent.ISSUED]
    card = (
        Card.objects.for_user(acting_user)
        .filter(person_id=approval.person_id, status__in=list(issuable))
        .first()
    )
    if card is None:
        raise ValidationError(
            f"{approval.person.name}没有可发放的社保卡（须为已制卡、在途、已回收或睡眠卡），不能发放。"
        )
    clerk = acting_user.display_name or acting_user.username
    return card_record_event(
        card=card,
        event=LedgerEvent.ISSUED,
        acting_user=acting_user,
        occurred_at=occurred_at,
        note=(note or "").strip()
        or f"凭代管审批发放给{approval.custodian_name}（{approval.custodian_relationship}）",
        custody=Custody(
            kind=CustodyKind.PROXY,
            method=IssueMethod.PROXY,
            party=approval.custodian_name,
            signee=approval.custodian_name,
            identity_checked=identity_checked,
            location=location[:200],
            responsible_person=clerk[:50],
            extra={"proxy_id_number": approval.custodian_id_number},
        ),
    )


def cards_apply(
    *,
    persons: list[Person],
    bank: Bank,
    acting_user,
    production_type: str = ProductionType.BATCH,
    note: str = "",
) -> list[Card]:
    """``card_create`` for many persons at once: the same cards, ledger entries and audit
    rows, in a few statements instead of a dozen per person.

    The caller holds the persons' rows locked and has checked them (alive, no live card);
    the one-live-card constraint still refuses a second card.
    """
    by_pk = {person.pk: person for person in persons}
    require_all(acting_user, "issuance.create_card", Person, by_pk)
    if any(person.is_deceased for person in persons):
        raise ValidationError("已登记死亡的人员不能申领社保卡。")
    if not persons:
        return []
    when = timezone.now()
    following = next_status("", LedgerEvent.APPLIED)
    with transaction.atomic(), figures_touch(by_pk):
        cards = Card.objects.bulk_create(
            [
                Card(
                    person=person,
                    bank=bank,
                    production_type=production_type,
                    status=following,
                    custody_kind=CustodyKind.NONE,
                )
                for person in persons
            ],
            batch_size=500,
        )
        entries = LedgerEntry.objects.bulk_create(
            [
                chain.entry_seal(
                    LedgerEntry(
                        card=card,
                        sequence=1,
                        event=LedgerEvent.APPLIED,
                        status_before="",
                        status_after=following,
                        custody_kind=CustodyKind.NONE,
                        occurred_at=when,
                        recorded_at=when,
                        recorded_by=acting_user,
                        note=note,
                    ),
                    "",
                )
                for card in cards
            ],
            batch_size=500,
        )
        audit_record_many(
            actor=acting_user,
            action="issuance.card.created",
            changes=[(c, None, snapshot(c)) for c in cards],
        )
        audit_record_many(
            actor=acting_user,
            action=f"issuance.card.{LedgerEvent.APPLIED}",
            changes=[(c, {"status": ""}, snapshot(c)) for c in cards],
        )
        audit_record_many(
            actor=acting_user,
            action="issuance.ledger_entry.created",
            changes=[(e, None, snapshot(e)) for e in entries],
        )
    return cards


@dataclass(frozen=True)
class CardOutcome:
    """What one card of many gets with its event: a card number, a reason, a note, and
    who signed for it (发放: each holder signs for their own card and receives it)."""

    card_number: str = ""
    failure_reason: str = ""
    note: str = ""
    # Where this card goes, when the cards of one call go to different hands (each holder
    # signs for their own card on a 集中发放 day); None: the call's custody.
    custody: "Custody | None" = None
    # Shorthand for the common case of that: the call's custody, signed for by this person.
    signee: str = ""


def cards_record_event(
    *,
    cards: list[Card],
    event: str,
    acting_user,
    custody: Custody | None = None,
    outcomes: dict[int, CardOutcome] | None = None,
    note: str = "",
    occurred_at: datetime | None = None,
) -> list[Card]:
    """``card_record_event`` for many cards at once, with the same checks, ledger entries
    and audit rows; all cards move or none (a refused one names itself).

    The cards are locked in id order, so two requests over the same cards wait in turn
    and the second sees the first one's statuses. ``occurred_at`` (default now) is
    checked as ``card_record_event`` checks it: not in the future, not before a card's
    previous step.
    """
    if event == LedgerEvent.ACTIVATED:
        raise ValidationError("金融功能激活须持卡人本人到场，逐张当面办理，不能批量登记。")
    custody = custody or Custody()
    outcomes = outcomes or {}
    pks = sorted({card.pk for card in cards})
    require_all(acting_user, event_action(event), Card, pks)
    if not pks:
        return []
    when = occurred_at or timezone.now()
    with transaction.atomic():
        locked = list(
            Card.objects.select_for_update(of=("self",))
            .select_related("person")
            .filter(pk__in=pks)
            .order_by("pk")
        )
        last_entries = _last_entries(pks)
        # One query for the box's pending 注销, not one per card (half a box's time).
        pending = (
            pending_cancellations_of_cards(pks) if event in _BLOCKED_BY_PENDING_CANCELLATION else {}
        )
        entries, changes = [], []
        for card in locked:
            outcome = outcomes.get(card.pk, CardOutcome())
            card_custody = _issued_to_holder_by_default(event, outcome.custody or custody)
            if outcome.signee:
                card_custody = replace(card_custody, signee=outcome.signee, party=outcome.signee)
            last = last_entries.get(card.pk)
            if occurred_at is not None:
                try:
                    _check_when(when, last)
                except ValidationError as exc:
                    raise ValidationError(f"{card.person.name}的社保卡：{exc.messages[0]}") from exc
            current = card.status if last else ""
            following = next_status(current, event)
            if following is None:
                raise ValidationError(
                    f"{card.person.name}的社保卡当前状态为“{card.get_status_display()}”，"
                    f"不能办理“{LedgerEvent(event).label}”。"
                )
            try:
                _check_event_rules(
                    card,
                    event,
                    card_custody,
                    outcome.failure_reason,
                    note,
                    on=timezone.localdate(when),
                    pending=pending.get(card.pk),
                )
            except ValidationError as exc:
                raise ValidationError(
                    f"{card.person.name}的社保卡：{'；'.join(exc.messages)}"
                ) from exc
            before = snapshot(card)
            if event == LedgerEvent.PRODUCTION_FAILED:
                card.failure_reason = outcome.failure_reason[:200]
            if event == LedgerEvent.PRODUCED:
                card.made_on = timezone.localdate(when)
                if outcome.card_number:
                    card.card_number = outcome.card_number
            entries.append(
                _entry(
                    card,
                    last,
                    event=event,
                    current=current,
                    following=following,
                    custody=card_custody,
                    when=when,
                    acting_user=acting_user,
                    note=(outcome.note or note or outcome.failure_reason)[:500],
                )
            )
            changes.append((card, before, snapshot(card)))
        # Cards and entries recounted together: a PRODUCED entry is what the disagreement
        # flag reads to know a card was made after the latest export.
        with figures_touch(card.person_id for card in locked):
            _save_cards(locked, card_numbers=event == LedgerEvent.PRODUCED)
            entries = LedgerEntry.objects.bulk_create(entries, batch_size=500)
        audit_record_many(actor=acting_user, action=f"issuance.card.{event}", changes=changes)
        audit_record_many(
            actor=acting_user,
            action="issuance.ledger_entry.created",
            changes=[(e, None, snapshot(e)) for e in entries],
        )
    return locked


# What an event may change on a card; the card number is each card's own.
_EVENT_FIELDS = (
    "status",
    "failure_reason",
    "made_on",
    "custody_kind",
    "custodian",
    "custody_location",
    "custody_since",
)


def _save_cards(cards: list[Card], *, card_numbers: bool) -> None:
    """One UPDATE per set of values the cards share (a batch's cards share nearly all):
    a CASE per card and field, as ``bulk_update`` writes it, took 8 s for 3,000 cards."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for card in cards:
        groups[tuple(getattr(card, name) for name in _EVENT_FIELDS)].append(card.pk)
    for values, pks in groups.items():
        for start in range(0, len(pks), 1000):
            Card.objects.filter(pk__in=pks[start : start + 1000]).update(
                **dict(zip(_EVENT_FIELDS, values, strict=True))
            )
    if card_numbers:
        Card.objects.bulk_update(cards, ["card_number"], batch_size=100)


def _card_number_free(raw: str, card: Card) -> str:
    """The card number checked, not the holder's ID number, and on no other card."""
    number = card_number_for_holder(raw, id_number=card.person.id_number)
    if Card.objects.filter(card_number=number).exclude(pk=card.pk).exists():
        raise ValidationError(_card_number_taken(number))
    return number


# A card queued for 注销 stays where it is until the queue is carried out or withdrawn.
_BLOCKED_BY_PENDING_CANCELLATION = (
    LedgerEvent.ISSUED,
    LedgerEvent.ACTIVATED,
    LedgerEvent.HANDED_OVER,
)


# A card on a handover sheet waiting for its receiver moves only with that sheet: the
# handover service records a sheet's cards together (``cards_record_event``); one card
# handed on or received alone (the event API) would leave the sheet saying otherwise.
_MOVES_WITH_ITS_SHEET = (LedgerEvent.HANDED_OVER, LedgerEvent.RECEIVED)


def _check_on_no_open_sheet(card: Card, event: str) -> None:
    number = (
        HandoverItem.objects.filter(card=card, outcome=HandoverOutcome.PENDING)
        .values_list("handover__number", flat=True)
        .first()
    )
    if number:
        raise ValidationError(
            f"该卡在交接单{number}中等待接收，不能单独办理“{LedgerEvent(event).label}”；"
            "请在该交接单上办理接收或登记未到卡。"
        )


# A counter PC's clock may run a little ahead of the server's.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class _Last:
    """A card's newest ledger entry, as the next one needs it."""

    sequence: int
    occurred_at: datetime
    entry_hash: str


def _last_entry(card: Card) -> _Last | None:
    row = (
        card.ledger_entries.order_by("-sequence")
        .values_list("sequence", "occurred_at", "entry_hash")
        .first()
    )
    return _Last(*row) if row else None


def _last_entries(pks: list[int]) -> dict[int, _Last]:
    """The newest entry of each of these cards (by the (card, sequence) index)."""
    newest = (
        LedgerEntry.objects.filter(card_id=OuterRef("card_id"))
        .order_by("-sequence")
        .values("sequence")[:1]
    )
    found = {}
    for start in range(0, len(pks), 500):
        rows = LedgerEntry.objects.filter(
            card_id__in=pks[start : start + 500], sequence=Subquery(newest)
        ).values_list("card_id", "sequence", "occurred_at", "entry_hash")
        for card_id, *last in rows:
            found[card_id] = _Last(*last)
    return found


def _entry(
    card: Card,
    last: _Last | None,
    *,
    event: str,
    current: str,
    following: str,
    custody: Custody,
    when: datetime,
    acting_user,
    note: str,
) -> LedgerEntry:
    """The card's next entry, chained to its last one, and the card moved to the fold of
    its ledger with it (``issuance.chain.fold_step``: one rule for writers and readers)."""
    entry = LedgerEntry(
        card=card,
        sequence=(last.sequence if last else 0) + 1,
        event=event,
        status_before=current,
        status_after=following,
        from_party=card.custodian,
        to_party=custody.party,
        custody_kind=custody.kind or card.custody_kind,
        location=custody.location,
        responsible_person=custody.responsible_person,
        signee=custody.signee,
        method=custody.method,
        face_to_face=custody.face_to_face,
        identity_checked=custody.identity_checked,
        occurred_at=when,
        recorded_at=timezone.now(),
        recorded_by=acting_user,
        note=note,
    )
    chain.card_state_apply(card, chain.fold_step(chain.card_state(card), entry))
    return chain.entry_seal(entry, last.entry_hash if last else "")


def _check_when(when: datetime, last: _Last | None) -> None:
    """A step happens after the card's previous one, and not in the future."""
    if when > timezone.now() + CLOCK_SKEW:
        raise ValidationError("发生时间不能晚于当前时间。")
    if last is not None and when < last.occurred_at:
        raise ValidationError(
            "发生时间早于该卡上一环节的时间"
            f"（{timezone.localtime(last.occurred_at):%Y年%m月%d日 %H:%M}），请核对。"
        )


_ASK = object()


def _check_event_rules(
    card: Card,
    event: str,
    custody: Custody,
    failure_reason: str,
    note: str = "",
    *,
    on: date | None = None,
    pending: CancellationRequest | None | object = _ASK,
) -> None:
    """Refuse what the ledger does not allow; ``pending``: the card's pending 注销 when the
    caller has read it already (for many cards at once), else it is asked here."""
    if event == LedgerEvent.PRODUCTION_FAILED and not failure_reason.strip():
        raise ValidationError("请填写制卡失败原因。")
    if event in (LedgerEvent.CANCELLED, LedgerEvent.RECOVERED) and not note.strip():
        raise ValidationError(f"办理“{LedgerEvent(event).label}”必须在备注中写明原因。")
    if event in _BLOCKED_BY_PENDING_CANCELLATION:
        if pending is _ASK:
            pending = pending_cancellation(card)
        if pending is not None:
            raise ValidationError(
                f"该卡已申请注销（{pending.reason}），不能办理“{LedgerEvent(event).label}”；"
                "如死亡登记有误，请乡镇社保中心撤销死亡登记后再办理。"
            )
    if event == LedgerEvent.ISSUED:
        if card.person.is_deceased:
            raise ValidationError("持卡人已登记死亡，不能发放，请办理注销。")
        if not custody.signee.strip():
            raise ValidationError("发放必须登记签收人。")
        if not custody.identity_checked:
            raise ValidationError("发放前必须核验签收人的身份证件。")
        if custody.kind == CustodyKind.PROXY or custody.method == IssueMethod.PROXY:
            _check_proxy(card, custody, on or timezone.localdate())
        elif not same_name(custody.signee, card.person.name):
            raise ValidationError(
                f"签收人{custody.signee.strip()}不是持卡人{card.person.name}："
                "发放到本人须由持卡人本人签收；他人代领须选择“经批准代领”并凭有效审批。"
            )
        if custody.method == IssueMethod.COUNTER and card.custody_kind != CustodyKind.BANK:
            raise ValidationError(
                f"该卡现由{card.get_custody_kind_display()}（{card.custodian or '未登记责任人'}）"
                "保管，不在银行网点，不能办理网点柜台发放；请先办理交接和接收入库。"
            )
    if event == LedgerEvent.ACTIVATED:
        if not custody.face_to_face:
            raise ValidationError("金融功能激活只能当面办理（面签），不得非面签激活。")
        if not custody.identity_checked:
            raise ValidationError("金融功能激活必须当面核验持卡人本人的身份证件。")
        if card.person.is_deceased:
            raise ValidationError("持卡人已登记死亡，不能激活，请办理注销。")
        if card.custody_kind != CustodyKind.HOLDER:
            raise ValidationError(
                "只有已发放到持卡人本人手中的社保卡才能激活金融功能"
                f"（该卡现由{card.get_custody_kind_display()}保管），请先办理发放。"
            )
    if event == LedgerEvent.HANDED_OVER:
        if not (custody.party and custody.responsible_person):
            raise ValidationError("交接必须登记接收方和责任人。")
        if custody.kind not in CUSTODIAN_KINDS:
            # To the holder or a proxy is 发放, with its signature and ID check.
            raise ValidationError("交接必须登记接收方类型（银行网点、县人社局、乡镇、村委会等）。")


def _check_proxy(card: Card, custody: Custody, on: date) -> None:
    """经批准代领: both the method and the custody say proxy, the signee is the proxy who
    keeps the card, and an approval valid on ``on`` names them (``proxy_issue_refusal``)."""
    if custody.kind != CustodyKind.PROXY or custody.method != IssueMethod.PROXY:
        raise ValidationError("代领须登记发放方式“经批准代领”，卡交由经批准的代管人保管。")
    if custody.party and not same_name(custody.party, custody.signee):
        raise ValidationError("代领的接收人须是签收的代领人本人。")
    refusal = proxy_issue_refusal(
        person=card.person,
        custodian_name=custody.signee,
        custodian_id_number=str(custody.extra.get("proxy_id_number") or ""),
        on=on,
    )
    if refusal:
        raise ValidationError(refusal)


def _activation_record(card: Card, acting_user, when: datetime, note: str) -> Activation:
    """The activation beside its ledger entry, at the counter of the clerk's branch (only
    bank staff activate: ``issuance.activate_card``)."""
    activation = Activation.objects.create(
        card=card,
        activated_at=when,
        branch=acting_user.bank_branch,
        face_to_face=True,
        identity_checked=True,
        recorded_by=acting_user,
        note=note,
    )
    audit_record(
        actor=acting_user,
        action="activation.activation.created",
        obj=activation,
        after=snapshot(activation),
    )
    return activation


def card_status_from_ledger(card: Card) -> str:
    entries = list(card.ledger_entries.order_by("sequence").values_list("status_after", flat=True))
    return entries[-1] if entries else ""


def cards_queue_cancellation(*, persons: list[Person], acting_user) -> int:
    """Queue every live card of these (deceased) persons for 注销, once each.

    ``acting_user`` None is the operator's death list at the command line.
    """
    by_pk = {p.pk: p for p in persons}
    if acting_user is not None:
        require_all(acting_user, "issuance.queue_card_cancellation", Person, by_pk)
    pending = CancellationRequest.objects.filter(
        card=OuterRef("pk"), status=CancellationRequest.Status.PENDING
    )
    ids = list(by_pk)
    requests = []
    for start in range(0, len(ids), 500):
        cards = Card.objects.filter(
            person_id__in=ids[start : start + 500], status__in=LIVE_CARD_STATUSES
        ).exclude(Exists(pending))
        for card in cards.order_by("pk"):
            person = card.person = by_pk[card.person_id]
            reason = f"持卡人已死亡（{person.death_date:%Y-%m-%d}，{person.death_source}）"
            requests.append(
                CancellationRequest(card=card, reason=reason[:200], requested_by=acting_user)
            )
    with transaction.atomic():
        CancellationRequest.objects.bulk_create(requests, batch_size=500)
        audit_record_many(
            actor=acting_user,
            action="issuance.cancellationrequest.created",
            changes=[(request, None, snapshot(request)) for request in requests],
        )
    return len(requests)


def cancellations_withdraw(*, person: Person, acting_user, reason: str) -> int:
    """Withdraw the pending 注销 of a person's cards, e.g. when a death record was wrong."""
    require(acting_user, "issuance.withdraw_card_cancellation", person)
    Status = CancellationRequest.Status
    withdrawn = 0
    with transaction.atomic():
        for request in CancellationRequest.objects.select_for_update(of=("self",)).filter(
            card__person=person, status=Status.PENDING
        ):
            request.status = Status.WITHDRAWN
            request.closed_at = timezone.now()
            request.close_note = f"撤销死亡登记：{reason}"[:200]
            request.save()
            audit_record(
                actor=acting_user,
                action="issuance.cancellationrequest.withdrawn",
                obj=request,
                before={"status": Status.PENDING.value},
                after={"status": request.status},
                note=reason,
            )
            withdrawn += 1
    return withdrawn


def bank_get_or_create(*, name: str, acting_user=None) -> Bank:
    """The partner bank a name or alias means; a new bank when none does (audited)."""
    name = name.strip()
    if not name:
        raise ValidationError("请填写银行名称。")
    bank = bank_by_name(name)
    if bank is None:
        bank = Bank.objects.create(name=name[:100])
        audit_record(
            actor=acting_user, action="issuance.bank.created", obj=bank, after=snapshot(bank)
        )
    return bank


def branch_serving_get_or_create(*, bank: Bank, township, acting_user=None) -> BankBranch:
    """The branch of ``bank`` that serves ``township``; one is set up when there is none.

    The new branch is named after the township and answers from now on for the bank's
    cards there, those made before included.
    """
    with transaction.atomic():
        Bank.objects.select_for_update().get(pk=bank.pk)
        branch = branch_serving(bank=bank, township=township)
        if branch is not None:
            return branch
        branch, created = BankBranch.objects.get_or_create(
            bank=bank, name=f"{township.name}网点", defaults={"township": township}
        )
        if created:
            audit_record(
                actor=acting_user,
                action="issuance.bankbranch.created",
                obj=branch,
                after=snapshot(branch),
            )
        served = BranchTownship.objects.create(branch=branch, township=township, bank=bank)
        audit_record(
            actor=acting_user,
            action="issuance.branchtownship.created",
            obj=served,
            after=snapshot(served),
        )
        return branch
