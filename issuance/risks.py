"""Custody risks (代管风险): who holds residents' cards who should not, and for how long.

The one selector behind the home pages' tiles, the risk lists and their Excel export, so
that a tile's count and the list it opens can never disagree. Every read starts from the
user's scope (``for_user``); the per-township figures are a function of the user, for
the dashboards of issue 11 to reuse.

**Rule 1: cards held too long by the wrong hands.** A made card (库存, 在途, 已发放,
已激活, 睡眠卡, 已回收: a physical card exists; 注销 ones are dead and not counted) is a
custody risk when it has been with its current custodian for more than N days (the
active campaign's ``custody_risk_days``, default 30: a card taken on exactly N days ago,
by the county's calendar, is not yet a risk, one taken N+1 days ago is) and that
custodian is one of:

- a village committee (村委会/社区), in stock or in transit alike: village cadres must not
  keep residents' cards (DOMAIN: custody rules);
- the county bureau or a township centre holding the card *in stock* (received, not
  moving on): offices pass cards on, they do not keep them; a card *in transit* between
  bank, county, township and village is on its way and not a risk;
- an approved proxy (代管人): allowed under an approval, but still someone other than the
  holder, and shown apart so that a long proxy custody is seen and its approval checked;
- a proxy whose approval is no longer valid (expired, revoked, none naming them): a risk
  from the first day, whatever N says, for the card stays with the proxy only under a
  valid approval (DOMAIN: proxy custody);
- a card its receiver recorded as 未到卡 on its latest handover and still 在途: lost on the
  way, whoever was to receive it, a risk from the day it was found missing;
- an individual other than the holder: a card recorded as issued "to the holder" whose
  signee/custodian is not the holder's name (a cadre or relative signed for it).

Never a risk: the province's card factory and the bank (where cards wait for the
county), the holder, a card with no physical form. A risky custody without a recorded
start is counted (its age is unknown, so it cannot be shown as recent).

**Rule 2: persons who hold the cards of several others.** From the ledger: every entry
that gave a card to an individual other than its holder (an issue whose signee is not
the holder, any entry into proxy custody, a handover to a person) names the receiver
(signee, else the receiving party). Grouped by that name within the holder's township,
a name that received the cards of two or more different holders is listed with those
cards and where each is now. Offices receiving boxes (handovers to a county, township or
village unit) are rule 1's business, not this one's: a village office always holds many.
"""

import datetime
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Count, Exists, F, Max, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Replace, Trim
from django.utils import timezone

from dayao_sscard.models import User, custody_risk_days
from roster.id_numbers import mask_id_number
from roster.models import Township
from roster.progress import townships_of

from .models import (
    CARD_MADE_STATUSES,
    Card,
    CardStatus,
    CustodyKind,
    HandoverItem,
    HandoverOutcome,
    LedgerEntry,
    LedgerEvent,
    ProxyApproval,
)


class RiskKind:
    VILLAGE = "village"
    OFFICE_STOCK = "office_stock"
    PROXY = "proxy"
    PROXY_LAPSED = "proxy_lapsed"
    OTHER_PERSON = "other_person"
    LOST_ON_THE_WAY = "lost_on_the_way"

    LABELS = {
        VILLAGE: "村委会（社区）保管",
        OFFICE_STOCK: "县乡经办机构库存未发",
        PROXY: "经批准的代管人保管",
        PROXY_LAPSED: "代管审批已失效仍由代管人保管",
        OTHER_PERSON: "持卡人以外的个人签收保管",
        LOST_ON_THE_WAY: "交接未到卡（去向不明）",
    }
    ADVICE = {
        VILLAGE: "村干部不得代管群众的社保卡：请尽快组织发放到持卡人本人，或交回乡镇社保中心。",
        OFFICE_STOCK: "请尽快通知持卡人领卡或组织集中发放；联系不上的登记二次发放结果。",
        PROXY: "请核对代管审批是否仍在有效期内、代管人是否如实转交，必要时收回并发放到本人。",
        PROXY_LAPSED: "代管审批已到期或已撤销：请收回社保卡发放到持卡人本人，或重新办理代管审批。",
        OTHER_PERSON: "签收人不是持卡人本人：请核实是谁领走了卡，收回后发放到本人或办理代领审批。",
        LOST_ON_THE_WAY: "接收时登记为未到卡：请交出方与接收方共同查找，找到后在交接单上后补接收；"
        "确已遗失的，请通知持卡人挂失补卡。",
    }

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return list(cls.LABELS.items())


def risk_days() -> int:
    """N: the active campaign's setting, or the default without an active campaign."""
    return custody_risk_days()


def risk_cutoff(*, days: int, today: datetime.date | None = None) -> datetime.datetime:
    """Custody taken before this moment is older than ``days`` days: the start of the
    county's day ``days`` days before today (a card taken that very day is exactly N)."""
    today = today or timezone.localdate()
    start = datetime.datetime.combine(today - datetime.timedelta(days=days), datetime.time.min)
    return timezone.make_aware(start)


_OFFICES = (CustodyKind.COUNTY, CustodyKind.TOWNSHIP)


def _approved_proxy(today: datetime.date | None) -> Exists:
    """An approval valid ``today`` for the card's holder naming its custodian."""
    today = today or timezone.localdate()
    return Exists(
        ProxyApproval.objects.filter(
            person=OuterRef("person"),
            # Registered without spaces (``proxies.same_name``); the card keeps it as typed.
            custodian_name=Replace(OuterRef("custodian"), Value(" "), Value("")),
            approved_at__isnull=False,
            revoked_at__isnull=True,
            valid_from__lte=today,
            valid_until__gte=today,
        )
    )


def _lost_on_the_way() -> Q:
    """Still 在途, and its latest handover recorded it as 未到卡: nobody holds it knowingly."""
    later = HandoverItem.objects.filter(card=OuterRef("card"), pk__gt=OuterRef("pk"))
    missing = HandoverItem.objects.filter(
        card=OuterRef("pk"), outcome=HandoverOutcome.MISSING
    ).filter(~Exists(later))
    return Q(status=CardStatus.IN_TRANSIT) & Q(Exists(missing))


def _kind_q(today: datetime.date | None = None) -> dict[str, Q]:
    """Which custody is which risk, whatever its age; each card is of one kind at most."""
    approved = _approved_proxy(today)
    lost = _lost_on_the_way()
    return {
        RiskKind.LOST_ON_THE_WAY: lost,
        RiskKind.VILLAGE: Q(custody_kind=CustodyKind.VILLAGE) & ~lost,
        RiskKind.OFFICE_STOCK: Q(custody_kind__in=_OFFICES) & ~Q(status=CardStatus.IN_TRANSIT),
        RiskKind.PROXY: Q(custody_kind=CustodyKind.PROXY) & Q(approved),
        RiskKind.PROXY_LAPSED: Q(custody_kind=CustodyKind.PROXY) & ~Q(approved),
        RiskKind.OTHER_PERSON: Q(custody_kind=CustodyKind.HOLDER)
        & ~Q(custodian="")
        & ~Q(custodian=F("person__name")),
    }


def custody_risk_q(*, days: int, today: datetime.date | None = None) -> Q:
    """Rule 1 as a filter on cards (see the module's docstring)."""
    kinds = _kind_q(today)
    risky = Q()
    for q in kinds.values():
        risky |= q
    old = Q(custody_since__isnull=True) | Q(custody_since__lt=risk_cutoff(days=days, today=today))
    at_once = kinds[RiskKind.PROXY_LAPSED] | kinds[RiskKind.LOST_ON_THE_WAY]
    return Q(status__in=CARD_MADE_STATUSES) & ((old & risky) | at_once)


def _kind_annotation(today: datetime.date | None = None) -> Case:
    return Case(
        *(When(q, then=Value(kind)) for kind, q in _kind_q(today).items()), default=Value("")
    )


def custody_risk_cards(
    *,
    user,
    township_code: str = "",
    kind: str = "",
    days: int | None = None,
    today: datetime.date | None = None,
) -> QuerySet[Card]:
    """Rule 1's cards in the user's scope, the longest held first, each annotated with
    ``risk_kind``; optionally of one township (by code) and one kind."""
    days = risk_days() if days is None else days
    cards = (
        Card.objects.for_user(user)
        .filter(custody_risk_q(days=days, today=today))
        .annotate(risk_kind=_kind_annotation(today))
    )
    if township_code:
        cards = cards.filter(person__township__code=township_code)
    if kind in RiskKind.LABELS:
        cards = cards.filter(_kind_q(today)[kind])
    return cards.select_related("person", "person__township", "person__village").order_by(
        F("custody_since").asc(nulls_first=True), "id"
    )


def risk_label(kind: str) -> str:
    return RiskKind.LABELS.get(kind, "")


def risk_advice(kind: str) -> str:
    return RiskKind.ADVICE.get(kind, "")


def custody_age_days(card: Card, *, today: datetime.date | None = None) -> int | None:
    """Whole days the card has been with its custodian, by the county's calendar."""
    if card.custody_since is None:
        return None
    today = today or timezone.localdate()
    return (today - timezone.localdate(card.custody_since)).days


# ---- rule 2: several others' cards -------------------------------------------------------


@dataclass
class HeldCard:
    card: Card
    received_at: datetime.datetime
    still_held: bool


@dataclass
class SeveralHolder:
    """A name that received the cards of two or more different holders in one township."""

    name: str
    township: Township
    id_number: str = ""
    is_staff_user: bool = False
    cards: list[HeldCard] = field(default_factory=list)

    @property
    def holders(self) -> int:
        return len({held.card.person_id for held in self.cards})

    @property
    def still_held(self) -> int:
        return sum(held.still_held for held in self.cards)


def _to_someone_else() -> Q:
    """Ledger entries that gave a card to an individual other than its holder."""
    holder = F("card__person__name")
    issued_to_another = Q(event=LedgerEvent.ISSUED) & ~Q(receiver=holder)
    into_proxy = Q(custody_kind=CustodyKind.PROXY) & Q(
        event__in=(LedgerEvent.ISSUED, LedgerEvent.HANDED_OVER)
    )
    handed_to_a_person = (
        Q(event=LedgerEvent.HANDED_OVER) & Q(custody_kind=CustodyKind.HOLDER) & ~Q(receiver=holder)
    )
    return (issued_to_another | into_proxy | handed_to_a_person) & ~Q(receiver="")


def _entries_to_someone_else(user):
    return (
        LedgerEntry.objects.for_user(user)
        .annotate(
            receiver=Trim(
                Case(
                    When(~Q(signee=""), then=F("signee")),
                    default=F("to_party"),
                )
            )
        )
        .filter(_to_someone_else())
    )


def _several_names(user) -> list[tuple[int, str]]:
    """Rule 2 grouped by the database: ``(township id, name)`` of each name that received
    the cards of two or more holders of the township, in the user's scope."""
    names = (
        _entries_to_someone_else(user)
        .values_list("card__person__township_id", "receiver")
        .annotate(holders=Count("card__person_id", distinct=True))
        .filter(holders__gte=2)
        .order_by()
    )
    return sorted((township_id, name) for township_id, name, _ in names)


def several_names(*, user, exact: bool = False) -> list[tuple[int, str]]:
    """``_several_names`` kept as the tiles' counts are (below); ``exact``: counted again
    whenever the ledger or the approvals changed, however recently it was counted (the
    list behind the tile, where a clerk looks for the entry just recorded)."""
    key, state = _risk_state(user, 0, None)
    return _kept(f"{key}:several", state, lambda: _several_names(user), exact=exact)


def holders_of_several_by_township(*, user) -> dict[int, int]:
    """Rule 2 counted: per township in scope, the names that received the cards of two or
    more holders — what ``persons_holding_several`` lists, grouped by the database (the
    tiles of the home and supervision pages; reading every entry took 1.1 s at a million)."""
    counts: dict[int, int] = defaultdict(int)
    for township_id, _ in _several_names(user):
        counts[township_id] += 1
    return counts


def persons_holding_several(*, user, township_code: str = "") -> list[SeveralHolder]:
    """Rule 2 in the user's scope, most holders first; optionally of one township.

    Only the entries of the names the database found (``several_names``) are read: reading
    every entry to someone else with its card and holder took 0.6–1.7 s at a million
    persons, and there are few such names, usually none.
    """
    names = {name for _, name in several_names(user=user, exact=True)}
    if not names:
        return []
    entries = _entries_to_someone_else(user).filter(receiver__in=names)
    if township_code:
        entries = entries.filter(card__person__township__code=township_code)
    entries = entries.select_related(
        "card", "card__person", "card__person__township", "card__person__village", "card__bank"
    ).order_by("occurred_at", "id")
    groups: dict[tuple[int, str], list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        groups[(entry.card.person.township_id, entry.receiver)].append(entry)
    found = []
    for (_, name), group in groups.items():
        if len({entry.card.person_id for entry in group}) < 2:
            continue
        holder = SeveralHolder(name=name, township=group[0].card.person.township)
        seen = set()
        for entry in group:
            card = entry.card
            if card.pk in seen:
                continue
            seen.add(card.pk)
            still = (
                card.custodian.strip() == name
                and card.custody_kind in (CustodyKind.PROXY, CustodyKind.HOLDER)
                and card.status in CARD_MADE_STATUSES
            )
            holder.cards.append(
                HeldCard(card=card, received_at=entry.occurred_at, still_held=still)
            )
        found.append(holder)
    _mark_staff(found)
    _add_approved_id_numbers(found)
    return sorted(found, key=lambda h: (-h.holders, h.township.code, h.name))


def _add_approved_id_numbers(holders: list[SeveralHolder]) -> None:
    """The ledger keeps a name; a 代管 approval naming that name for one of the holders
    gives the ID number (masked), so two people of one name can be told apart."""
    persons = {held.card.person_id for holder in holders for held in holder.cards}
    if not persons:
        return
    numbers = defaultdict(set)
    for name, person_id, number in ProxyApproval.objects.filter(
        person_id__in=persons, custodian_name__in={holder.name for holder in holders}
    ).values_list("custodian_name", "person_id", "custodian_id_number"):
        numbers[(name, person_id)].add(mask_id_number(number))
    for holder in holders:
        found = set()
        for held in holder.cards:
            found |= numbers.get((holder.name, held.card.person_id), set())
        holder.id_number = "、".join(sorted(found))


def _mark_staff(holders: list[SeveralHolder]) -> None:
    """A receiver who bears the name of a staff account of the township (or the county)
    is likely a cadre: said beside the name, for the reader to check."""
    names = {holder.name for holder in holders}
    if not names:
        return
    staff = defaultdict(set)
    for name, township_id in User.objects.filter(
        display_name__in=names, is_active=True
    ).values_list("display_name", "township_id"):
        staff[name].add(township_id)
    for holder in holders:
        townships = staff.get(holder.name, set())
        holder.is_staff_user = holder.township.pk in townships or None in townships


# ---- per township ------------------------------------------------------------------------


def townships_in_scope(user) -> list[Township]:
    """The townships whose figures the user reads: the county's, or the user's own."""
    return list(townships_of(user))


# The tiles (home pages, 进度督导) count both rules over every card and issuance of the
# county: 1 s and 2.5 s at a million persons, on every page view. They are kept per scope
# and counted again when a minute has passed, or when the ledger or the proxy approvals
# changed (their newest row or revocation) and the counts are older than
# RISK_COUNTS_MIN_SECONDS: on a busy day, with entries every second, a scope's tiles are
# counted at most that often instead of on every view. A day's turn is in the key.
RISK_COUNTS_SECONDS = 60
# Kept far longer than they are fresh: had they expired, every view of that moment would
# count them at once (under 100 users at a million persons, a dozen 2-second counts side by
# side). Stale, one view counts them again while the others answer with the kept ones.
RISK_COUNTS_KEPT_SECONDS = 24 * 3600
# How long the view counting them again keeps the others from counting too.
RISK_COUNTING_SECONDS = 120


def _risk_state(user, days: int, today: datetime.date | None) -> tuple[str, str]:
    """The cache key of the user's scope, and what the ledger and the approvals are now."""
    scope = (user.role, user.township_id, user.village_id, user.bank_branch_id)
    day = (today or timezone.localdate()).isoformat()
    key = "custody-risk-counts:" + ":".join(str(part) for part in (*scope, days, day))
    last_entry = LedgerEntry.objects.order_by("-id").values_list("id", flat=True).first()
    approvals = ProxyApproval.objects.aggregate(last=Max("id"), revoked=Max("revoked_at"))
    revoked = approvals["revoked"].timestamp() if approvals["revoked"] else None
    return key, f"{last_entry}:{approvals['last']}:{revoked}"


def _kept(key: str, state: str, count, *, exact: bool = False):
    """``count()``'s value under ``key``, counted again when stale (see above); ``exact``:
    whenever the ledger or the approvals changed, by this view itself."""
    now = time.time()
    kept = cache.get(key)
    counting = f"{key}:counting"
    if kept is not None:
        value, counted_state, counted_at = kept
        age = now - counted_at
        changed = counted_state != state
        recent = not changed or (not exact and age < settings.RISK_COUNTS_MIN_SECONDS)
        if age < RISK_COUNTS_SECONDS and recent:
            return value
        if not exact and not cache.add(counting, True, RISK_COUNTING_SECONDS):
            return value  # another view is counting them: these meanwhile, a little older
    try:
        value = count()
        cache.set(key, (value, state, now), RISK_COUNTS_KEPT_SECONDS)
    finally:
        if kept is not None and not exact:
            cache.delete(counting)
    return value


def custody_risk_counts(
    *, user, days: int | None = None, today: datetime.date | None = None
) -> list[dict]:
    """Per township in the user's scope: rule 1's cards by kind and in all, and rule 2's
    names. The tiles of the home pages and the lists behind them read these."""
    days = risk_days() if days is None else days
    key, state = _risk_state(user, days, today)
    return _kept(key, state, lambda: _custody_risk_counts(user=user, days=days, today=today))


def custody_risk_count(*, user, township_code: str = "", kind: str = "") -> int:
    """How many cards ``custody_risk_cards`` lists with these filters: the count kept for
    the tiles, counted again whenever the ledger or the approvals changed (counting the
    list itself compared every card in a holder's hands with the holder's name: 1 s at a
    million persons, on every page of the list)."""
    days = risk_days()
    key, state = _risk_state(user, days, None)
    rows = _kept(
        key, state, lambda: _custody_risk_counts(user=user, days=days, today=None), exact=True
    )
    total = 0
    for row in rows:
        if township_code and row["township"].code != township_code:
            continue
        if kind in RiskKind.LABELS:
            total += next(k["count"] for k in row["kinds"] if k["kind"] == kind)
        else:
            total += row["total"]
    return total


def custody_risk_longest(*, user, count: int = 10) -> list[Card]:
    """The ``count`` cards of rule 1 held longest (the home pages' short list), kept as the
    counts are: finding them walks the county's old custodies (0.2 s at a million)."""
    days = risk_days()
    key, state = _risk_state(user, days, None)
    return _kept(
        f"{key}:longest:{count}",
        state,
        lambda: list(custody_risk_cards(user=user, days=days)[:count]),
    )


def _custody_risk_counts(*, user, days: int, today: datetime.date | None) -> list[dict]:
    kinds = _kind_q(today)
    counted = {
        row["person__township"]: row
        for row in Card.objects.for_user(user)
        .filter(custody_risk_q(days=days, today=today))
        .values("person__township")
        .annotate(
            total=Count("id"),
            **{kind: Count("id", filter=q) for kind, q in kinds.items()},
        )
        .order_by()
    }
    several: dict[int, int] = defaultdict(int)
    for township_id, _ in several_names(user=user):
        several[township_id] += 1
    rows = []
    for township in townships_in_scope(user):
        counts = counted.get(township.pk, {})
        rows.append(
            {
                "township": township,
                "total": counts.get("total", 0),
                "kinds": [
                    {"kind": kind, "label": label, "count": counts.get(kind, 0)}
                    for kind, label in RiskKind.LABELS.items()
                ],
                "several": several.get(township.pk, 0),
            }
        )
    return rows


def custody_risk_totals(rows: list[dict]) -> dict:
    """The county line under the per-township table."""
    return {
        "total": sum(row["total"] for row in rows),
        "kinds": [
            {
                "kind": kind,
                "label": label,
                "count": sum(row["kinds"][n]["count"] for row in rows),
            }
            for n, (kind, label) in enumerate(RiskKind.LABELS.items())
        ],
        "several": sum(row["several"] for row in rows),
    }
