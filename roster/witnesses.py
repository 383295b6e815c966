"""The two witnesses of a person's card, asked the same way by every figure.

The provincial card-system export says what it says in ``PersonClass``; our own card
ledger says whether a card was made (``issuance.Card``). Neither overrules the other: a
card our ledger shows made counts as 已制卡 whatever the export says, and when the export
says otherwise the person is also counted apart as a disagreement. Selectors, reports and
the import's export check all build their figures from these functions, so no two pages
(or the import's preview) can count a person's card differently.
"""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from issuance.models import (
    CARD_MADE_STATUSES,
    LIVE_CARD_STATUSES,
    Card,
    LedgerEntry,
    LedgerEvent,
)

from .models import CardClass, ListKind, SourceList, VerificationStatus, VitalStatus

DISAGREEMENT = "disagreement"
DISAGREEMENT_LABEL = "两方记录不一致"
# Persons no export has classified yet and our ledger holds no made card for.
UNCLASSIFIED = "unclassified"
DISAGREEMENT_ADVICE = (
    "本系统台账记录该人员的社保卡在最新一次卡务系统导出之前已制成，但该导出中没有该卡制卡成功的记录"
    "（可能被注销、漏导出或导出范围不全）。请向州（省）卡管中心核实该卡在卡务系统中的状态；"
    "核实前该人员不退回核查队列、不重新申领。"
)


def ledger_card_made() -> Q:
    """Our ledger holds a card made for the person (in stock, in transit, issued, activated…)."""
    return Q(pk__in=Card.objects.filter(status__in=CARD_MADE_STATUSES).values("person_id"))


def cards_the_export_should_know() -> QuerySet[Card]:
    """Cards our ledger shows made and knew made before the latest complete export came in.

    Only these can disagree with it: a card whose making our ledger recorded since (a batch
    result, an instant card) is simply not exported yet, and shows as 已制卡 without a
    disagreement until the next export. A card with no recorded making counts as older.
    """
    latest_export = (
        SourceList.objects.filter(kind=ListKind.CARD_EXPORT, is_partial=False)
        .order_by("-imported_at")
        .values("imported_at")[:1]
    )
    made_since = LedgerEntry.objects.filter(
        card=OuterRef("pk"),
        event=LedgerEvent.PRODUCED,
        recorded_at__gte=Subquery(latest_export),
    )
    return Card.objects.filter(status__in=CARD_MADE_STATUSES).exclude(Exists(made_since))


def ledger_card_live() -> Q:
    """Our ledger holds a live card for the person, made or still in production."""
    return Q(pk__in=Card.objects.filter(status__in=LIVE_CARD_STATUSES).values("person_id"))


def card_class_q(card_class: str) -> Q:
    """Persons whose card, both witnesses heard, falls in ``card_class``.

    已制卡 is what either witness shows made; the export's other classes count only persons
    our ledger has no made card for; those our ledger shows made while the export says
    otherwise are the disagreement, counted apart (and also under 已制卡, their card exists).
    """
    made_here = ledger_card_made()
    if card_class == CardClass.CARD_MADE:
        return Q(classification__card_class=CardClass.CARD_MADE) | made_here
    if card_class == DISAGREEMENT:
        return (
            Q(pk__in=cards_the_export_should_know().values("person_id"))
            & Q(classification__isnull=False)
            & ~Q(classification__card_class=CardClass.CARD_MADE)
        )
    if card_class == UNCLASSIFIED:
        return Q(classification__isnull=True) & ~made_here
    return Q(classification__card_class=card_class) & ~made_here


def needs_card_q() -> Q:
    """Persons the comparison sends to verification: no card record or a failed one, and no
    live card in our ledger either (a card being made or made is not sent back)."""
    return (
        Q(classification__card_class__in=[CardClass.NO_CARD_INFO, CardClass.CARD_FAILED])
        & ~ledger_card_live()
    )


def ready_for_card_q() -> Q:
    """待制卡: persons the comparison sends to verification, verified complete and alive.

    The set a batch application (批量制卡) draws from; a card applied for takes a person
    out of it (``needs_card_q``), a failed one brings them back through verification.
    """
    return (
        needs_card_q()
        & Q(verification_status=VerificationStatus.READY)
        & ~Q(vital_status=VitalStatus.DECEASED)
    )


def card_class_aggregates(within: Q | None = None) -> dict[str, Count]:
    """One Count per comparison class and for the disagreement, for ``.annotate()``."""
    within = within or Q()
    return {
        key: Count("id", filter=within & card_class_q(key))
        for key in (*CardClass.values, DISAGREEMENT)
    }
