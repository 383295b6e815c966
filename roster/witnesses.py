"""The two witnesses of a person's card, asked the same way by every figure.

The provincial card-system export says what it says in ``PersonClass``; our own card
ledger says whether a card was made (``issuance.Card``). Neither overrules the other: a
card our ledger shows made counts as 已制卡 whatever the export says, and when the export
says otherwise the person is also counted apart as a disagreement. Selectors, reports and
the import's export check all build their figures from these functions, so no two pages
(or the import's preview) can count a person's card differently.
"""

import datetime
from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from issuance.models import (
    CARD_MADE_STATUSES,
    LIVE_CARD_STATUSES,
    BatchMember,
    Card,
    CardStatus,
    LedgerEntry,
    LedgerEvent,
    MemberOutcome,
)

from .models import (
    CardClass,
    ListKind,
    Person,
    PersonClass,
    SourceList,
    VerificationStatus,
    VitalStatus,
)
from .verification import person_problems

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
    return Q(Exists(Card.objects.filter(person_id=OuterRef("pk"), status__in=CARD_MADE_STATUSES)))


def cards_the_export_should_know() -> QuerySet[Card]:
    """Cards our ledger shows made and knew made before the latest complete export came in.

    Only these can disagree with it: a card whose making our ledger recorded since (a batch
    result, an instant card) is simply not exported yet, and shows as 已制卡 without a
    disagreement until the next export. A card with no recorded making counts as older.
    """
    return Card.objects.filter(status__in=CARD_MADE_STATUSES).exclude(made_since_the_export())


def made_since_the_export() -> Exists:
    """For a card (in a query over cards): our ledger recorded its making after the latest
    complete card export came in, so that export cannot know it yet."""
    latest_export = (
        SourceList.objects.filter(kind=ListKind.CARD_EXPORT, is_partial=False)
        .order_by("-imported_at")
        .values("imported_at")[:1]
    )
    return Exists(
        LedgerEntry.objects.filter(
            card=OuterRef("pk"),
            event=LedgerEvent.PRODUCED,
            recorded_at__gte=Subquery(latest_export),
        )
    )


def ledger_card_live() -> Q:
    """Our ledger holds a live card for the person, made or still in production."""
    return Q(Exists(Card.objects.filter(person_id=OuterRef("pk"), status__in=LIVE_CARD_STATUSES)))


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


def in_open_batch_q() -> Q:
    """The person is in an application batch whose result has not come back for them."""
    return Q(
        Exists(BatchMember.objects.filter(person_id=OuterRef("pk"), outcome=MemberOutcome.PENDING))
    )


def ready_for_card_q() -> Q:
    """待制卡: persons the comparison sends to verification, verified complete, alive and in
    no open batch: those ``card_refusal`` lets have a card made now, as a query to count.

    The set a batch application (批量制卡) draws from; a card applied for takes a person
    out of it (``needs_card_q``), a failed one brings them back through verification.
    It trusts the verification status where ``card_refusal`` checks the elements again
    against today: a person verified whose ID document has expired since is counted here
    and refused there, with the expiry as the reason, until the township verifies again.
    """
    return (
        needs_card_q()
        & Q(verification_status=VerificationStatus.READY)
        & ~Q(vital_status=VitalStatus.DECEASED)
        & ~in_open_batch_q()
    )


# ---- 待制卡, person by person --------------------------------------------------------------
# The one answer to "may a (new) card be applied for or made for this person now?", for a
# batch (批量制卡), the counter (即时制卡) and whatever else asks; ``ready_for_card_q`` is the
# same rule as a query. Each reason reads alone and after "姓名（号码）：".

# The comparison classes that send a person to card-making: no card in the card system,
# or the last one failed. 已制卡 or 制卡中 there, a second card would be made (一人一卡).
_COMPARED_NEEDS_CARD = (CardClass.NO_CARD_INFO, CardClass.CARD_FAILED)


def card_refusal(person: Person, *, today: datetime.date | None = None) -> str:
    """Why no card may be applied for or made for this person now, in Chinese; "" when
    nothing stands in the way."""
    return card_refusals([person], today=today).get(person.pk, "")


def card_refusals(
    persons: Iterable[Person], *, today: datetime.date | None = None
) -> dict[int, str]:
    """``card_refusal`` for many persons in three queries: {person pk: reason} for those
    refused. The comparison, open batches and live cards are read afresh (the caller may
    hold the persons' rows locked); the elements are checked on the rows given."""
    persons = list(persons)
    pks = [person.pk for person in persons]
    classes = dict(
        PersonClass.objects.filter(person_id__in=pks).values_list("person_id", "card_class")
    )
    open_batches = dict(
        BatchMember.objects.filter(person_id__in=pks, outcome=MemberOutcome.PENDING).values_list(
            "person_id", "batch__number"
        )
    )
    live_cards = dict(
        Card.objects.filter(person_id__in=pks, status__in=LIVE_CARD_STATUSES).values_list(
            "person_id", "status"
        )
    )
    reasons = {}
    for person in persons:
        reason = _refusal(
            person,
            card_class=classes.get(person.pk, ""),
            open_batch=open_batches.get(person.pk),
            live_card=live_cards.get(person.pk),
            today=today,
        )
        if reason:
            reasons[person.pk] = reason
    return reasons


def _refusal(
    person: Person, *, card_class: str, open_batch: str | None, live_card: str | None, today
) -> str:
    if person.is_deceased:
        return "已登记死亡，不再制卡。"
    if open_batch is not None:
        return f"已在申领批次 {open_batch} 中，一人只能在一个未回盘的批次里。"
    if live_card is not None:
        status = CardStatus(live_card).label
        return f"已有一张有效社保卡（{status}），一人一卡，不能重复申领。"
    if not card_class:
        return "尚未与卡务系统比对，不知是否已有社保卡，暂不能申领；请待县人社局比对后再办理。"
    if card_class not in _COMPARED_NEEDS_CARD:
        return (
            f"卡务系统比对结果为“{CardClass(card_class).label}”（一人一卡），不能再申领；"
            "如该卡已注销或有误，请先向县人社局核实。"
        )
    if problems := person_problems(person, today=today):
        return (
            "资料不全：" + "；".join(p.message for p in problems) + "。请先由乡镇社保中心核查补齐。"
        )
    if person.verification_status != VerificationStatus.READY:
        status = person.get_verification_status_display()
        return f"尚未核查完毕（{status}），请先由乡镇社保中心完成信息核查。"
    return ""


def card_class_aggregates(within: Q | None = None) -> dict[str, Count]:
    """One Count per comparison class and for the disagreement, for ``.annotate()``."""
    within = within or Q()
    return {
        key: Count("id", filter=within & card_class_q(key))
        for key in (*CardClass.values, DISAGREEMENT)
    }
