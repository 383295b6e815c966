"""Reads of cards, always through the user's scope."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.core.paginator import Page
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from activation.models import Activation
from dayao_sscard.natural import natural_key
from dayao_sscard.paging import page_counted_along
from dayao_sscard.params import id_param
from dayao_sscard.roles import Role
from roster.figures import (
    CARDS_DORMANT,
    CARDS_RECOVERED,
    CARDS_WAITING,
    card_key,
)
from roster.models import FigureCount, Person, Township, VitalStatus
from roster.paging import PlacePaginator
from roster.progress import card_counts, card_counts_per_bank, counted_per_place, counters_of
from roster.witnesses import ready_for_card_q

from .card_numbers import card_number_clean
from .models import (
    ApplicationBatch,
    Bank,
    BankBranch,
    BatchMember,
    BranchTownship,
    CancellationRequest,
    Card,
    CardStatus,
    LedgerEntry,
    LedgerEvent,
    MemberOutcome,
    ProvincialEntry,
    ProxyApproval,
    SecondIssuanceAttempt,
    SignOffOutcome,
    SignOffRow,
    SignOffSheet,
)

# Cards made this long ago and still not in the holder's hands are stock to chase.
STOCK_AGE_DAYS = 90
# An issued card never activated this long after its issue may be called dormant (睡眠卡).
DORMANT_AFTER_DAYS = 180


def bank_spelling(name: str) -> str:
    """A bank name as compared: without spaces (also full-width ones)."""
    return "".join(name.split())


def banks_by_spelling() -> dict[str, Bank]:
    """Every name, short name and alias of every bank, as compared; a bank's own name or
    short name wins over another bank's alias."""
    banks = list(Bank.objects.all())
    known: dict[str, Bank] = {}
    for spellings in (
        lambda bank: (bank.name, bank.short_name),
        lambda bank: bank.aliases or (),
    ):
        for bank in banks:
            for spelling in spellings(bank):
                if isinstance(spelling, str) and spelling.strip():
                    known.setdefault(bank_spelling(spelling), bank)
    return known


def bank_by_name(name: str) -> Bank | None:
    """The bank a name, short name or alias (as exports and people write it) means."""
    return banks_by_spelling().get(bank_spelling(name)) if name.strip() else None


def pending_cancellation(card: Card) -> CancellationRequest | None:
    """The card's 注销 waiting to be carried out, if any: it stops issuing and activating."""
    return card.cancellations.filter(status=CancellationRequest.Status.PENDING).first()


def pending_cancellations_of_cards(card_pks: list[int]) -> dict[int, CancellationRequest]:
    """``pending_cancellation`` of many cards in one query (a box of 500 at a handover)."""
    return {
        request.card_id: request
        for request in CancellationRequest.objects.filter(
            card_id__in=card_pks, status=CancellationRequest.Status.PENDING
        )
    }


def branch_serving(*, bank: Bank, township) -> BankBranch | None:
    """The branch of ``bank`` that answers for its cards in ``township``, if one is set."""
    served = BranchTownship.objects.filter(bank=bank, township=township).select_related("branch")
    return next((s.branch for s in served), None)


def card_get_by_number(*, user, card_number: str) -> Card:
    """The card with this number among those the user reaches; 404 otherwise (unknown or not
    theirs, not told apart). Read as the counter reads it: spaces, full-width characters and
    the letters' case do not matter."""
    number = card_number_clean(card_number)
    card = (
        Card.objects.for_user(user)
        .filter(card_number=number)
        .select_related("person", "person__township", "bank")
        .annotate(has_activation=Exists(Activation.objects.filter(card=OuterRef("pk"))))
        .first()
    )
    if not number or card is None:
        raise Http404("card not found in scope")
    return card


def with_answering_branch(cards: QuerySet[Card]) -> QuerySet[Card]:
    """Annotate ``branch_name``: the branch of the card's bank serving the holder's township."""
    branch = BranchTownship.objects.filter(
        bank=OuterRef("bank"), township=OuterRef("person__township")
    ).values("branch__name")[:1]
    return cards.annotate(branch_name=Subquery(branch))


def card_status_counted(*, user, branch: BankBranch | None = None) -> dict[str, int]:
    """The cards ``Card.objects.for_user(user)`` reaches, per status, from the counters
    (``roster.progress.card_counts``); with ``branch``, only those the branch answers for:
    its bank's cards of the persons of the townships it serves."""
    where = _card_counters_where(user=user, branch=branch)
    return {} if where is None else card_counts(**where)


def _card_counters_where(*, user, branch: BankBranch | None = None) -> dict | None:
    """The arguments of ``card_counts`` for the cards of ``card_status_counted``; None
    when the user reaches none."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.role == Role.BANK_STAFF:
        if branch is not None and branch.pk != user.bank_branch_id:
            return None
        branch = user.bank_branch
        if branch is None:
            return None
    where: dict = {}
    if user.is_county_wide:
        pass
    elif user.role == Role.TOWNSHIP_STAFF and user.township_id:
        where["township_ids"] = [user.township_id]
    elif user.role == Role.VILLAGE_COLLECTOR and user.village_id:
        where["village_id"] = user.village_id
    elif user.role != Role.BANK_STAFF:
        return None
    if branch is not None:
        served = set(branch.served.values_list("township_id", flat=True))
        if "township_ids" in where:
            served &= set(where["township_ids"])
        where["township_ids"] = served
        where["bank_id"] = branch.bank_id
    return where


def _stock_and_dormant(*, user) -> QuerySet[Card]:
    long_ago = timezone.localdate() - timedelta(days=STOCK_AGE_DAYS)
    return Card.objects.for_user(user).filter(
        Q(status=CardStatus.DORMANT)
        | Q(status__in=[CardStatus.IN_STOCK, CardStatus.IN_TRANSIT], made_on__lte=long_ago)
    )


def stock_and_dormant_cards(*, user, bank_id: str = "") -> QuerySet[Card]:
    """库存卡 made long ago and never issued, and 睡眠卡 never activated: to verify with banks."""
    cards = _stock_and_dormant(user=user)
    if (bank_pk := id_param(bank_id)) is not None:
        cards = cards.filter(bank_id=bank_pk)
    return with_answering_branch(
        cards.select_related("person", "person__township", "person__village", "bank")
    ).order_by("bank__name", "made_on", "id")


def stock_and_dormant_by_bank(*, user) -> list[dict]:
    """The cards of ``stock_and_dormant_cards`` per bank: the card counters per bank
    (``card_counts_per_bank``), less the cards in stock too recently made to be on it,
    counted here (the index of waiting cards by made_on finds them). Counting the scope's
    stock and dormant cards on every view took 0.5–0.7 s at a million persons."""
    where = _card_counters_where(user=user)
    if where is None:
        return []
    waiting = (CardStatus.IN_STOCK, CardStatus.IN_TRANSIT)
    rows: dict[int, dict[str, int]] = defaultdict(lambda: {"stock": 0, "dormant": 0})
    for (status, bank_id), n in card_counts_per_bank(**where).items():
        if status in waiting:
            rows[bank_id]["stock"] += n
        elif status == CardStatus.DORMANT:
            rows[bank_id]["dormant"] += n
    recent = (
        Card.objects.for_user(user)
        .filter(_too_recent_q(WorkState.STOCK, stock_cutoffs()))
        .order_by()
        .values_list("bank_id")
        .annotate(n=Count("pk"))
    )
    for bank_id, n in recent:
        rows[bank_id]["stock"] -= n
    # In the database's order of names, as the count by bank was.
    return [
        {"bank_id": bank_id, "bank__name": name, **rows[bank_id]}
        for bank_id, name in Bank.objects.filter(pk__in=list(rows))
        .order_by("name", "pk")
        .values_list("pk", "name")
        if rows[bank_id]["stock"] or rows[bank_id]["dormant"]
    ]


# ---- 库存卡/睡眠卡 work list, 回收清单, 待注销 ------------------------------------------


class WorkState:
    """Which cards of the work list a clerk asks for (``StockFilters.state``)."""

    STOCK = "stock"
    DORMANT = "dormant"
    DUE_DORMANT = "due_dormant"
    RECOVERED = "recovered"
    CHOICES = (
        (STOCK, "库存卡（制卡已久未发放）"),
        (DORMANT, "睡眠卡"),
        (DUE_DORMANT, "已发放久未激活"),
        (RECOVERED, "已回收"),
    )


# ``StockFilters.contact``: the last attempt's outcome, or these.
CONTACT_NONE = "none"
CONTACT_ANY = "any"
AGE_CHOICES = ((180, "半年以上"), (365, "一年以上"), (730, "两年以上"))


@dataclass(frozen=True)
class StockFilters:
    township: str = ""  # code; county-wide users only
    village: str = ""
    bank: str = ""
    state: str = ""
    contact: str = ""
    age: str = ""  # days since the card was made


def _state_q(state: str, cutoffs: tuple | None = None) -> Q:
    made_before, issued_before = cutoffs or stock_cutoffs()
    stock = Q(
        status__in=[CardStatus.IN_STOCK, CardStatus.IN_TRANSIT],
        made_on__lte=made_before,
    )
    dormant = Q(status=CardStatus.DORMANT)
    due = Q(status=CardStatus.ISSUED, custody_since__lte=issued_before)
    return {
        WorkState.STOCK: stock,
        WorkState.DORMANT: dormant,
        WorkState.DUE_DORMANT: due,
        WorkState.RECOVERED: Q(status=CardStatus.RECOVERED),
    }.get(state, stock | dormant | due)


def stock_cutoffs() -> tuple:
    """Made on or before the first, a card in stock has waited long; issued on or before
    the second, an issued card not activated may be called dormant."""
    return (
        timezone.localdate() - timedelta(days=STOCK_AGE_DAYS),
        timezone.now() - timedelta(days=DORMANT_AFTER_DAYS),
    )


# Per work state: the counter of the persons whose live card is in its statuses (one live
# card per person: the cards in those statuses), and which of those cards are too recent
# to be on the list (none for a state without a time in it). Cards issued long ago and
# never activated are counted instead (``_COUNTED_STATES``).
_STATE_COUNTERS = {
    WorkState.STOCK: CARDS_WAITING,
    WorkState.DORMANT: CARDS_DORMANT,
    WorkState.RECOVERED: CARDS_RECOVERED,
}
# States whose cards are counted, not taken from the counters: of the issued cards, those
# issued in the last half-year are every card issued since (a township issues thousands),
# those issued before and never activated are the backlog the list is for, which its
# clerks clear by calling them dormant (the index of issued cards by custody_since finds
# them).
_COUNTED_STATES = (WorkState.DUE_DORMANT,)
_WORK_STATES = (WorkState.STOCK, WorkState.DORMANT, WorkState.DUE_DORMANT)


def _too_recent_q(state: str, cutoffs: tuple) -> Q | None:
    made_before, _issued_before = cutoffs
    if state == WorkState.STOCK:
        return Q(status__in=[CardStatus.IN_STOCK, CardStatus.IN_TRANSIT]) & (
            Q(made_on__gt=made_before) | Q(made_on__isnull=True)
        )
    return None


def stock_work_counted(
    *, user, filters: StockFilters, cutoffs: tuple | None = None
) -> list[tuple[int, int | None, int]] | None:
    """The cards of ``stock_work_list`` per (township, village or None) from the village
    counters, less the few cards too recent to be on it, counted here (the card indexes
    by made_on find them), and the cards issued long ago and never activated, counted
    here; None when the list is filtered by more than its state and place: then the list
    is counted. A bank clerk's are the card counters of the bank (``_bank_counters``).

    Counting a county's long-waiting cards by village took 1 to 2 s at a million persons
    on every page of the list; they are a third of its persons.
    """
    if filters.bank or filters.contact or filters.age:
        return None
    known = (*_STATE_COUNTERS, *_COUNTED_STATES)
    states = [filters.state] if filters.state in known else list(_WORK_STATES)
    if user.role == Role.BANK_STAFF:
        counters = _bank_counters(user, states)
    else:
        counters = counters_of(user, [_STATE_COUNTERS[s] for s in states if s in _STATE_COUNTERS])
    if counters is None:
        return None
    cards = Card.objects.for_user(user)
    if filters.township and user.is_county_wide:
        townships = Township.objects.filter(code=filters.township).values("pk")
        counters = counters.filter(township_id__in=townships)
        cards = cards.filter(person__township_id__in=townships)
    if (village_pk := id_param(filters.village)) is not None:
        if village_pk == 0:
            return None  # no village has id 0, the counters' row of persons without one
        counters = counters.filter(village_id=village_pk)
        cards = cards.filter(person__village_id=village_pk)
    rows: dict[tuple[int, int | None], int] = defaultdict(int)
    for township_id, village_id, n in counters.values_list("township_id", "village_id", "n"):
        rows[(township_id, village_id or None)] += n
    cutoffs = cutoffs or stock_cutoffs()
    for state in states:
        if state in _COUNTED_STATES:
            condition, sign = _state_q(state, cutoffs), 1
        elif (condition := _too_recent_q(state, cutoffs)) is not None:
            sign = -1
        else:
            continue
        for township_id, village_id, n in (
            cards.filter(condition)
            .order_by()
            .values_list("person__township_id", "person__village_id")
            .annotate(n=Count("pk"))
        ):
            rows[(township_id, village_id)] += sign * n
    return [(township_id, village_id, n) for (township_id, village_id), n in rows.items()]


# A bank clerk's cards per state: the card counters of the bank's cards per status.
_STATE_CARD_STATUSES = {
    WorkState.STOCK: (CardStatus.IN_STOCK, CardStatus.IN_TRANSIT),
    WorkState.DORMANT: (CardStatus.DORMANT,),
    WorkState.RECOVERED: (CardStatus.RECOVERED,),
}


def _bank_counters(user, states: list[str]) -> QuerySet[FigureCount] | None:
    """The card counters (``card:<status>:<bank>``) of a bank clerk's cards in ``states``:
    the bank's cards of the holders of the townships its branch serves, per village."""
    where = _card_counters_where(user=user)
    if where is None:
        return None
    keys = [
        card_key(status, where["bank_id"])
        for state in states
        for status in _STATE_CARD_STATUSES.get(state, ())
    ]
    return FigureCount.objects.filter(key__in=keys, township_id__in=list(where["township_ids"]))


def with_last_attempt(cards: QuerySet[Card]) -> QuerySet[Card]:
    """Annotate each card's latest second-issuance attempt, the number of attempts and
    whether a 注销 waits: one statement for a page, however many cards."""
    latest = SecondIssuanceAttempt.objects.filter(card=OuterRef("pk")).order_by(
        "-attempted_at", "-id"
    )
    counted = (
        SecondIssuanceAttempt.objects.filter(card=OuterRef("pk"))
        .order_by()
        .values("card")
        .annotate(n=Count("id"))
        .values("n")
    )
    return cards.annotate(
        last_outcome=Subquery(latest.values("outcome")[:1]),
        last_attempted_at=Subquery(latest.values("attempted_at")[:1]),
        last_method=Subquery(latest.values("method")[:1]),
        last_note=Subquery(latest.values("note")[:1]),
        attempt_count=Coalesce(Subquery(counted, output_field=IntegerField()), 0),
        cancellation_pending=Exists(
            CancellationRequest.objects.filter(
                card=OuterRef("pk"), status=CancellationRequest.Status.PENDING
            )
        ),
    )


def stock_work_list(*, user, filters: StockFilters, cutoffs: tuple | None = None) -> QuerySet[Card]:
    """The 库存卡/睡眠卡 work list: cards to get to their holders, with their last attempt."""
    cards = Card.objects.for_user(user).filter(_state_q(filters.state, cutoffs))
    if filters.township and user.is_county_wide:
        cards = cards.filter(person__township__code=filters.township)
    if (village_pk := id_param(filters.village)) is not None:
        # The holder's village as kept on the card (issuance.places): filtered through the
        # person, the database took a village for a few rows and sorted the county's.
        cards = cards.filter(holder_village_id=village_pk)
    if (bank_pk := id_param(filters.bank)) is not None:
        cards = cards.filter(bank_id=bank_pk)
    if (age := id_param(filters.age)) is not None and age <= 36500:
        cards = cards.filter(made_on__lte=timezone.localdate() - timedelta(days=age))
    cards = with_last_attempt(cards)
    if filters.contact == CONTACT_NONE:
        cards = cards.filter(last_outcome__isnull=True)
    elif filters.contact == CONTACT_ANY:
        cards = cards.filter(last_outcome__isnull=False)
    elif filters.contact:
        cards = cards.filter(last_outcome=filters.contact)
    return with_answering_branch(
        cards.select_related("person", "person__township", "person__village", "bank")
    ).order_by("person__township__code", "person__village__name", "made_on", "id")


def stock_card_get(*, user, pk: int) -> Card:
    """A card of the user's scope for its second-issuance page (404 otherwise)."""
    cards = Card.objects.for_user(user).select_related(
        "person", "person__township", "person__village", "bank"
    )
    return get_object_or_404(with_last_attempt(with_answering_branch(cards)), pk=pk)


def card_attempts(*, card: Card) -> QuerySet[SecondIssuanceAttempt]:
    """A card's attempts, newest first (the card was reached through the user's scope)."""
    return card.second_issuance_attempts.select_related("attempted_by", "recorded_by").order_by(
        "-attempted_at", "-id"
    )


def cards_issued_too_recently(pks: list[int]) -> QuerySet[Card]:
    """Of these cards, those issued (never activated) too recently to be called dormant."""
    return (
        Card.objects.filter(pk__in=pks, status=CardStatus.ISSUED)
        .exclude(_state_q(WorkState.DUE_DORMANT))
        .select_related("person")
    )


def recovery_list(*, user) -> QuerySet[LedgerEntry]:
    """回收登记 not yet entered into the provincial card system, oldest first."""
    return (
        LedgerEntry.objects.for_user(user)
        .filter(event=LedgerEvent.RECOVERED)
        .exclude(Exists(ProvincialEntry.objects.filter(ledger_entry=OuterRef("pk"))))
        .select_related(
            "card",
            "card__bank",
            "card__person",
            "card__person__township",
            "card__person__village",
            "recorded_by",
        )
        .order_by("occurred_at", "id")
    )


def cancellation_queue(*, user) -> QuerySet[CancellationRequest]:
    """待注销清单: the 注销 requests in the user's scope waiting to be carried out, oldest
    first (``pending_cancellations_of_cards`` reads the same for given cards, unscoped)."""
    return (
        CancellationRequest.objects.for_user(user)
        .filter(status=CancellationRequest.Status.PENDING)
        .select_related(
            "card", "card__bank", "card__person", "card__person__township", "card__person__village"
        )
        .order_by("requested_at", "id")
    )


def cancellation_get(*, user, pk: int) -> CancellationRequest:
    """Any 注销 request of the user's scope (404 otherwise); whether it is still pending is
    the service's question, so that a second click is told it was done."""
    return get_object_or_404(
        CancellationRequest.objects.for_user(user).select_related("card", "card__person"), pk=pk
    )


# ---- 批量制卡 ---------------------------------------------------------------------------


def batch_list(*, user) -> QuerySet[ApplicationBatch]:
    """The user's batches, newest first, with how many members each outcome has."""
    return (
        ApplicationBatch.objects.for_user(user)
        .select_related("bank", "township", "created_by")
        .annotate(
            **{
                f"n_{outcome.value}": Count("members", filter=Q(members__outcome=outcome))
                for outcome in MemberOutcome
            }
        )
        .order_by("-created_at", "-id")
    )


def batch_get(*, user, pk: int) -> ApplicationBatch:
    return get_object_or_404(batch_list(user=user), pk=pk)


def batch_members(*, batch: ApplicationBatch) -> QuerySet[BatchMember]:
    """A batch's members (the batch was reached through the user's scope)."""
    return (
        BatchMember.objects.filter(batch=batch)
        .select_related("person", "person__village", "card")
        .order_by("person__village__name", "person__group_name", "person__name", "id")
    )


def batch_member_get(*, batch: ApplicationBatch, pk: int | None) -> BatchMember:
    return get_object_or_404(BatchMember.objects.select_related("batch"), batch=batch, pk=pk)


BATCH_PAGE_SIZE = 100


def batch_candidates(*, user, township_code: str = "", village: str = "") -> QuerySet[Person]:
    """待制卡 persons in the user's scope, in the order a batch lists them."""
    persons = Person.objects.for_user(user).filter(ready_for_card_q())
    if township_code:
        persons = persons.filter(township__code=township_code)
    if (village_id := id_param(village)) is not None:
        persons = persons.filter(village_id=village_id)
    return persons.select_related("township", "village").order_by(
        "township__code", "village__name", "group_name", "name", "id"
    )


def batch_candidates_counted(
    *, user, township_code: str = "", village: str = ""
) -> list[tuple[int, int | None, int]] | None:
    """``batch_candidates`` per (township, village or None), from the 待制卡 counters
    ("ready", the figure ``ready_for_card_q`` is counted by); None when no counter knows
    the user's persons and the list is to be counted."""
    counters = counters_of(user, ["ready"])
    if counters is None:
        return None
    return counted_per_place(counters, township_code=township_code, village_id=id_param(village))


def batch_candidate_count(*, user, township_code: str = "", village: str = "") -> int | None:
    """How many persons ``batch_candidates`` lists (None: only counting the list can say)."""
    counted = batch_candidates_counted(user=user, township_code=township_code, village=village)
    return None if counted is None else sum(n for _, _, n in counted)


def batch_candidate_page(*, user, township_code: str = "", village: str = "", number) -> Page:
    """Page ``number`` (100 persons) of ``batch_candidates``. With the counters the page is
    read from the one or two villages it falls in: sorting the county's 待制卡 persons for
    its first page took 1.1–1.5 s at a million."""
    candidates = batch_candidates(user=user, township_code=township_code, village=village)
    counted = batch_candidates_counted(user=user, township_code=township_code, village=village)
    if counted is None:
        return page_counted_along(candidates, BATCH_PAGE_SIZE, number)
    return PlacePaginator(candidates, BATCH_PAGE_SIZE, counted=counted).get_page(number)


def banks() -> QuerySet[Bank]:
    return Bank.objects.order_by("name")


# ---- 发放 to the holder and 集中发放 -------------------------------------------------------

# A card that waits for its holder: made, not yet in anyone's hands but a custodian's.
AWAITING_HOLDER_STATUSES = (CardStatus.IN_STOCK, CardStatus.IN_TRANSIT)
# The ledger lets a card be issued from these (issuance.states).
ISSUABLE_STATUSES = (
    CardStatus.IN_STOCK,
    CardStatus.IN_TRANSIT,
    CardStatus.RECOVERED,
    CardStatus.DORMANT,
)


def card_get(*, user, pk: int) -> Card:
    """The card with its holder, if the user reaches it; 404 otherwise."""
    cards = Card.objects.for_user(user).select_related(
        "person", "person__township", "person__village", "bank"
    )
    return get_object_or_404(cards, pk=pk)


def card_ledger(*, card: Card) -> QuerySet[LedgerEntry]:
    """The card's ledger, first step first (the card was reached through the user's scope)."""
    return card.ledger_entries.select_related("recorded_by").order_by("sequence")


def card_issue_refusal(*, card: Card) -> str:
    """Why the card cannot be issued now, in Chinese; "" when it can."""
    if card.status in (CardStatus.ISSUED, CardStatus.ACTIVATED):
        return f"该卡已发放（现由{card.custodian or card.get_custody_kind_display()}持有），无需再办理发放。"
    if card.status not in ISSUABLE_STATUSES:
        return f"该卡当前状态为“{card.get_status_display()}”，不能办理发放。"
    if card.person.is_deceased:
        return "持卡人已登记死亡，不能发放，请办理注销。"
    if (pending := pending_cancellation(card)) is not None:
        return f"该卡已申请注销（{pending.reason}），不能发放。"
    return ""


def _cards_awaiting_holders(*, user) -> QuerySet[Card]:
    """Cards waiting for their holders: in stock or in transit, the holder alive, not
    queued for 注销."""
    pending = CancellationRequest.objects.filter(
        card=OuterRef("pk"), status=CancellationRequest.Status.PENDING
    )
    return (
        Card.objects.for_user(user)
        .filter(status__in=AWAITING_HOLDER_STATUSES)
        .exclude(person__vital_status=VitalStatus.DECEASED)
        .exclude(Exists(pending))
    )


def village_awaiting_counts(*, user) -> dict[int, int]:
    """Per village (id), how many of its cards wait for their holders: the card counters
    of 库存 and 在途 (``card:<status>:<bank>``), less the few cards whose holder has died or
    that are queued for 注销 — counting the scope's waiting cards joined to their holders
    took 0.6 s at a million persons. Counted from the cards where no counter knows the
    user's persons."""
    keys = [card_key(status, bank) for status in AWAITING_HOLDER_STATUSES for bank in _bank_ids()]
    counters = counters_of(user, keys)
    if counters is None:
        cards = _cards_awaiting_holders(user=user).filter(person__village__isnull=False)
        return dict(
            cards.values("person__village")
            .annotate(n=Count("id"))
            .values_list("person__village", "n")
        )
    counts: dict[int, int] = defaultdict(int)
    for village_id, n in counters.exclude(village_id=0).values_list("village_id", "n"):
        counts[village_id] += n
    waiting = (
        Card.objects.for_user(user)
        .filter(status__in=AWAITING_HOLDER_STATUSES, person__village__isnull=False)
        .order_by()
    )
    cancelling = CancellationRequest.objects.filter(status=CancellationRequest.Status.PENDING)
    left_out = dict(
        waiting.filter(person__vital_status=VitalStatus.DECEASED).values_list(
            "pk", "person__village_id"
        )
    )
    left_out.update(
        waiting.filter(pk__in=cancelling.values("card_id")).values_list("pk", "person__village_id")
    )
    for village_id in left_out.values():
        counts[village_id] -= 1
    return {village_id: n for village_id, n in counts.items() if n}


def _bank_ids() -> list[int]:
    return list(Bank.objects.values_list("pk", flat=True))


def village_cards_awaiting_holders(*, user, village) -> list[Card]:
    """The village's cards waiting for their holders, for a 集中发放 sign-off sheet, by
    村民小组 and name."""
    cards = (
        _cards_awaiting_holders(user=user)
        .filter(person__village=village)
        .select_related("person", "bank")
    )
    return sorted(cards, key=lambda c: (natural_key(c.person.group_name), c.person.name, c.pk))


def sign_off_sheets(*, user, village_id: str = "") -> QuerySet[SignOffSheet]:
    """The user's sign-off sheets, newest day first, with how each row came out."""
    sheets = SignOffSheet.objects.for_user(user)
    if (pk := id_param(village_id)) is not None:
        sheets = sheets.filter(village_id=pk)
    return (
        sheets.select_related("village", "village__township", "created_by", "recorded_by")
        .annotate(
            n_rows=Count("rows"),
            **{
                f"n_{outcome.value}": Count("rows", filter=Q(rows__outcome=outcome))
                for outcome in SignOffOutcome
            },
        )
        .order_by("-day", "-id")
    )


def sign_off_sheet_get(*, user, pk: int) -> SignOffSheet:
    return get_object_or_404(sign_off_sheets(user=user), pk=pk)


def sign_off_rows(*, sheet: SignOffSheet) -> QuerySet[SignOffRow]:
    """A sheet's rows in printed order (the sheet was reached through the user's scope)."""
    return (
        SignOffRow.objects.filter(sheet=sheet)
        .select_related("card", "card__person", "card__bank")
        .order_by("position")
    )


def sign_off_approvals(*, user, sheet: SignOffSheet) -> dict[int, list[ProxyApproval]]:
    """The proxy approvals valid on the sheet's day for its holders, by person: whom the
    clerk may record as 代领 on a row (the ledger checks the approval again)."""
    day = sheet.day
    approvals = (
        ProxyApproval.objects.for_user(user)
        .filter(
            person__in=SignOffRow.objects.filter(sheet=sheet).values("card__person"),
            approved_at__isnull=False,
            revoked_at__isnull=True,
            valid_from__lte=day,
            valid_until__gte=day,
        )
        .order_by("person_id", "-valid_until", "pk")
    )
    by_person: dict[int, list[ProxyApproval]] = {}
    for approval in approvals:
        by_person.setdefault(approval.person_id, []).append(approval)
    return by_person
