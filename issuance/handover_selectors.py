"""Reads of handovers and of the cards a clerk may hand over, always through the user's scope."""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from dayao_sscard.params import id_param

from .card_numbers import card_number_clean
from .handovers import unit_of_user
from .models import (
    CancellationRequest,
    Card,
    CardStatus,
    CustodyKind,
    Handover,
    HandoverItem,
    HandoverOutcome,
    HandoverStatus,
)

# The tabs of the handover list.
TABS = (
    ("incoming", "待我接收"),
    ("outgoing", "我发出的"),
    ("differences", "有差异"),
    ("all", "全部"),
)


def _unit_q(user, side: str) -> Q:
    """The handovers whose ``side`` (sender / receiver) is the user's unit; a township's
    staff also answer for the handovers of their villages (they often carry them)."""
    unit = unit_of_user(user)
    kind = f"{side}_kind"
    if unit.kind == CustodyKind.BANK:
        return Q(**{kind: unit.kind, f"{side}_branch": unit.branch})
    if unit.kind == CustodyKind.TOWNSHIP:
        return Q(
            **{f"{kind}__in": [CustodyKind.TOWNSHIP, CustodyKind.VILLAGE]},
            **{f"{side}_township": unit.township},
        )
    if unit.kind == CustodyKind.VILLAGE:
        return Q(**{kind: unit.kind, f"{side}_village": unit.village})
    return Q(**{kind: CustodyKind.COUNTY})


def handover_list(
    *, user, tab: str = "all", status: str = "", number: str = ""
) -> QuerySet[Handover]:
    """The user's handovers, newest first, with how many cards each outcome has."""
    handovers = Handover.objects.for_user(user)
    if tab == "incoming":
        handovers = handovers.filter(_unit_q(user, "receiver"), status=HandoverStatus.PENDING)
    elif tab == "outgoing":
        handovers = handovers.filter(_unit_q(user, "sender"))
    elif tab == "differences":
        handovers = handovers.filter(status=HandoverStatus.RECEIVED_WITH_DIFFERENCES)
    if status in HandoverStatus.values:
        handovers = handovers.filter(status=status)
    if number := number.strip().upper():
        handovers = handovers.filter(number__contains=number)
    return (
        handovers.select_related("township", "village", "created_by", "received_by")
        .annotate(
            n_missing=Count(
                "items", filter=Q(items__outcome=HandoverOutcome.MISSING), distinct=True
            ),
            n_extras=Count("extras", distinct=True),
        )
        .order_by("-created_at", "-id")
    )


def handover_incoming_count(*, user) -> int:
    return handover_list(user=user, tab="incoming").count()


def handover_get(*, user, pk: int) -> Handover:
    return get_object_or_404(
        Handover.objects.for_user(user).select_related(
            "township", "village", "created_by", "received_by", "sheet_uploaded_by"
        ),
        pk=pk,
    )


def handover_items(*, handover: Handover) -> QuerySet[HandoverItem]:
    """The cards on a handover's sheet (the handover was reached through the user's scope),
    in the order the sheet lists them: village, holder's name."""
    return (
        HandoverItem.objects.filter(handover=handover)
        .select_related("card", "card__person", "card__person__village", "card__bank")
        .order_by("card__person__village__name", "card__person__name", "id")
    )


def handover_item_get(*, handover: Handover, pk: int | None) -> HandoverItem:
    return get_object_or_404(
        HandoverItem.objects.select_related("handover", "card"), handover=handover, pk=pk
    )


def handover_outcome_counts(*, handover: Handover) -> dict[str, int]:
    rows = handover.items.values("outcome").annotate(n=Count("id"))
    counts = {outcome.value: 0 for outcome in HandoverOutcome}
    counts.update({row["outcome"]: row["n"] for row in rows})
    return counts


def handover_candidates(
    *, user, village: str = "", bank: str = "", query: str = ""
) -> QuerySet[Card]:
    """The cards the user's unit keeps in stock and may hand over: in scope, in its custody,
    on no open handover, not queued for 注销."""
    unit = unit_of_user(user)
    open_item = HandoverItem.objects.filter(card=OuterRef("pk"), outcome=HandoverOutcome.PENDING)
    cancelling = CancellationRequest.objects.filter(
        card=OuterRef("pk"), status=CancellationRequest.Status.PENDING
    )
    cards = (
        Card.objects.for_user(user)
        .filter(status=CardStatus.IN_STOCK, custody_kind=unit.kind)
        .exclude(Exists(open_item))
        .exclude(Exists(cancelling))
    )
    if (village_id := id_param(village)) is not None:
        cards = cards.filter(person__village_id=village_id)
    if (bank_id := id_param(bank)) is not None:
        cards = cards.filter(bank_id=bank_id)
    if query := query.strip():
        # A clerk types the start of a card number as often as the whole of it.
        number = card_number_clean(query)
        by_number = Q(card_number__startswith=number) if number else Q(pk__in=[])
        cards = cards.filter(Q(person__name__contains=query) | by_number)
    return cards.select_related("person", "person__township", "person__village", "bank").order_by(
        "person__township__code", "person__village__name", "person__name", "id"
    )
