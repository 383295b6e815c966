"""The holder's village kept on each card (``Card.holder_village``), for the lists that
page a village's cards in their own order (the 库存卡 work list).

It follows every write the progress counters follow: ``roster.progress.persons_recounted``
is sent after each recount of some persons (a card opened or saved, a person moved, an
import's ``figures_touch``) and after ``figures_rebuild`` (None: every person), so the
writers that keep the counters keep this too. The test fixture that checks the counters
after every database test checks these columns (``card_places_drift``).
"""

from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from roster.models import Person

from .models import Card

CHUNK = 5000

# Cards whose column says another village than their holder's row.
_STALE = (
    Q(holder_village__isnull=True, person__village__isnull=False)
    | Q(holder_village__isnull=False, person__village__isnull=True)
    | (
        Q(holder_village__isnull=False, person__village__isnull=False)
        & ~Q(holder_village_id=F("person__village_id"))
    )
)


def card_places_drift(cards: QuerySet[Card] | None = None) -> QuerySet[Card]:
    """The cards whose ``holder_village`` is not their holder's village (none when kept)."""
    return (Card.objects.all() if cards is None else cards).filter(_STALE)


def card_places_keep(sender=None, person_ids: list[int] | None = None, **kwargs) -> int:
    """``roster.progress.persons_recounted``'s receiver (``issuance.apps``): the cards of
    these persons (None: all) take their holder's village; those already right are not
    written. Returns how many were."""
    village = Person.objects.filter(pk=OuterRef("person_id")).values("village_id")[:1]
    if person_ids is None:
        return card_places_drift().update(holder_village_id=Subquery(village))
    ids = sorted(set(person_ids))
    changed = 0
    for start in range(0, len(ids), CHUNK):
        stale = card_places_drift(Card.objects.filter(person_id__in=ids[start : start + CHUNK]))
        changed += stale.update(holder_village_id=Subquery(village))
    return changed
