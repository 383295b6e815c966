"""The distribution ledger (发放台账) of a township or one of its villages: one row per card.

The plan's columns: 卡号, 持卡人, 身份证号（脱敏）, 流转环节（各次交接）, 保管地点, 责任人,
发放时间, 签收人, 发放方式 — plus the village, the bank and the status. The PDF and the
Excel file read the same rows from here, in three queries however many cards there are.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone

from dayao_sscard.natural import natural_key
from dayao_sscard.permissions import require
from dayao_sscard.templatetags.display import day, when
from roster.id_numbers import mask_id_number
from roster.models import Township, Village

from .models import Card, CardStatus, IssueMethod, LedgerEntry, LedgerEvent

# The steps in which the card changes hands (流转环节); a receipt (接收入库) confirms the
# handover before it, and issuance has its own columns.
HANDOVER_EVENTS = (LedgerEvent.HANDED_OVER, LedgerEvent.RECOVERED)


@dataclass
class Handover:
    day: str
    from_party: str
    to_party: str
    received: bool = False

    def __str__(self) -> str:
        received = "（已接收）" if self.received else ""
        return f"{self.day} {self.from_party or '—'}→{self.to_party or '—'}{received}"


@dataclass
class LedgerRow:
    card_number: str
    holder: str
    masked_id_number: str
    village: str
    bank: str
    status: str
    location: str
    responsible_person: str
    issued_at: str = ""
    signee: str = ""
    method: str = ""
    handovers: list[Handover] = field(default_factory=list)

    @property
    def handover_lines(self) -> str:
        """Each handover on a line of its own (the PDF cell keeps the line breaks)."""
        return "\n".join(str(step) for step in self.handovers) or "—"


@dataclass
class VillageLedger:
    name: str
    rows: list[LedgerRow]


@dataclass
class LedgerReport:
    township: Township
    village: Village | None
    generated_at: datetime
    villages: list[VillageLedger]

    @property
    def scope_label(self) -> str:
        return f"{self.township.name}{self.village.name}" if self.village else self.township.name

    @property
    def card_count(self) -> int:
        return sum(len(v.rows) for v in self.villages)

    @property
    def status_counts(self) -> list[tuple[str, int]]:
        """Cards per status, in the order of the card's journey; statuses with none left out."""
        counts = Counter(row.status for v in self.villages for row in v.rows)
        return [(s.label, counts[s.label]) for s in CardStatus if counts[s.label]]


def ledger_place(
    *, user, township_code: str, village_name: str = ""
) -> tuple[Township, Village | None]:
    """The township (by code, or by name at the command line) and village (by name) the user asks the ledger of.

    Unknown ones are refused in Chinese, and so is a place outside the user's scope, before
    anything about its villages is looked up.
    """
    require(user, "issuance.view_ledger")
    asked = township_code.strip()
    township = Township.objects.filter(Q(code=asked) | Q(name=asked)).order_by("code").first()
    if township is None:
        raise ValidationError(f"没有区划代码或名称为“{township_code}”的乡镇。")
    if not user.is_county_wide and user.township_id != township.pk:
        raise PermissionDenied("该乡镇不在您的管辖范围内，不能查看发放台账。")
    village = None
    if village_name.strip():
        village = Village.objects.filter(township=township, name=village_name.strip()).first()
        if village is None:
            raise ValidationError(f"{township.name}没有名为“{village_name.strip()}”的村（社区）。")
    if user.village_id and (village is None or village.pk != user.village_id):
        raise PermissionDenied("村（社区）采集员只能查看本村（社区）的发放台账。")
    return township, village


def ledger_report(*, user, township: Township, village: Village | None = None) -> LedgerReport:
    """The ledger's rows: every card with a card number of the township (or village) in the
    user's scope, village by village (by name as people count), holder by holder."""
    require(user, "issuance.view_ledger")
    cards = Card.objects.for_user(user).filter(person__township=township, card_number__isnull=False)
    if village is not None:
        cards = cards.filter(person__village=village)
    card_rows = cards.values_list(
        "pk",
        "card_number",
        "status",
        "custodian",
        "custody_location",
        "person__name",
        "person__id_number",
        "person__village__name",
        "bank__name",
        "bank__short_name",
    )
    by_card: dict[int, LedgerRow] = {}
    for (
        pk,
        number,
        status,
        custodian,
        place,
        name,
        id_number,
        village_name,
        bank,
        short,
    ) in card_rows.iterator(chunk_size=2000):
        by_card[pk] = LedgerRow(
            card_number=number,
            holder=name,
            masked_id_number=mask_id_number(id_number),
            village=village_name or "（未分村）",
            bank=short or bank,
            status=CardStatus(status).label,
            location=place,
            responsible_person=custodian,
        )
    entries = (
        LedgerEntry.objects.filter(card_id__in=cards.values("pk"))
        .filter(event__in=[*HANDOVER_EVENTS, LedgerEvent.RECEIVED, LedgerEvent.ISSUED])
        .order_by("card_id", "sequence")
        .values_list(
            "card_id", "event", "occurred_at", "from_party", "to_party", "signee", "method"
        )
    )
    methods = dict(IssueMethod.choices)
    for card_id, event, occurred, from_party, to_party, signee, method in entries.iterator(
        chunk_size=5000
    ):
        row = by_card.get(card_id)
        if row is None:
            continue
        if event == LedgerEvent.ISSUED:
            row.issued_at, row.signee = when(occurred), signee
            row.method = methods.get(method, method)
        elif event == LedgerEvent.RECEIVED:
            if row.handovers:
                row.handovers[-1].received = True
        else:
            row.handovers.append(Handover(day(occurred), from_party, to_party))
    villages: dict[str, list[LedgerRow]] = {}
    for row in by_card.values():
        villages.setdefault(row.village, []).append(row)
    return LedgerReport(
        township=township,
        village=village,
        generated_at=timezone.now(),
        villages=[
            VillageLedger(name, sorted(rows, key=lambda r: (r.holder, r.card_number)))
            for name, rows in sorted(villages.items(), key=lambda item: natural_key(item[0]))
        ],
    )
