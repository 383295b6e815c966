"""对账: where the provincial card system's export and our ledger disagree about a card.

The export (``roster.CardSystemRecord``) says, per record: the card number, the issuing
bank, 制卡状态 (制卡成功/制卡中/已申领/制卡失败) and 卡状态 (正常/注销, or a word such as
挂失). It says nothing of who holds the card or whether it was issued or activated: that
is our ledger's to know, so "issued here but not there" cannot be asked of it; a 卡状态
the export does carry other than 正常/注销 is listed instead. Read are the effective
exports (the latest complete one and the partial ones after it, each person from the
newest that names them: ``roster.card_records.effective_records``), after every import.

Kinds (each item with the advice a clerk follows; nothing is resolved here):

- ``cancelled_there``: a card number 注销 there (and live in no other record) whose card
  is live here;
- ``cancelled_here``: a card we cancelled that the export still shows made and live;
- ``unknown_here``: the person's current 制卡成功 record names a card our ledger does not
  hold for them (not on our roster, no number or bank to open it with, its number on
  someone else's card), and we hold no other numbered live card for them;
- ``number_differs``: the person's current made card there has another number than
  their live card here (the opening never replaces a card in the holder's hands);
- ``absent_there``: a card our ledger shows made, and knew before the latest complete
  export, whose holder that export does not class 已制卡 — ``roster.witnesses``' own
  disagreement (the 数据比对 page lists the same persons), per card;
- ``bank_differs``: one card number, another issuing bank;
- ``status_there``: 卡状态 there is neither 正常 nor 注销 (挂失, 冻结…) for a live card here.

Scope: items about one of our cards are read through ``Card.objects.for_user``, the others
through the person (``Person.objects.for_user``); a record whose person is not on our
roster is the county's alone.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import QuerySet

from dayao_sscard.roles import COUNTY_WIDE_ROLES
from roster.card_records import CANCELLED, current_made_cards, effective_records
from roster.id_numbers import mask_id_number
from roster.imports.matching import effective_snapshot_ids
from roster.models import CardClass, Person, Township
from roster.witnesses import DISAGREEMENT, DISAGREEMENT_ADVICE, card_class_q
from roster.witnesses import cards_the_export_should_know as export_should_know

from .models import LIVE_CARD_STATUSES, Card, CardStatus
from .selectors import bank_spelling, banks_by_spelling

NORMAL = ("正常", "")


class Kind:
    CANCELLED_THERE = "cancelled_there"
    CANCELLED_HERE = "cancelled_here"
    UNKNOWN_HERE = "unknown_here"
    NUMBER_DIFFERS = "number_differs"
    ABSENT_THERE = "absent_there"
    BANK_DIFFERS = "bank_differs"
    STATUS_THERE = "status_there"

    LABELS = {
        CANCELLED_THERE: "卡务系统已注销、本系统仍有效",
        CANCELLED_HERE: "本系统已注销、卡务系统仍有效",
        UNKNOWN_HERE: "卡务系统已制卡、本系统无此卡",
        NUMBER_DIFFERS: "两方卡号不一致",
        ABSENT_THERE: "本系统已制卡、卡务系统无制卡成功记录",
        BANK_DIFFERS: "发卡银行不一致",
        STATUS_THERE: "卡务系统卡状态异常",
    }
    # Column heads of the per-township table.
    SHORT = {
        CANCELLED_THERE: "卡务已注销",
        CANCELLED_HERE: "本系统已注销",
        UNKNOWN_HERE: "本系统无此卡",
        NUMBER_DIFFERS: "卡号不一致",
        ABSENT_THERE: "卡务无制卡记录",
        BANK_DIFFERS: "银行不一致",
        STATUS_THERE: "卡状态异常",
    }
    ADVICE = {
        CANCELLED_THERE: "请向州（省）卡管中心核实注销原因：确已注销（换卡、持卡人死亡等）的，"
        "收回实体卡、在本系统登记注销；注销有误的，请卡管中心恢复。核实前暂停发放和激活。",
        CANCELLED_HERE: "请将本系统的注销情况（原因、时间）报县人社局，由合作银行或卡管中心在卡务系统办理注销；"
        "若本系统注销有误，请县人社局核实后处理。",
        UNKNOWN_HERE: "请核实该人员户籍和卡的下落：本县人员请补录或更正人员信息后重新导入卡务系统导出以建立台账；"
        "卡号登记在他人名下的，请核对两人的实体卡；非本县人员请告知卡管中心。",
        NUMBER_DIFFERS: "请核对持卡人手中实体卡的卡号：卡务系统已换发新卡的，收回旧卡并登记注销，按新卡建账发放；"
        "本系统卡号登记有误的，请县人社局核实更正。",
        ABSENT_THERE: DISAGREEMENT_ADVICE,
        BANK_DIFFERS: "请与两家银行核实该卡的发卡银行：卡务系统有误的请卡管中心更正；"
        "本系统有误的请县人社局核实，由正确的网点办理发放和激活。",
        STATUS_THERE: "请向州（省）卡管中心和发卡银行核实该卡的状态，按实际情况办理解挂、补换卡或注销；"
        "核实前暂停发放和激活。",
    }

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return list(cls.LABELS.items())


@dataclass
class Item:
    """One disagreement: what our ledger says, what the export says, what to do."""

    kind: str
    township: Township | None
    name: str
    masked_id: str
    card: Card | None = None
    person: Person | None = None
    ours: str = ""
    theirs: str = ""

    @property
    def label(self) -> str:
        return Kind.LABELS[self.kind]

    @property
    def advice(self) -> str:
        return Kind.ADVICE[self.kind]

    @property
    def card_number(self) -> str:
        return (self.card.card_number if self.card else "") or ""


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _in(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _our_card(card: Card) -> str:
    return f"{card.card_number or '（未出卡号）'}，{card.get_status_display()}，{card.bank}"


def reconciliation_items(*, user) -> list[Item]:
    """Every disagreement in the user's scope, by kind, then township and name."""
    ids = effective_snapshot_ids()
    if not ids:
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        _current_table(cursor, ids)
        try:
            # A card cancelled there for a newer one is the number that differs: listed once.
            items: list[Item] = _number_differs(user)
            items += _cancelled_there(user, ids, {item.card.pk for item in items})
            items += _cancelled_here(user)
            items += _unknown_here(user, ids)
            items += _absent_there(user, {item.card.pk for item in items if item.card})
            items += _bank_differs(user)
            items += _status_there(user, ids)
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {CURRENT}")
    order = list(Kind.LABELS)
    return sorted(
        items,
        key=lambda i: (order.index(i.kind), i.township.code if i.township else "~", i.name),
    )


# Each person's current 制卡成功 record (``current_made_cards``), read once per call: four
# kinds join it, and ranking an export's records is the costly part (0.5 s per 100,000).
CURRENT = "recon_current"


def _current_table(cursor, ids) -> None:
    current, params = current_made_cards(ids)
    cursor.execute(f"DROP TABLE IF EXISTS {CURRENT}")
    cursor.execute(f"CREATE TEMPORARY TABLE {CURRENT} AS {current}", params)
    cursor.execute(f"CREATE INDEX {CURRENT}_number ON {CURRENT} (card_number)")
    cursor.execute(f"CREATE INDEX {CURRENT}_id_number ON {CURRENT} (id_number)")
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {CURRENT}")


def _scoped_cards(user, card_ids) -> QuerySet[Card]:
    return (
        Card.objects.for_user(user)
        .filter(pk__in=list(card_ids))
        .select_related("person", "person__township", "bank")
    )


def _card_item(kind: str, card: Card, theirs: str) -> Item:
    return Item(
        kind=kind,
        township=card.person.township,
        name=card.person.name,
        masked_id=card.person.masked_id_number,
        card=card,
        person=card.person,
        ours=_our_card(card),
        theirs=theirs,
    )


def _cancelled_there(user, ids, listed: set[int]) -> list[Item]:
    records, params = effective_records(ids, with_cancelled=True)
    live = _in(s for s in LIVE_CARD_STATUSES)
    rows = _fetch(
        f"SELECT c.id, MAX(x.made_on) FROM issuance_card c JOIN (SELECT card_number, made_on "
        f"FROM {records} AND card_status = %s AND card_number <> '') x "
        "ON x.card_number = c.card_number "
        f"WHERE c.status IN ({live}) AND c.card_number NOT IN (SELECT card_number FROM "
        f"{records} AND card_status <> %s AND card_number <> '') GROUP BY c.id",
        [*params, CANCELLED, *params, CANCELLED],
    )
    return [
        _card_item(Kind.CANCELLED_THERE, card, f"卡号{card.card_number}，卡状态：注销")
        for card in _scoped_cards(user, [row[0] for row in rows if row[0] not in listed])
    ]


def _cancelled_here(user) -> list[Item]:
    rows = _fetch(
        f"SELECT c.id FROM issuance_card c JOIN {CURRENT} cur ON cur.card_number = c.card_number "
        "WHERE c.status = %s",
        [CardStatus.CANCELLED],
    )
    return [
        _card_item(Kind.CANCELLED_HERE, card, f"卡号{card.card_number}，制卡成功，卡状态正常")
        for card in _scoped_cards(user, [row[0] for row in rows])
    ]


def _number_differs(user) -> list[Item]:
    live = _in(LIVE_CARD_STATUSES)
    rows = _fetch(
        "SELECT c.id, cur.card_number, cur.bank_name FROM issuance_card c "
        "JOIN roster_person p ON p.id = c.person_id "
        f"JOIN {CURRENT} cur ON cur.id_number = p.id_number "
        f"WHERE c.status IN ({live}) AND c.card_number IS NOT NULL AND cur.card_number <> '' "
        "AND cur.card_number <> c.card_number",
        [],
    )
    theirs = {card_id: (number, bank) for card_id, number, bank in rows}
    return [
        _card_item(
            Kind.NUMBER_DIFFERS,
            card,
            f"最新制卡成功记录卡号{theirs[card.pk][0]}，{theirs[card.pk][1]}",
        )
        for card in _scoped_cards(user, theirs)
    ]


def _unknown_here(user, ids) -> list[Item]:
    live = _in(LIVE_CARD_STATUSES)
    rows = _fetch(
        "SELECT cur.id_number, cur.card_number, cur.bank_name, p.id, "
        "(SELECT o.person_id FROM issuance_card o WHERE o.card_number = cur.card_number "
        " AND cur.card_number <> '') AS owner "
        f"FROM {CURRENT} cur LEFT JOIN roster_person p ON p.id_number = cur.id_number "
        "WHERE NOT EXISTS (SELECT 1 FROM issuance_card c WHERE c.person_id = p.id "
        "  AND c.card_number = cur.card_number) "
        "AND NOT EXISTS (SELECT 1 FROM issuance_card c WHERE c.person_id = p.id "
        f"  AND c.status IN ({live}) AND c.card_number IS NOT NULL)",
        [],
    )
    if not rows:
        return []
    persons = {
        person.pk: person
        for person in Person.objects.for_user(user)
        .filter(pk__in=[row[3] for row in rows if row[3] is not None])
        .select_related("township")
    }
    names = _record_names(ids, [row[0] for row in rows if row[3] is None])
    county = getattr(user, "role", None) in COUNTY_WIDE_ROLES
    items = []
    for id_number, number, bank, person_id, owner in rows:
        person = persons.get(person_id)
        if person is None and (person_id is not None or not county):
            continue
        theirs = f"卡号{number or '（空）'}，{bank or '（无发卡银行）'}，制卡成功"
        if person is None:
            ours = "不在本系统花名册中"
        elif owner is not None and owner != person_id:
            ours = "该卡号登记在另一人名下"
        elif not number or not bank:
            ours = "无此卡（卡务系统记录缺卡号或发卡银行，未能建账）"
        else:
            ours = "无此卡"
        items.append(
            Item(
                kind=Kind.UNKNOWN_HERE,
                township=person.township if person else None,
                name=person.name if person else names.get(id_number, ""),
                masked_id=mask_id_number(id_number),
                person=person,
                ours=ours,
                theirs=theirs,
            )
        )
    return items


def _record_names(ids, id_numbers: list[str]) -> dict[str, str]:
    """The names the export gives persons our roster does not know."""
    if not id_numbers:
        return {}
    listed = ", ".join(["%s"] * len(ids))
    numbers = ", ".join(["%s"] * len(id_numbers))
    return dict(
        _fetch(
            "SELECT id_number, MAX(name) FROM roster_cardsystemrecord "
            f"WHERE snapshot_id IN ({listed}) AND id_number IN ({numbers}) GROUP BY id_number",
            [*ids, *id_numbers],
        )
    )


def _absent_there(user, listed: set[int]) -> list[Item]:
    """The witnesses' disagreement (the 数据比对 page's persons), card by card."""
    cards = (
        export_should_know()
        .filter(pk__in=Card.objects.for_user(user).values("pk"))
        .filter(person__in=Person.objects.filter(card_class_q(DISAGREEMENT)))
        .exclude(pk__in=listed)
        .select_related("person", "person__township", "person__classification", "bank")
    )
    items = []
    for card in cards:
        classification = getattr(card.person, "classification", None)
        said = CardClass(classification.card_class).label if classification else "无记录"
        items.append(_card_item(Kind.ABSENT_THERE, card, f"该人员比对结果为“{said}”"))
    return items


def _bank_differs(user) -> list[Item]:
    pairs = _fetch(
        f"SELECT DISTINCT cur.bank_name, c.bank_id FROM {CURRENT} cur "
        "JOIN issuance_card c ON c.card_number = cur.card_number WHERE cur.bank_name <> ''",
        [],
    )
    known = banks_by_spelling()
    differing = [
        (name, bank_id)
        for name, bank_id in pairs
        if getattr(known.get(bank_spelling(name)), "pk", None) != bank_id
    ]
    if not differing:
        return []
    where = " OR ".join(["(cur.bank_name = %s AND c.bank_id = %s)"] * len(differing))
    rows = _fetch(
        f"SELECT c.id, cur.bank_name FROM {CURRENT} cur "
        f"JOIN issuance_card c ON c.card_number = cur.card_number WHERE {where}",
        [value for pair in differing for value in pair],
    )
    theirs = dict(rows)
    return [
        _card_item(Kind.BANK_DIFFERS, card, f"发卡银行：{theirs[card.pk]}")
        for card in _scoped_cards(user, theirs)
    ]


def _status_there(user, ids) -> list[Item]:
    records, params = effective_records(ids, with_cancelled=True)
    live = _in(LIVE_CARD_STATUSES)
    words = _in((*NORMAL, CANCELLED))
    rows = _fetch(
        f"SELECT c.id, MAX(r.card_status) FROM (SELECT card_number, card_status FROM {records} "
        f"AND card_status NOT IN ({words}) AND card_number <> '') r "
        "JOIN issuance_card c ON c.card_number = r.card_number "
        f"WHERE c.status IN ({live}) GROUP BY c.id",
        params,
    )
    theirs = dict(rows)
    return [
        _card_item(Kind.STATUS_THERE, card, f"卡状态：{theirs[card.pk]}")
        for card in _scoped_cards(user, theirs)
    ]


# ---- figures -----------------------------------------------------------------------------

NOT_ON_ROSTER = "不在本县花名册"


def reconciliation_counts(items: list[Item]) -> dict:
    """Counts per kind, and per township per kind (a row for persons not on the roster)."""
    by_kind = Counter(item.kind for item in items)
    per_township: dict[str, Counter] = defaultdict(Counter)
    townships: dict[str, Township | None] = {}
    for item in items:
        key = item.township.code if item.township else ""
        townships[key] = item.township
        per_township[key][item.kind] += 1
    rows = [
        {
            "township": townships[key],
            "code": key,
            "name": townships[key].name if townships[key] else NOT_ON_ROSTER,
            "kinds": [
                {"kind": kind, "label": Kind.SHORT[kind], "count": per_township[key][kind]}
                for kind in Kind.LABELS
            ],
            "total": sum(per_township[key].values()),
        }
        for key in sorted(per_township, key=lambda k: k or "~")
    ]
    return {
        "kinds": [
            {"kind": kind, "label": label, "short": Kind.SHORT[kind], "count": by_kind[kind]}
            for kind, label in Kind.LABELS.items()
        ],
        "townships": rows,
        "total": len(items),
    }


def reconciliation_filter(items: list[Item], *, kind: str = "", township: str = "") -> list[Item]:
    """The items of one kind and of one township (its code; ``none`` for persons not on
    the roster), as the page's and the export's links ask."""
    if kind in Kind.LABELS:
        items = [item for item in items if item.kind == kind]
    if township == "none":
        items = [item for item in items if item.township is None]
    elif township:
        items = [item for item in items if item.township and item.township.code == township]
    return items
