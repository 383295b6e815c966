"""Reads of cards, always through the user's scope."""

from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from activation.models import Activation
from dayao_sscard.params import id_param
from roster.models import Person
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
    MemberOutcome,
)

# Cards made this long ago and still not in the holder's hands are stock to chase.
STOCK_AGE_DAYS = 90


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


def pending_cancellations(card_pks: list[int]) -> dict[int, CancellationRequest]:
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


def stock_and_dormant_cards(*, user, bank_id: str = "") -> QuerySet[Card]:
    """库存卡 made long ago and never issued, and 睡眠卡 never activated: to verify with banks."""
    long_ago = timezone.localdate() - timedelta(days=STOCK_AGE_DAYS)
    cards = Card.objects.for_user(user).filter(
        Q(status=CardStatus.DORMANT)
        | Q(status__in=[CardStatus.IN_STOCK, CardStatus.IN_TRANSIT], made_on__lte=long_ago)
    )
    if (bank_pk := id_param(bank_id)) is not None:
        cards = cards.filter(bank_id=bank_pk)
    return with_answering_branch(
        cards.select_related("person", "person__township", "person__village", "bank")
    ).order_by("bank__name", "made_on", "id")


def stock_and_dormant_by_bank(*, user) -> list[dict]:
    cards = stock_and_dormant_cards(user=user)
    return list(
        cards.values("bank_id", "bank__name")
        .annotate(
            stock=Count("id", filter=~Q(status=CardStatus.DORMANT)),
            dormant=Count("id", filter=Q(status=CardStatus.DORMANT)),
        )
        .order_by("bank__name")
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


def banks() -> QuerySet[Bank]:
    return Bank.objects.order_by("name")
