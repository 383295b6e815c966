"""交接: a box of cards passes from one custodian unit to another in one act.

The sender names the cards (scanned, typed or picked from a list); every card is checked
and each one that cannot go is named with its reason, or none goes. The handover gets a
numbered sheet (交接单号 ``JJ-20261129-0007``) and every card one 交接 entry in the
ledger, all through one ``cards_record_event``. The receiver confirms the cards that
arrived (scanned, or all at once); each card that did not arrive needs a reason and stays
在途 as a difference (未到卡), each scanned card that is not on the sheet is recorded as an
extra with its reason. The signed paper sheet can be attached, so paper and ledger agree.
"""

import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from dayao_sscard.audit import audit_record, audit_record_many, snapshot
from dayao_sscard.permissions import require
from dayao_sscard.roles import Role
from roster.models import Township, Village
from roster.verification import image_pixel_limit

from .card_numbers import card_number_clean
from .events import COUNTY_BUREAU
from .models import (
    HANDOVER_UNIT_KINDS,
    BankBranch,
    BranchTownship,
    Card,
    CardStatus,
    CustodyKind,
    Handover,
    HandoverCounter,
    HandoverExtra,
    HandoverItem,
    HandoverOutcome,
    HandoverStatus,
    LedgerEvent,
)
from .selectors import pending_cancellations_of_cards
from .services import Custody, cards_record_event

# A box holds 500 cards; a sheet of more than this many is surely a mistake.
HANDOVER_MAX_CARDS = 5000
SHEET_MAX_BYTES = 20 * 1024 * 1024
# Card numbers are 9–20 characters; what a scanner sends beyond that is not one.
RAW_NUMBER_MAX = 40

# ---- units --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A custodian unit: the county bureau, a township's centre, a village, a bank branch."""

    kind: str
    township: Township | None = None
    village: Village | None = None
    branch: BankBranch | None = None

    @property
    def name(self) -> str:
        if self.kind == CustodyKind.BANK:
            return str(self.branch)
        if self.kind == CustodyKind.TOWNSHIP:
            return f"{self.township.name}社保中心"
        if self.kind == CustodyKind.VILLAGE:
            return f"{self.township.name}{self.village.name}"
        return COUNTY_BUREAU

    @property
    def key(self) -> str:
        """How a form names the unit: ``county``, ``township:532326101``, ``village:7``…"""
        if self.kind == CustodyKind.BANK:
            return f"bank:{self.branch.pk}"
        if self.kind == CustodyKind.TOWNSHIP:
            return f"township:{self.township.code}"
        if self.kind == CustodyKind.VILLAGE:
            return f"village:{self.village.pk}"
        return "county"

    @property
    def group_label(self) -> str:
        return CustodyKind(self.kind).label

    def __str__(self) -> str:
        return self.name


def unit_of_user(user) -> Unit:
    """The unit a clerk works for and hands over from."""
    if user.role == Role.BANK_STAFF:
        return Unit(CustodyKind.BANK, branch=user.bank_branch)
    if user.role == Role.TOWNSHIP_STAFF:
        return Unit(CustodyKind.TOWNSHIP, township=user.township)
    if user.role == Role.VILLAGE_COLLECTOR:
        return Unit(CustodyKind.VILLAGE, township=user.township, village=user.village)
    return Unit(CustodyKind.COUNTY)


def receiver_choices(user) -> list[Unit]:
    """The units a clerk may hand cards to: the next step up or down the chain bank →
    county → township → village, as far as the clerk's own unit reaches."""
    own = unit_of_user(user)
    county = [Unit(CustodyKind.COUNTY)]
    if own.kind == CustodyKind.COUNTY:
        branches = BankBranch.objects.select_related("bank").order_by("bank__name", "name")
        townships = Township.objects.order_by("code")
        villages = Village.objects.select_related("township").order_by("township__code", "name")
        return (
            [Unit(CustodyKind.BANK, branch=b) for b in branches]
            + [Unit(CustodyKind.TOWNSHIP, township=t) for t in townships]
            + [Unit(CustodyKind.VILLAGE, township=v.township, village=v) for v in villages]
        )
    if own.kind == CustodyKind.TOWNSHIP:
        served = BranchTownship.objects.filter(township=own.township).select_related("branch__bank")
        villages = own.township.villages.order_by("name")
        return (
            county
            + [Unit(CustodyKind.BANK, branch=s.branch) for s in served]
            + [Unit(CustodyKind.VILLAGE, township=own.township, village=v) for v in villages]
        )
    if own.kind == CustodyKind.VILLAGE:
        return [Unit(CustodyKind.TOWNSHIP, township=own.township), *county]
    townships = Township.objects.filter(serving_branches=own.branch).order_by("code")
    return county + [Unit(CustodyKind.TOWNSHIP, township=t) for t in townships]


def receiver_from_key(user, key: str) -> Unit:
    """The unit a form named, among those the clerk may hand cards to."""
    for unit in receiver_choices(user):
        if unit.key == key:
            return unit
    raise ValidationError("请选择接收方。")


# Events a card recorded 未到卡 may not take alone (the event API): found, it is received
# on its sheet (后补接收), so the sheet and the ledger say the same.
_FOUND_ON_ITS_SHEET = (LedgerEvent.HANDED_OVER, LedgerEvent.RECEIVED)


def missing_card_refusal(card: Card, event: str) -> str:
    """Why this event may not be recorded alone on a card the latest receipt of its
    handover sheet recorded as 未到卡 ("" if it may). Received alone, the card would sit
    in stock while its sheet still says 未到卡 and 后补接收 could never close it."""
    if event not in _FOUND_ON_ITS_SHEET:
        return ""
    number = (
        HandoverItem.objects.filter(card=card, outcome=HandoverOutcome.MISSING)
        .values_list("handover__number", flat=True)
        .first()
    )
    if not number:
        return ""
    return (
        f"卡号{card.card_number}在交接单{number}中登记为未到卡；到卡后请在该交接单中"
        f"办理“后补接收”，不能单独办理“{LedgerEvent(event).label}”。"
    )


# ---- handing over -------------------------------------------------------------------------


def _refusal(card: Card | None, raw: str, reason: str) -> str:
    if card is None:
        shown = raw if len(raw) <= RAW_NUMBER_MAX else f"{raw[:RAW_NUMBER_MAX]}…"
        return f"卡号{shown}：{reason}"
    return f"卡号{card.card_number}（{card.person.name}）：{reason}"


def _next_number() -> str:
    """JJ-20261129-0007: the day's next number, under the day's counter row lock (held to
    the end of the handover's transaction, so two clerks at once take two numbers)."""
    today = timezone.localdate()
    HandoverCounter.objects.get_or_create(day=today)
    HandoverCounter.objects.filter(day=today).update(last=F("last") + 1)
    last = HandoverCounter.objects.get(day=today).last
    return f"JJ-{today:%Y%m%d}-{last:04d}"


def _belongs_to(card: Card, unit: Unit, served: set[int]) -> bool:
    if unit.kind == CustodyKind.TOWNSHIP:
        return card.person.township_id == unit.township.pk
    if unit.kind == CustodyKind.VILLAGE:
        return card.person.village_id == unit.village.pk
    if unit.kind == CustodyKind.BANK:
        return card.bank_id == unit.branch.bank_id and card.person.township_id in served
    return True


def _cards_asked(card_numbers: Iterable[str], card_ids: Iterable[int]) -> tuple[list, list[str]]:
    """The cards named, in the order named (each once), and what names none."""
    numbers = list(dict.fromkeys(n for raw in card_numbers if (n := card_number_clean(raw))))
    ids = list(dict.fromkeys(int(pk) for pk in card_ids))
    if len(numbers) + len(ids) > HANDOVER_MAX_CARDS:
        raise ValidationError(f"一张交接单最多{HANDOVER_MAX_CARDS}张卡，请分成几张交接单。")
    return numbers, ids


def handover_create(
    *,
    acting_user,
    receiver: Unit,
    sender_person: str,
    receiver_person: str,
    location: str,
    card_numbers: Iterable[str] = (),
    card_ids: Iterable[int] = (),
    note: str = "",
) -> Handover:
    """Hand the cards over to ``receiver`` in one act, with a numbered sheet.

    Each card must be in the clerk's scope and their unit's custody, in stock, on no open
    handover, not queued for 注销, and a card of the receiver (their township, village or
    branch). Any card that is not is named with the reason and nothing is written. The
    cards are locked (in id order) before they are checked, so two clerks handing over
    the same card cannot both succeed; the database also keeps a card on one open sheet.
    """
    require(acting_user, "issuance.create_handover")
    sender = unit_of_user(acting_user)
    if receiver.kind not in HANDOVER_UNIT_KINDS:
        raise ValidationError("请选择接收方。")
    if receiver.key == sender.key:
        raise ValidationError("接收方不能是本单位。")
    sender_person, receiver_person = sender_person.strip(), receiver_person.strip()
    location = location.strip()
    problems = [
        message
        for value, message in (
            (sender_person, "请填写交出方责任人。"),
            (receiver_person, "请填写接收方责任人。"),
            (location, "请填写保管地点（接收方存放卡片的地点）。"),
        )
        if not value
    ]
    if problems:
        raise ValidationError(problems)
    numbers, ids = _cards_asked(card_numbers, card_ids)
    if not numbers and not ids:
        raise ValidationError("请扫描、输入或勾选要交接的社保卡。")
    try:
        with transaction.atomic():
            return _handover_create(
                acting_user,
                sender,
                receiver,
                sender_person[:50],
                receiver_person[:50],
                location[:200],
                numbers,
                ids,
                note.strip()[:500],
            )
    except IntegrityError as exc:
        if "one_open_handover_per_card" in str(exc) or "issuance_handoveritem.card_id" in str(exc):
            raise ValidationError(
                "所选社保卡中有卡刚被他人列入另一张交接单，本次未交接，请刷新后重新选择。"
            ) from exc
        raise


def _handover_create(
    acting_user, sender, receiver, sender_person, receiver_person, location, numbers, ids, note
) -> Handover:
    found = (
        Card.objects.select_for_update(of=("self",))
        .select_related("person")
        .filter(card_number__in=numbers)
        if numbers
        else Card.objects.none()
    )
    by_number = {card.card_number: card for card in found.order_by("pk")}
    by_id = {
        card.pk: card
        for card in Card.objects.select_for_update(of=("self",))
        .select_related("person")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    reachable = set(
        Card.objects.for_user(acting_user)
        .filter(pk__in=[c.pk for c in (*by_number.values(), *by_id.values())])
        .values_list("pk", flat=True)
    )
    nowhere = "系统中没有这张卡，或不在您的管辖范围内。"
    refusals: list[str] = []
    cards: dict[int, Card] = {}
    for number in numbers:
        card = by_number.get(number)
        if card is None or card.pk not in reachable:
            refusals.append(_refusal(None, number, nowhere))
        else:
            cards.setdefault(card.pk, card)
    for pk in ids:
        card = by_id.get(pk)
        if card is None or card.pk not in reachable:
            refusals.append(f"所选的一张卡：{nowhere}")
        else:
            cards.setdefault(card.pk, card)
    refusals += _card_refusals(list(cards.values()), sender, receiver)
    if refusals:
        raise ValidationError(refusals)
    chosen = sorted(cards.values(), key=lambda c: (c.person.village_id or 0, c.person.name, c.pk))
    townships = {c.person.township_id for c in chosen}
    villages = {c.person.village_id for c in chosen}
    handover = Handover.objects.create(
        number=_next_number(),
        sender_kind=sender.kind,
        sender_name=sender.name,
        sender_township=sender.township,
        sender_village=sender.village,
        sender_branch=sender.branch,
        sender_person=sender_person,
        receiver_kind=receiver.kind,
        receiver_name=receiver.name,
        receiver_township=receiver.township,
        receiver_village=receiver.village,
        receiver_branch=receiver.branch,
        receiver_person=receiver_person,
        location=location,
        township_id=townships.pop() if len(townships) == 1 else None,
        village_id=villages.pop() if len(villages) == 1 else None,
        note=note,
        card_count=len(chosen),
        created_by=acting_user,
    )
    items = HandoverItem.objects.bulk_create(
        [HandoverItem(handover=handover, card=card) for card in chosen], batch_size=1000
    )
    cards_record_event(
        cards=chosen,
        event=LedgerEvent.HANDED_OVER,
        acting_user=acting_user,
        custody=Custody(
            kind=receiver.kind,
            party=receiver.name,
            location=location,
            responsible_person=receiver_person,
        ),
        note=f"交接单{handover.number}",
    )
    audit_record(
        actor=acting_user,
        action="issuance.handover.created",
        obj=handover,
        after=snapshot(handover),
        note=f"{sender.name}交{receiver.name}，{len(chosen)}张",
    )
    audit_record_many(
        actor=acting_user,
        action="issuance.handoveritem.created",
        changes=[(item, None, snapshot(item)) for item in items],
    )
    return handover


def _card_refusals(cards: list[Card], sender: Unit, receiver: Unit) -> list[str]:
    """Why each card may not go on this handover, one line per card (none: all may)."""
    pks = [c.pk for c in cards]
    open_sheets = dict(
        HandoverItem.objects.filter(card_id__in=pks, outcome=HandoverOutcome.PENDING).values_list(
            "card_id", "handover__number"
        )
    )
    cancelling = pending_cancellations_of_cards(pks)
    served: set[int] = set()
    if receiver.kind == CustodyKind.BANK:
        served = set(
            BranchTownship.objects.filter(branch=receiver.branch).values_list(
                "township_id", flat=True
            )
        )
    refusals = []
    for card in cards:
        if card.pk in open_sheets:
            reason = f"已在交接单{open_sheets[card.pk]}中等待接收，不能重复交接。"
        elif card.pk in cancelling:
            reason = f"已申请注销（{cancelling[card.pk].reason}），不能交接。"
        elif card.status != CardStatus.IN_STOCK:
            reason = f"当前状态为“{card.get_status_display()}”，只有库存卡才能交接。"
        elif card.custody_kind != sender.kind:
            keeper = card.custodian or "未登记责任人"
            reason = f"现由{card.get_custody_kind_display()}（{keeper}）保管，不在本单位。"
        elif not _belongs_to(card, receiver, served):
            reason = f"持卡人不属于{receiver.name}，不能交给该单位。"
        else:
            continue
        refusals.append(_refusal(card, card.card_number, reason))
    return refusals


# ---- receiving ----------------------------------------------------------------------------


@dataclass
class Received:
    """What a receipt did; ``already`` when the handover had been received before (a
    double click or a second clerk), and nothing was done again."""

    handover: Handover
    already: bool = False
    received: int = 0
    missing: int = 0
    extras: int = 0


@dataclass
class Extra:
    raw_number: str
    reason: str = ""


class ReceiptProblems(ValidationError):
    """A receipt that cannot be recorded yet: cards not scanned without a reason, scans
    not on the sheet without a reason. The page asks for them and keeps what was entered."""

    def __init__(self, messages: list[str], *, unexplained_missing, unexplained_extras):
        super().__init__(messages)
        self.unexplained_missing = list(unexplained_missing)
        self.unexplained_extras = list(unexplained_extras)


def handover_receive(
    *,
    acting_user,
    handover: Handover,
    received_numbers: Iterable[str] | None = None,
    missing_reasons: dict[int, str] | None = None,
    extras: Iterable[Extra] = (),
    note: str = "",
) -> Received:
    """The receiver confirms the handover against its sheet.

    ``received_numbers`` are the card numbers scanned from the box (None: every card on
    the sheet arrived). Each card on the sheet not among them needs a reason in
    ``missing_reasons`` (by item id): it is recorded as 未到卡 and stays 在途. Each scanned
    number not on the sheet needs a reason in ``extras``. The confirmed cards are
    received into the receiving unit in one ``cards_record_event``. The handover row is
    locked and its status checked, so a second submission does nothing twice.
    """
    require(acting_user, "issuance.receive_handover", handover)
    missing_reasons = {k: v.strip() for k, v in (missing_reasons or {}).items()}
    given_extras = {}
    for extra in extras:
        raw = card_number_clean(extra.raw_number)[:RAW_NUMBER_MAX]
        if raw:
            given_extras[raw] = extra.reason.strip()[:200]
    with transaction.atomic():
        locked = Handover.objects.select_for_update().get(pk=handover.pk)
        if locked.status != HandoverStatus.PENDING:
            return Received(handover=locked, already=True)
        items = list(locked.items.select_related("card", "card__person").order_by("id"))
        on_sheet = {item.card.card_number: item for item in items}
        if received_numbers is None:
            scanned = set(on_sheet)
        else:
            scanned = {n for raw in received_numbers if (n := card_number_clean(raw))}
        extra_numbers = sorted(n[:RAW_NUMBER_MAX] for n in scanned - set(on_sheet))
        for number in extra_numbers:
            given_extras.setdefault(number, "")
        missing = [item for item in items if item.card.card_number not in scanned]
        confirmed = [item for item in items if item.card.card_number in scanned]
        _check_receipt(missing, confirmed, missing_reasons, given_extras)
        now = timezone.now()
        if confirmed:
            cards_record_event(
                cards=[item.card for item in confirmed],
                event=LedgerEvent.RECEIVED,
                acting_user=acting_user,
                custody=Custody(
                    kind=locked.receiver_kind,
                    party=locked.receiver_name,
                    location=locked.location,
                    responsible_person=locked.receiver_person,
                ),
                note=f"交接单{locked.number}",
            )
        confirmed_pks = {item.pk for item in confirmed}
        changes = []
        for item in items:
            before = {"outcome": item.outcome}
            if item.pk in confirmed_pks:
                item.outcome = HandoverOutcome.RECEIVED
            else:
                item.outcome = HandoverOutcome.MISSING
                item.reason = missing_reasons[item.pk][:200]
            item.outcome_at = now
            changes.append((item, before, {"outcome": item.outcome, "reason": item.reason}))
        # One UPDATE per outcome and reason (a CASE per row, as bulk_update writes it, is slow).
        groups: dict[tuple[str, str], list[int]] = {}
        for item in items:
            groups.setdefault((item.outcome, item.reason), []).append(item.pk)
        for (outcome, reason), pks in groups.items():
            HandoverItem.objects.filter(pk__in=pks).update(
                outcome=outcome, reason=reason, outcome_at=now
            )
        known = {
            c.card_number: c
            for c in Card.objects.for_user(acting_user).filter(card_number__in=list(given_extras))
        }
        added = HandoverExtra.objects.bulk_create(
            [
                HandoverExtra(
                    handover=locked,
                    raw_number=raw,
                    card=known.get(raw),
                    reason=reason,
                    recorded_by=acting_user,
                )
                for raw, reason in given_extras.items()
            ]
        )
        before = snapshot(locked)
        differences = bool(missing or added)
        locked.status = (
            HandoverStatus.RECEIVED_WITH_DIFFERENCES if differences else HandoverStatus.RECEIVED
        )
        locked.received_by = acting_user
        locked.received_at = now
        locked.save(update_fields=["status", "received_by", "received_at"])
        audit_record(
            actor=acting_user,
            action="issuance.handover.received",
            obj=locked,
            before=before,
            after=snapshot(locked),
            note=(
                f"接收{len(confirmed)}张，未到卡{len(missing)}张，多出{len(added)}张"
                + (f"；{note.strip()}" if note.strip() else "")
            ),
        )
        audit_record_many(
            actor=acting_user,
            action="issuance.handoveritem.outcome_recorded",
            changes=changes,
        )
        audit_record_many(
            actor=acting_user,
            action="issuance.handoverextra.created",
            changes=[(extra, None, snapshot(extra)) for extra in added],
        )
    return Received(
        handover=locked, received=len(confirmed), missing=len(missing), extras=len(added)
    )


def _check_receipt(missing, confirmed, missing_reasons, given_extras) -> None:
    messages = []
    no_reason = [item for item in missing if not missing_reasons.get(item.pk)]
    if no_reason:
        names = "、".join(f"{i.card.card_number}（{i.card.person.name}）" for i in no_reason[:20])
        more = f"等{len(no_reason)}张" if len(no_reason) > 20 else ""
        messages.append(f"以下卡未扫描到，请逐张填写未到卡原因：{names}{more}。")
    unexplained = [raw for raw, reason in given_extras.items() if not reason]
    if unexplained:
        messages.append(
            f"扫描到交接单以外的卡号，请填写原因：{'、'.join(unexplained[:20])}"
            + (f"等{len(unexplained)}个" if len(unexplained) > 20 else "")
            + "。"
        )
    moved = [item for item in confirmed if item.card.status != CardStatus.IN_TRANSIT]
    for item in moved:
        messages.append(
            f"卡号{item.card.card_number}（{item.card.person.name}）当前状态为"
            f"“{item.card.get_status_display()}”，不能接收入库，请按未到卡登记原因。"
        )
    if messages:
        raise ReceiptProblems(
            messages,
            unexplained_missing=[item.pk for item in no_reason],
            unexplained_extras=unexplained,
        )


def handover_receive_late(*, acting_user, item: HandoverItem, note: str = "") -> HandoverItem:
    """A card recorded as 未到卡 turned up after all: it is received now (后补接收), and the
    original reason stays on the record."""
    require(acting_user, "issuance.receive_handover", item.handover)
    with transaction.atomic():
        handover = Handover.objects.select_for_update().get(pk=item.handover_id)
        locked = (
            HandoverItem.objects.select_for_update(of=("self",))
            .select_related("card", "card__person")
            .get(pk=item.pk)
        )
        if locked.outcome != HandoverOutcome.MISSING:
            raise ValidationError(
                f"卡号{locked.card.card_number}的接收结果为“{locked.get_outcome_display()}”，"
                "不需要后补接收。"
            )
        cards_record_event(
            cards=[locked.card],
            event=LedgerEvent.RECEIVED,
            acting_user=acting_user,
            custody=Custody(
                kind=handover.receiver_kind,
                party=handover.receiver_name,
                location=handover.location,
                responsible_person=handover.receiver_person,
            ),
            note=f"交接单{handover.number}后补接收",
        )
        locked.outcome = HandoverOutcome.RECEIVED_LATE
        locked.outcome_at = timezone.now()
        locked.save(update_fields=["outcome", "outcome_at"])
        audit_record(
            actor=acting_user,
            action="issuance.handoveritem.received_late",
            obj=locked,
            before={"outcome": HandoverOutcome.MISSING.value},
            after={"outcome": locked.outcome},
            note=note.strip()[:500],
        )
    return locked


# ---- the signed sheet ---------------------------------------------------------------------


_SIGNATURES = ((b"%PDF-", ".pdf"), (b"\xff\xd8\xff", ".jpg"), (b"\x89PNG\r\n\x1a\n", ".png"))


def _sheet_suffix(data: bytes) -> str:
    """The file's kind from its first bytes (a name or a browser's type says nothing)."""
    for magic, suffix in _SIGNATURES:
        if data.startswith(magic):
            return suffix
    raise ValidationError("扫描件只能是 PDF、JPG 或 PNG 文件。")


def _check_pdf(data: bytes) -> None:
    """A scan cut short in transfer (or a file merely named .pdf) has no end-of-file
    marker; kept, it would be a sheet nobody can open when the paper is needed."""
    if b"%%EOF" not in data[-2048:]:
        raise ValidationError("PDF文件不完整，可能已损坏，请重新扫描上传。")


def _check_image(data: bytes, suffix: str) -> None:
    """An image's size from its header, before any pixel is decoded."""
    limit = image_pixel_limit("PNG" if suffix == ".png" else "JPEG")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ValidationError(_too_large(limit)) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ValidationError("无法识别的图片文件，可能已损坏，请重新扫描。") from exc
    if image.width * image.height > limit:
        raise ValidationError(_too_large(limit, image.size))


def _too_large(limit: int, size: tuple[int, int] | None = None) -> str:
    found = f"（{size[0]}×{size[1]}）" if size else ""
    return (
        f"扫描图片像素过大{found}，最多 {limit / 10_000:.0f} 万像素，请降低扫描分辨率后重新上传。"
    )


def sheet_size_refusal(size: int) -> str | None:
    """Why a scan of this many bytes is refused, or None."""
    if size > SHEET_MAX_BYTES:
        megabytes = SHEET_MAX_BYTES // (1024 * 1024)
        return f"扫描件超过{megabytes}MB，请降低扫描分辨率后重新上传。"
    return None


def handover_attach_sheet(
    *, acting_user, handover: Handover, data: bytes, file_name: str = ""
) -> Handover:
    """Attach the scanned signed sheet (PDF, JPG or PNG). A later scan replaces the shown
    one; the audit log keeps each one's fingerprint."""
    require(acting_user, "issuance.attach_handover_sheet", handover)
    if refusal := sheet_size_refusal(len(data)):
        raise ValidationError(refusal)
    if not data:
        raise ValidationError("请选择签字交接单的扫描件。")
    suffix = _sheet_suffix(data)
    if suffix == ".pdf":
        _check_pdf(data)
    else:
        _check_image(data, suffix)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        locked = Handover.objects.select_for_update().get(pk=handover.pk)
        before = snapshot(
            locked,
            ["sheet", "sheet_name", "sheet_sha256", "sheet_uploaded_by", "sheet_uploaded_at"],
        )
        locked.sheet.save(f"{locked.number}{suffix}", ContentFile(data), save=False)
        locked.sheet_name = (file_name or f"{locked.number}{suffix}")[:255]
        locked.sheet_sha256 = digest
        locked.sheet_uploaded_by = acting_user
        locked.sheet_uploaded_at = timezone.now()
        locked.save(
            update_fields=[
                "sheet",
                "sheet_name",
                "sheet_sha256",
                "sheet_uploaded_by",
                "sheet_uploaded_at",
            ]
        )
        audit_record(
            actor=acting_user,
            action="issuance.handover.sheet_attached",
            obj=locked,
            before=before,
            after=snapshot(locked, before.keys()),
        )
    return locked


# ---- figures for the sheet ----------------------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")


def count_in_words(n: int) -> str:
    """A count in the capital numerals of forms and receipts: 50 → 伍拾, 1005 → 壹仟零伍."""
    if n == 0:
        return "零"
    if n >= 100_000_000:
        return str(n)
    high, low = divmod(n, 10_000)
    if high:
        rest = _below_10000(low)
        gap = "零" if low and low < 1000 else ""
        return _below_10000(high) + "万" + gap + rest
    return _below_10000(low)


def _below_10000(n: int) -> str:
    out, zero = "", False
    for place in range(3, -1, -1):
        digit = n // 10**place % 10
        if digit:
            if zero and out:
                out += "零"
            out += _DIGITS[digit] + _UNITS[place]
            zero = False
        else:
            zero = True
    return out
