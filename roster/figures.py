"""进度数字: every figure of the supervision pages, one definition each.

A figure is a condition on a person (``FIGURE_CONDITIONS``); counted per township and
village it is what the dashboards, ``manage.py report progress``, the progress report and
the lists behind each number show. The conditions ask the two witnesses the way the
comparison pages do (``roster.witnesses``), so the dashboards cannot tell a card's story
differently from 数据比对 or from the ledger's own counts.

The pinned ones (``report progress``):
listed     persons on at least one unissued list (名单人数, as 数据比对 counts them)
deceased   of those, the deceased (as 数据比对 counts them)
ready      verified and complete, waiting for a card to be applied for (待制卡)
made       our ledger holds a card made for them: in stock or further along
issued     the card is in their hands: issued, activated, or dormant in their hands
activated  the bank function activated face to face
e_card     the electronic card signed
"""

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from activation.models import ElectronicCardSigning
from issuance.models import (
    CARD_MADE_STATUSES,
    LIVE_CARD_STATUSES,
    BatchMember,
    Card,
    CardStatus,
    MemberOutcome,
)

from .models import (
    CardClass,
    ListEntry,
    ListKind,
    SourceList,
    UnreachableReason,
    VerificationStatus,
    VitalStatus,
)
from .verification import MISSING_BITS
from .witnesses import DISAGREEMENT, cards_the_export_should_know

ISSUED_STATUSES = (CardStatus.ISSUED, CardStatus.ACTIVATED, CardStatus.DORMANT)

# The keys ``report progress`` pins, in its order.
REPORT_KEYS = ("listed", "deceased", "ready", "made", "issued", "activated", "e_card")

# The funnel the dashboards draw, stage after stage.
FUNNEL_KEYS = ("listed", "verified", "ready", "applied", "made", "issued", "activated")

# Beside the funnel: who drops out of it or waits outside it, and the electronic card.
SIDE_KEYS = ("deceased", "unreachable", "failed", "e_card")

FIGURE_LABELS = {
    "listed": "名单人数",
    "should_hold": "应持卡人数",
    "compared": "已比对",
    "verified": "已核查",
    "ready": "待制卡",
    "applied": "已申领",
    "made": "已制卡",
    "issued": "已发放",
    "activated": "已激活",
    "deceased": "已死亡",
    "unreachable": "无法联系",
    "failed": "制卡失败待重办",
    "e_card": "电子社保卡",
}

FIGURE_HELP = {
    "listed": "在至少一批未制卡（未发卡）人员名单上的人员",
    "should_hold": "健在、且在名单上或本系统台账已有制成的卡的人员：各阶段完成率的分母",
    "compared": "名单人员中已与卡务系统比对（或台账已有制成的卡）的人数",
    "verified": "应持卡人员中已核查完毕（待制卡或无法联系）或已申领社保卡的人数",
    "ready": "已核查、九要素和照片齐全、尚未申领的人员（待制卡）",
    "applied": "台账中有有效社保卡（已申领、制卡中或已制成）的人员",
    "made": "台账中社保卡已制成（库存、在途、已发放、已激活等）的人员",
    "issued": "社保卡已交到本人（或经批准的代领人）手中的人员，含已激活和睡眠卡",
    "activated": "社保卡金融功能已面签激活的人员",
    "deceased": "名单人员中已登记死亡的人数（不再制卡）",
    "unreachable": "健在、尚未申领、核查结论为无法联系的人员",
    "failed": "制卡失败且尚未重新申领的人员",
    "e_card": "已签发电子社保卡的人员",
}


# ---- what is known of each person, as columns -------------------------------------------
# Each figure is a condition over these flags and the person's own columns (vital status,
# verification status, unreachable reason), never over a subquery of its own: counting a
# county, each subquery is evaluated once per person however many figures read it (forty
# conditions with their own subqueries took 20 s for 300,000 persons), and the rows are
# grouped by what is known of them, so the conditions are asked of a few hundred groups.
# ``card_class_q`` and ``ready_for_card_q`` (roster.witnesses) ask the same questions of a
# plain person query; the comparison tests hold the two to the same answers.

PERSON_COLUMNS = ("vital_status", "verification_status", "unreachable_reason", "missing_bits")


def _card_in(statuses) -> Exists:
    # EXISTS, not IN: per person an index probe on the card's holder, and over the whole
    # county PostgreSQL hashes it; an IN list would scan every card for a single person.
    return Exists(Card.objects.filter(person_id=OuterRef("pk"), status__in=statuses))


def _on_list(kind: str, source: str | None = None) -> Exists:
    entries = ListEntry.objects.filter(person_id=OuterRef("pk"), source_list__kind=kind)
    if source is not None:
        entries = entries.filter(source_list__source=source)
    return Exists(entries)


def project_flag(index: int) -> str:
    return f"on_subsidy_{index}"


def person_flags(projects: list[str]) -> dict:
    """The annotations every figure is a condition over (``projects``: the subsidy lists,
    in the order ``subsidy_projects`` gives them)."""
    return {
        "on_unissued": _on_list(ListKind.UNISSUED),
        "on_subsidy": _on_list(ListKind.SUBSIDY),
        **{project_flag(i): _on_list(ListKind.SUBSIDY, p) for i, p in enumerate(projects)},
        "card_live": _card_in(LIVE_CARD_STATUSES),
        "card_made": _card_in(CARD_MADE_STATUSES),
        "card_issued": _card_in(ISSUED_STATUSES),
        "card_activated": _card_in((CardStatus.ACTIVATED,)),
        "card_failed": _card_in((CardStatus.FAILED,)),
        "card_dormant": _card_in((CardStatus.DORMANT,)),
        "card_recovered": _card_in((CardStatus.RECOVERED,)),
        "in_open_batch": Exists(
            BatchMember.objects.filter(person_id=OuterRef("pk"), outcome=MemberOutcome.PENDING)
        ),
        "export_should_know": Exists(
            cards_the_export_should_know().filter(person_id=OuterRef("pk"))
        ),
        "has_e_card": Exists(ElectronicCardSigning.objects.filter(person_id=OuterRef("pk"))),
        "compared_class": Coalesce(F("classification__card_class"), Value("")),
    }


def _class_q(card_class: str) -> Q:
    """``roster.witnesses.card_class_q`` over the flags."""
    made_here = Q(card_made=True)
    if card_class == CardClass.CARD_MADE:
        return Q(compared_class=CardClass.CARD_MADE) | made_here
    if card_class == DISAGREEMENT:
        return (
            Q(export_should_know=True)
            & ~Q(compared_class="")
            & ~Q(compared_class=CardClass.CARD_MADE)
        )
    return Q(compared_class=card_class) & ~made_here


def _needs_card() -> Q:
    """``roster.witnesses.needs_card_q`` over the flags."""
    return Q(compared_class__in=[CardClass.NO_CARD_INFO, CardClass.CARD_FAILED]) & Q(
        card_live=False
    )


def _figure_conditions() -> dict[str, Q]:
    alive = ~Q(vital_status=VitalStatus.DECEASED)
    listed = Q(on_unissued=True)
    made = Q(card_made=True)
    live = Q(card_live=True)
    should_hold = alive & (listed | made)
    return {
        "listed": listed,
        "should_hold": should_hold,
        "compared": listed & (~Q(compared_class="") | made),
        "verified": should_hold & (~Q(verification_status=VerificationStatus.PENDING) | live),
        # ``roster.witnesses.ready_for_card_q``
        "ready": _needs_card()
        & Q(verification_status=VerificationStatus.READY)
        & alive
        & Q(in_open_batch=False),
        "applied": live,
        "made": made,
        "issued": Q(card_issued=True),
        "activated": Q(card_activated=True),
        "deceased": listed & Q(vital_status=VitalStatus.DECEASED),
        "unreachable": alive & Q(verification_status=VerificationStatus.UNREACHABLE) & ~live,
        "failed": ~live & (Q(compared_class=CardClass.CARD_FAILED) | Q(card_failed=True)),
        "e_card": Q(has_e_card=True),
    }


# Counted beside the figures: "persons", everyone of the village (the rows the person list
# pages by, roster.paging); and for the pages that show them (数据比对, 补贴对象比对, 核查进度)
# "class_<比对结果>" of the listed persons, the subsidy recipients (all, and per subsidy list
# "…:<项目>"), and "work_…" the persons the comparison sends to verification.
PERSONS_KEY = "persons"
# "cards_…": the persons whose live card is in stock or in transit, issued (not activated),
# dormant, recovered.
CARDS_WAITING, CARDS_ISSUED = "cards_waiting", "cards_issued"
CARDS_DORMANT, CARDS_RECOVERED = "cards_dormant", "cards_recovered"
CLASS_KEYS = tuple(f"class_{key}" for key in (*CardClass.values, DISAGREEMENT))
WORK_KEYS = (
    "work_in_scope",
    "work_pending",
    "work_deceased",
    "work_unreachable",
    *(f"work_unreachable_{reason}" for reason in UnreachableReason.values),
    *(f"work_missing_{key}" for key in MISSING_BITS),
)


def subsidy_key(key: str, project: str = "") -> str:
    """The counter of a subsidy figure, for all subsidy lists or for one project's."""
    return f"{key}:{project}" if project else key


def subsidy_projects() -> list[str]:
    return list(
        SourceList.objects.filter(kind=ListKind.SUBSIDY)
        .values_list("source", flat=True)
        .distinct()
        .order_by("source")
    )


def _page_conditions(projects: list[str]) -> dict[str, Q]:
    listed = Q(on_unissued=True)
    conditions = {
        # Everyone, listed or not: how many rows the person list of a village has.
        PERSONS_KEY: Q(),
        **{f"class_{key}": listed & _class_q(key) for key in (*CardClass.values, DISAGREEMENT)},
    }
    made = _class_q(CardClass.CARD_MADE)
    issued, activated = Q(card_issued=True), Q(card_activated=True)
    flags = [("", "on_subsidy")] + [(p, project_flag(i)) for i, p in enumerate(projects)]
    for project, flag in flags:
        on_list = Q(**{flag: True})
        conditions[subsidy_key("subsidy_recipients", project)] = on_list
        conditions[subsidy_key("subsidy_without_card", project)] = on_list & ~made
        conditions[subsidy_key("subsidy_issued", project)] = on_list & issued
        conditions[subsidy_key("subsidy_activated", project)] = on_list & activated
    in_work = _needs_card()
    alive = ~Q(vital_status=VitalStatus.DECEASED)
    unreachable = in_work & alive & Q(verification_status=VerificationStatus.UNREACHABLE)
    pending = in_work & alive & Q(verification_status=VerificationStatus.PENDING)
    conditions.update(
        {
            "work_in_scope": in_work,
            "work_pending": pending,
            "work_deceased": in_work & ~alive,
            "work_unreachable": unreachable,
            **{
                f"work_unreachable_{reason}": unreachable & Q(unreachable_reason=reason)
                for reason in UnreachableReason.values
            },
            # The verification queue's groups (核查队列): who is to verify and lacks the
            # element, whatever the day (an expired ID document is added when read).
            **{
                f"work_missing_{key}": pending & Q(missing_bits__has_bit=bit)
                for key, bit in MISSING_BITS.items()
            },
        }
    )
    # The live card's state (a person holds one live card, so persons here are cards): the
    # 库存卡/睡眠卡 work list pages by these, less its cards too recent to be on it.
    made_here = Q(card_made=True)
    dormant, recovered = Q(card_dormant=True), Q(card_recovered=True)
    conditions.update(
        {
            CARDS_WAITING: made_here & ~issued & ~recovered,  # in stock or in transit
            CARDS_ISSUED: issued & ~activated & ~dormant,
            CARDS_DORMANT: dormant,
            CARDS_RECOVERED: recovered,
        }
    )
    return conditions


FIGURE_KEYS = tuple(FIGURE_LABELS)

# Beside the persons, their cards: per village, how many cards of each bank are in each
# status, "card:<status>:<bank id>" — the home pages' card tiles and the totals of the
# branches' lists, which counted the scope's cards on every view (0.1–1 s at a million).
CARD_KEY_PREFIX = "card:"


def card_key(status: str, bank_id: int) -> str:
    return f"{CARD_KEY_PREFIX}{status}:{bank_id}"


# And per village, how many of its persons hold at least one card of each bank,
# "holders:<bank id>": a bank clerk's person list (the holders of the branch's cards) is
# counted per village from these, not by joining the county's cards to their holders
# (0.9–1.1 s at a million persons).
HOLDERS_KEY_PREFIX = "holders:"


def holders_key(bank_id: int) -> str:
    return f"{HOLDERS_KEY_PREFIX}{bank_id}"


def card_key_parts(key: str) -> tuple[str, int]:
    """``(status, bank_id)`` of a ``card_key``."""
    status, _, bank_id = key.removeprefix(CARD_KEY_PREFIX).rpartition(":")
    return status, int(bank_id)


def counted_conditions(projects: list[str]) -> dict[str, Q]:
    """Every condition the counters keep: the figures, then what the other pages count."""
    return {**_figure_conditions(), **_page_conditions(projects)}


def persons_meeting(persons: QuerySet, key: str) -> QuerySet:
    """The persons among ``persons`` behind the figure or counter ``key`` (KeyError for an
    unknown one): the list a number on a page links to."""
    projects = subsidy_projects()
    condition = counted_conditions(projects)[key]
    return persons.annotate(**person_flags(projects)).filter(condition)


def holds(condition: Q, row: dict) -> bool:
    """Whether a row of flags and columns meets ``condition`` — a Q of exact, ``__in``,
    ``__isnull`` and ``__has_bit`` lookups over them, as the conditions above are written."""
    results = []
    for child in condition.children:
        if isinstance(child, Q):
            results.append(holds(child, row))
            continue
        lookup, value = child
        name, _, operator = lookup.partition("__")
        if operator == "in":
            results.append(row[name] in value)
        elif operator == "isnull":
            results.append((row[name] is None) == value)
        elif operator == "has_bit":
            results.append(bool(row[name] & value))
        elif operator == "":
            results.append(row[name] == value)
        else:
            raise ValueError(f"lookup {lookup} is not supported here")
    met = all(results) if condition.connector == Q.AND else any(results)
    return not met if condition.negated else met
