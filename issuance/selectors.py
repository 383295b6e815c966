"""Reads of cards, always through the user's scope."""

from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from activation.models import Activation
from dayao_sscard.params import id_param

from .models import Bank, BankBranch, BranchTownship, Card, CardStatus

# Cards made this long ago and still not in the holder's hands are stock to chase.
STOCK_AGE_DAYS = 90


def bank_by_name(name: str) -> Bank | None:
    """The bank a name, short name or alias (as exports and people write it) means."""
    name = name.strip()
    if not name:
        return None
    found = Bank.objects.filter(Q(name=name) | Q(short_name=name)).first()
    if found is not None:
        return found
    return next((bank for bank in Bank.objects.all() if name in (bank.aliases or [])), None)


def branch_serving(*, bank: Bank, township) -> BankBranch | None:
    """The branch of ``bank`` that answers for its cards in ``township``, if one is set."""
    served = BranchTownship.objects.filter(bank=bank, township=township).select_related("branch")
    return next((s.branch for s in served), None)


def card_get_by_number(*, user, card_number: str) -> Card:
    """The card with this number among those the user reaches; 404 otherwise (unknown or not
    theirs, not told apart). Spaces around the number and its letters' case do not matter."""
    number = card_number.strip().upper()
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
