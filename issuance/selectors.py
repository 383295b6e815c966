"""Reads of cards, always through the user's scope."""

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from dayao_sscard.params import id_param
from roster.models import Person
from roster.witnesses import ready_for_card_q

from .models import ApplicationBatch, Bank, BatchMember, Card, CardStatus, MemberOutcome

# Cards made this long ago and still not in the holder's hands are stock to chase.
STOCK_AGE_DAYS = 90


def stock_and_dormant_cards(*, user, bank_id: str = "") -> QuerySet[Card]:
    """库存卡 made long ago and never issued, and 睡眠卡 never activated: to verify with banks."""
    long_ago = timezone.localdate() - timedelta(days=STOCK_AGE_DAYS)
    cards = Card.objects.for_user(user).filter(
        Q(status=CardStatus.DORMANT)
        | Q(status__in=[CardStatus.IN_STOCK, CardStatus.IN_TRANSIT], made_on__lte=long_ago)
    )
    if (bank_pk := id_param(bank_id)) is not None:
        cards = cards.filter(bank_id=bank_pk)
    return cards.select_related(
        "person", "person__township", "person__village", "bank", "branch"
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
