"""Counter reads: finding the person at the counter, what they still need, and the
branch's own lists. Always given the user; a bank clerk reaches the holders of the
branch's cards, and — only by exact ID number — the persons the branch may make a first
card for (``issuance.rules.at_branch_counter``), never in a list.
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from dayao_sscard.params import id_param
from dayao_sscard.roles import Role
from issuance.card_numbers import card_number_clean
from issuance.models import (
    CARD_MADE_STATUSES,
    LIVE_CARD_STATUSES,
    BankBranch,
    CancellationRequest,
    Card,
    CardStatus,
    LedgerEntry,
    LedgerEvent,
    ProductionType,
)
from issuance.rules import at_branch_counter
from issuance.selectors import card_status_counted, pending_cancellation, with_answering_branch
from roster.id_numbers import try_normalize_id_number
from roster.models import Person
from roster.witnesses import card_refusal

from .models import Activation, ElectronicCardSigning


@dataclass(frozen=True)
class Found:
    person: Person
    through_door: bool  # outside the clerk's list scope: found by exact ID number only


def counter_lookup(*, user, text: str) -> Found | None:
    """The person an ID number (exact) or card number typed or scanned at the counter means.

    Found when the person is in the user's scope, or — for a bank clerk, by exact ID
    number only — a person of a township the clerk's branch serves who has no live card
    yet (whom the branch may make a first card for). Nobody else, and never a list.
    """
    persons = Person.objects.select_related("township", "village", "classification")
    id_number, _ = try_normalize_id_number(text)
    if id_number:
        person = persons.for_user(user).filter(id_number=id_number).first()
        if person is not None:
            return Found(person, through_door=False)
        if user.role == Role.BANK_STAFF:
            candidate = persons.filter(id_number=id_number).first()
            if candidate is not None and at_branch_counter(user, candidate):
                return Found(candidate, through_door=True)
    number = card_number_clean(text)
    if number:
        card = Card.objects.for_user(user).filter(card_number=number).first()
        if card is not None:
            return Found(persons.get(pk=card.person_id), through_door=False)
    return None


def counter_person_get(*, user, pk: int, opened: Collection[int] = ()) -> Person:
    """The person of a counter page: in scope, or one this clerk found by exact ID number
    (``opened``: the persons found so in this session) and still may serve; else 404."""
    persons = Person.objects.select_related("township", "village", "classification")
    person = persons.for_user(user).filter(pk=pk).first()
    if person is None and pk in opened and user.role == Role.BANK_STAFF:
        candidate = persons.filter(pk=pk).first()
        if candidate is not None and at_branch_counter(user, candidate):
            person = candidate
    if person is None:
        raise Http404("没有找到该人员。")
    return person


def counter_card(*, user, person: Person) -> Card | None:
    """The person's live card, if the user reaches it (a clerk: a card of the branch)."""
    return (
        Card.objects.for_user(user)
        .filter(person=person, status__in=LIVE_CARD_STATUSES)
        .select_related("bank")
        .order_by("-created_at", "-id")
        .first()
    )


@dataclass
class Step:
    """One thing the person may still need at the counter."""

    key: str  # instant, issue, activate, ecard
    label: str
    done: str = ""  # what was done, when; "" when not done
    open: bool = False  # can be done now (the template still asks whether the user may)
    reason: str = ""  # why it cannot be done now


@dataclass
class CounterState:
    person: Person
    card: Card | None  # the live card the user reaches
    other_card: Card | None  # a live card the user does not reach (another bank's)
    ecard: ElectronicCardSigning | None
    pending_cancellation: CancellationRequest | None
    steps: list[Step] = field(default_factory=list)

    @property
    def headline(self) -> str:
        """The person's status in a few words, the first thing the clerk reads."""
        if self.person.is_deceased:
            return "已登记死亡"
        if self.other_card is not None:
            # Another bank's card: its bank is named, not its number, state or keeper.
            return f"社保卡由{self.other_card.bank}负责"
        if self.card is None:
            return "尚无社保卡"
        return self.card.get_status_display()

    @property
    def nothing_left(self) -> bool:
        return all(step.done for step in self.steps)


def counter_state(*, user, person: Person) -> CounterState:
    """What the person still needs at the counter — 即时制卡, 发放, 激活, 电子社保卡 — and,
    for what cannot be done now, why."""
    card = counter_card(user=user, person=person)
    other = None
    if card is None:
        other = (
            person.cards.filter(status__in=LIVE_CARD_STATUSES)
            .select_related("bank")
            .order_by("-created_at", "-id")
            .first()
        )
    pending = None
    if card is not None:
        pending = pending_cancellation(card)
    state = CounterState(
        person=person,
        card=card,
        other_card=other,
        ecard=ElectronicCardSigning.objects.filter(person=person).first(),
        pending_cancellation=pending,
    )
    state.steps = [
        _instant_step(state),
        _issue_step(state),
        _activate_step(state),
        _ecard_step(state),
    ]
    return state


def _blocked(state: CounterState) -> str:
    """What stops every step for this person, if anything."""
    if state.person.is_deceased:
        return "该人员已登记死亡，不能办理；名下社保卡应注销。"
    if state.other_card is not None:
        bank = state.other_card.bank
        return f"该人员的社保卡由{bank}负责，请到{bank}网点办理。"
    if state.pending_cancellation is not None:
        return f"该卡已申请注销（{state.pending_cancellation.reason}），不能发放或激活。"
    return ""


def _instant_step(state: CounterState) -> Step:
    step = Step("instant", "即时制卡")
    card = state.card
    if card is not None and card.status in CARD_MADE_STATUSES:
        made = f"{card.made_on:%Y-%m-%d}" if card.made_on else ""
        step.label = "制卡"
        step.done = (
            f"已制卡（{card.get_production_type_display()}）{made} 卡号 {card.card_number or '—'}"
        )
        return step
    if blocked := _blocked(state):
        step.reason = blocked
    elif card is not None:
        step.reason = f"已申领，当前状态为“{card.get_status_display()}”，请等待制卡完成。"
    else:
        step.reason = card_refusal(state.person)
        step.open = not step.reason
    return step


def _issue_step(state: CounterState) -> Step:
    step = Step("issue", "发放")
    card = state.card
    if card is not None and card.status in (
        CardStatus.ISSUED,
        CardStatus.ACTIVATED,
        CardStatus.DORMANT,
    ):
        entry = _last_entry(card, LedgerEvent.ISSUED)
        step.done = "已发放" + (
            f" {timezone.localtime(entry.occurred_at):%Y-%m-%d}，签收人 {entry.signee}"
            if entry
            else ""
        )
        return step
    if blocked := _blocked(state):
        step.reason = blocked
    elif card is None or card.status not in (
        CardStatus.IN_STOCK,
        CardStatus.IN_TRANSIT,
        CardStatus.RECOVERED,
    ):
        step.reason = "尚未制卡，制卡后才能发放。"
    else:
        step.open = True
    return step


def _activate_step(state: CounterState) -> Step:
    step = Step("activate", "金融功能激活")
    card = state.card
    if card is not None and card.status == CardStatus.ACTIVATED:
        activation = Activation.objects.filter(card=card).select_related("branch").first()
        step.done = "已激活" + (
            f" {timezone.localtime(activation.activated_at):%Y-%m-%d}，{activation.branch}"
            if activation
            else ""
        )
        return step
    if blocked := _blocked(state):
        step.reason = blocked
    elif card is None or card.status not in (CardStatus.ISSUED, CardStatus.DORMANT):
        step.reason = "只有已发放给持卡人本人的社保卡才能激活，请先发放。"
    else:
        step.open = True
    return step


def _ecard_step(state: CounterState) -> Step:
    step = Step("ecard", "电子社保卡")
    if state.ecard is not None:
        signed = timezone.localtime(state.ecard.signed_at)
        step.done = f"已签发 {signed:%Y-%m-%d}（{state.ecard.channel}）"
        return step
    card = state.card
    if state.person.is_deceased:
        step.reason = "该人员已登记死亡，不能签发电子社保卡。"
    elif state.other_card is not None:
        step.reason = _blocked(state)
    elif card is None or card.status not in CARD_MADE_STATUSES:
        step.reason = "制卡后才能签发电子社保卡。"
    else:
        step.open = True
    return step


def _last_entry(card: Card, event: str) -> LedgerEntry | None:
    return card.ledger_entries.filter(event=event).order_by("-sequence").first()


# ---- the branch's own lists ------------------------------------------------------------


def branch_choices(*, user) -> QuerySet[BankBranch]:
    """The branches whose lists the user reads: a clerk's own, every one for the county."""
    branches = BankBranch.objects.select_related("bank").order_by("bank__name", "name")
    if user.is_county_wide:
        return branches
    if user.role == Role.BANK_STAFF and user.bank_branch_id:
        return branches.filter(pk=user.bank_branch_id)
    return branches.none()


def _branch_filter(*, user, branch_id: str) -> BankBranch | None:
    """The branch a county user chose (``?branch=``); a clerk's own, whatever they ask."""
    if user.role == Role.BANK_STAFF:
        return user.bank_branch
    pk = id_param(branch_id)
    return branch_choices(user=user).filter(pk=pk).first() if pk is not None else None


def _cards_of(*, user, branch: BankBranch | None) -> QuerySet[Card]:
    cards = Card.objects.for_user(user)
    if branch is not None:
        # Values, not a join to the branch's townships (see ``dayao_sscard.scoping``).
        served = list(branch.served.values_list("township_id", flat=True))
        cards = cards.filter(bank_id=branch.bank_id, person__township__in=served)
    return with_answering_branch(
        cards.select_related("person", "person__township", "person__village", "bank")
    )


WAITING_STATUSES = (CardStatus.IN_STOCK, CardStatus.IN_TRANSIT)
NOT_ACTIVATED_STATUSES = (CardStatus.ISSUED, CardStatus.DORMANT)


def cards_waiting(*, user, branch_id: str = "") -> QuerySet[Card]:
    """库存卡 waiting for their holders: made, not yet issued, longest waiting first."""
    branch = _branch_filter(user=user, branch_id=branch_id)
    return (
        _cards_of(user=user, branch=branch)
        .filter(status__in=WAITING_STATUSES)
        .order_by("made_on", "id")
    )


def cards_not_activated(*, user, branch_id: str = "") -> QuerySet[Card]:
    """Cards in their holders' hands whose bank function is not activated yet (睡眠卡 too)."""
    branch = _branch_filter(user=user, branch_id=branch_id)
    return (
        _cards_of(user=user, branch=branch)
        .filter(status__in=NOT_ACTIVATED_STATUSES)
        .order_by("custody_since", "id")
    )


def cards_counted(*, user, branch_id: str = "", statuses: Collection[str]) -> int:
    """How many cards ``cards_waiting`` or ``cards_not_activated`` lists (their
    ``statuses``), from the counters: counting them joined every card to its holder's
    township (0.5–1 s at a million persons)."""
    branch = _branch_filter(user=user, branch_id=branch_id)
    counts = card_status_counted(user=user, branch=branch)
    return sum(counts.get(status, 0) for status in statuses)


def _today() -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()))
    return start, start + timedelta(days=1)


@dataclass
class TodaysWork:
    total: int  # of the entries
    entries: QuerySet[LedgerEntry]
    ecards: QuerySet[ElectronicCardSigning]
    counts: dict[str, int]


def todays_work(*, user, branch_id: str = "") -> TodaysWork:
    """Today's ledger entries and electronic cards recorded by the branch's staff (the
    county without a branch chosen: by any branch's), and how many of each kind."""
    branch = _branch_filter(user=user, branch_id=branch_id)
    start, end = _today()
    entries = LedgerEntry.objects.for_user(user).filter(recorded_at__gte=start, recorded_at__lt=end)
    ecards = ElectronicCardSigning.objects.for_user(user).filter(
        signed_at__gte=start, signed_at__lt=end
    )
    activations = Activation.objects.for_user(user).filter(
        activated_at__gte=start, activated_at__lt=end
    )
    if branch is not None:
        entries = entries.filter(recorded_by__bank_branch=branch)
        ecards = ecards.filter(recorded_by__bank_branch=branch)
        activations = activations.filter(branch=branch)
    else:
        # 全部网点: the work of every branch's staff, not the townships' handovers.
        entries = entries.filter(recorded_by__bank_branch__isnull=False)
        ecards = ecards.filter(recorded_by__bank_branch__isnull=False)
    # One reading of the day's entries for the list's total and the two kinds counted.
    totals = entries.aggregate(
        entries=Count("id"),
        instant=Count(
            "id",
            filter=Q(event=LedgerEvent.PRODUCED, card__production_type=ProductionType.INSTANT),
        ),
        issued=Count("id", filter=Q(event=LedgerEvent.ISSUED)),
    )
    counts = {
        "instant": totals["instant"],
        "issued": totals["issued"],
        "activated": activations.count(),
        "ecards": ecards.count(),
    }
    return TodaysWork(
        total=totals["entries"],
        entries=entries.select_related(
            "card", "card__person", "card__person__township", "recorded_by"
        ).order_by("-recorded_at", "-id"),
        ecards=ecards.select_related("person", "person__township", "recorded_by").order_by(
            "-signed_at"
        ),
        counts=counts,
    )


def branch_label(*, user, branch_id: str = "") -> str:
    branch = _branch_filter(user=user, branch_id=branch_id)
    return str(branch) if branch is not None else "全部网点"
