"""Reads of cards, always through the user's scope."""

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dayao_sscard.params import id_param

from .models import Card, CardStatus

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
