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

from django.db.models import Exists, OuterRef, Q

from issuance.models import CARD_MADE_STATUSES, LIVE_CARD_STATUSES, Card, CardStatus

from .models import CardClass, ListEntry, ListKind, VerificationStatus, VitalStatus
from .witnesses import ready_for_card_q

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


def _card_in(statuses) -> Exists:
    # EXISTS, not IN: per person an index probe on the card's holder, and over the whole
    # county PostgreSQL hashes it; an IN list would scan every card for a single person.
    return Exists(Card.objects.filter(person_id=OuterRef("pk"), status__in=statuses))


def _on_unissued_list() -> Exists:
    return Exists(
        ListEntry.objects.filter(person_id=OuterRef("pk"), source_list__kind=ListKind.UNISSUED)
    )


def _figure_conditions() -> dict[str, Q]:
    alive = ~Q(vital_status=VitalStatus.DECEASED)
    listed = Q(_on_unissued_list())
    made = Q(_card_in(CARD_MADE_STATUSES))
    live = Q(_card_in(LIVE_CARD_STATUSES))
    should_hold = alive & (listed | made)
    return {
        "listed": listed,
        "should_hold": should_hold,
        "compared": listed & (Q(classification__isnull=False) | made),
        "verified": should_hold & (~Q(verification_status=VerificationStatus.PENDING) | live),
        "ready": ready_for_card_q(),
        "applied": live,
        "made": made,
        "issued": Q(_card_in(ISSUED_STATUSES)),
        "activated": Q(_card_in((CardStatus.ACTIVATED,))),
        "deceased": listed & Q(vital_status=VitalStatus.DECEASED),
        "unreachable": alive & Q(verification_status=VerificationStatus.UNREACHABLE) & ~live,
        "failed": ~live
        & (Q(classification__card_class=CardClass.CARD_FAILED) | Q(_card_in((CardStatus.FAILED,)))),
        "e_card": Q(electronic_card__isnull=False),
    }


FIGURE_KEYS = tuple(FIGURE_LABELS)


def figure_condition(key: str) -> Q:
    """The condition on a person behind the figure ``key`` (KeyError for an unknown one)."""
    return _figure_conditions()[key]


def figure_conditions() -> dict[str, Q]:
    return _figure_conditions()
