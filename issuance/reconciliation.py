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

Scope: items about one of our cards are read as ``Card.objects.for_user`` reads the card,
the others as ``Person.objects.for_user`` reads the person; a record whose person is not
on our roster is the county's alone.

Kept, not computed per view (2.5–3 s at 300,000 persons, 10–15 s at a million):

- what the effective exports say is read once per import into ``ExportMadeCard`` (each
  person's current 制卡成功 record) and ``ExportCardWord`` (card numbers 注销 or 挂失…);
- the items (``ReconciliationItem``) are asked again of the persons every write recounts
  (``roster.progress.persons_recounted``: a card's event, a person's move, a comparison
  result, the bulk paths of batches and the counter through ``figures_touch``) and of the
  whole county after every import or ``match`` (``figures_rebuild``) and every change of
  a bank, in the writer's transaction. ``reconciliation_drift`` compares them with a
  computation from scratch (the tests do, after every test).
"""

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from dayao_sscard.bulk import CompiledForIds, analyse, indexes_built_after
from roster.card_records import CANCELLED, current_made_cards, effective_records
from roster.id_numbers import mask_id_number
from roster.imports.matching import effective_snapshot_ids
from roster.models import CardClass, Person, Township
from roster.witnesses import DISAGREEMENT, DISAGREEMENT_ADVICE, card_class_q
from roster.witnesses import cards_the_export_should_know as export_should_know

from .models import (
    LIVE_CARD_STATUSES,
    Bank,
    Card,
    CardStatus,
    ExportCardWord,
    ExportMadeCard,
    ReconciliationBasis,
    ReconciliationItem,
)
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

    @classmethod
    def rank(cls, kind: str) -> int:
        """The kind's place in the list (the order of ``LABELS``)."""
        return list(cls.LABELS).index(kind)


@dataclass
class Item:
    """One disagreement as the page and the download show it: what our ledger says, what
    the export says, what to do."""

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


# ---- what the effective exports say, read once per import -----------------------------

MADE = ExportMadeCard._meta.db_table
WORDS = ExportCardWord._meta.db_table
ITEMS = ReconciliationItem._meta.db_table
CARDS = Card._meta.db_table
PERSONS = Person._meta.db_table


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _execute(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _in(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def _export_facts_build(ids: list[int]) -> None:
    """``ExportMadeCard`` and ``ExportCardWord`` from the effective exports ``ids``: ranking
    each person's records is the costly part (0.5 s per 100,000), done here once."""
    if connection.vendor == "postgresql":
        _execute(f"TRUNCATE {MADE}, {WORDS}", [])
    else:
        ExportMadeCard.objects.all().delete()
        ExportCardWord.objects.all().delete()
    if not ids:
        return
    # Filled without their indexes, built once at the end: 4 s instead of 12 s for
    # 158,000 current records (300,000 persons, measured on a loaded machine).
    with indexes_built_after(MADE, WORDS):
        _export_facts_insert(ids)


def _export_facts_insert(ids: list[int]) -> None:
    current, params = current_made_cards(ids)
    # The name the exports give each ID number, for persons our roster does not know.
    names = (
        "SELECT id_number, MAX(name) AS name FROM roster_cardsystemrecord "
        f"WHERE snapshot_id IN ({_placeholders(ids)}) GROUP BY id_number"
    )
    spelled, spelled_params = _banks_spelled(ids)
    _execute(
        f"INSERT INTO {MADE} (id_number, name, card_number, bank_name, bank_id) "
        f"SELECT cur.id_number, COALESCE(n.name, ''), cur.card_number, cur.bank_name, {spelled} "
        f"FROM ({current}) cur LEFT JOIN ({names}) n ON n.id_number = cur.id_number",
        [*spelled_params, *params, *ids],
    )
    records, params = effective_records(ids, with_cancelled=True)
    odd = _in((*NORMAL, CANCELLED))
    _execute(
        f"INSERT INTO {WORDS} (card_number, cancelled, odd_status) "
        "SELECT card_number, cancelled, odd_status FROM ("
        "  SELECT card_number, "
        f"  MIN(CASE WHEN card_status = '{CANCELLED}' THEN 1 ELSE 0 END) = 1 AS cancelled, "
        f"  COALESCE(MAX(CASE WHEN card_status NOT IN ({odd}) THEN card_status END), '') "
        "   AS odd_status "
        f"  FROM {records} AND card_number <> '' GROUP BY card_number"
        ") w WHERE cancelled OR odd_status <> ''",
        params,
    )


def _bank_of_name(names: Iterable[str]) -> dict[str, int | None]:
    """Which of our banks each bank name of the export spells (a name spelled otherwise,
    with spaces, is the same bank)."""
    known = banks_by_spelling()
    return {name: getattr(known.get(bank_spelling(name)), "pk", None) for name in names}


def _banks_spelled(ids: list[int]) -> tuple[str, list]:
    """``cur.bank_name``'s bank as SQL, for the names the exports ``ids`` give."""
    listed = _placeholders(ids)
    names = [
        name
        for (name,) in _fetch(
            f"SELECT DISTINCT bank_name FROM roster_cardsystemrecord WHERE snapshot_id IN "
            f"({listed}) AND bank_name <> ''",
            ids,
        )
    ]
    banks = [(name, pk) for name, pk in _bank_of_name(names).items() if pk is not None]
    if not banks:
        return "NULL", []
    cases = " ".join(["WHEN %s THEN %s"] * len(banks))
    return f"CASE cur.bank_name {cases} END", [value for pair in banks for value in pair]


def _banks_resolve() -> None:
    """After a bank changed: the banks the export's names spell, again (rows whose bank
    stays are not written)."""
    names = ExportMadeCard.objects.exclude(bank_name="").values_list("bank_name", flat=True)
    for name, bank_id in _bank_of_name(names.order_by().distinct()).items():
        ExportMadeCard.objects.filter(bank_name=name).exclude(bank_id=bank_id).update(
            bank_id=bank_id
        )


# ---- the items, asked of some persons or of the county ---------------------------------

COLUMNS = (
    "kind, rank, card_id, bank_id, person_id, township_id, township_code, id_number, name, "
    "export_number, export_bank, export_word"
)
TOWNSHIPS = Township._meta.db_table
LIVE = _in(LIVE_CARD_STATUSES)
CARD_PERSON = (
    f"FROM {CARDS} c JOIN {PERSONS} p ON p.id = c.person_id "
    f"JOIN {TOWNSHIPS} t ON t.id = p.township_id"
)
OF_CARD = "c.id, c.bank_id, c.person_id, p.township_id, t.code, p.id_number, p.name"


def _kind(kind: str) -> str:
    """The kind and its place in the list, as the first columns of an item."""
    return f"'{kind}', {Kind.rank(kind)}"


def _listed_as(kinds: tuple[str, ...]) -> str:
    """The card is already an item of one of ``kinds`` (listed once, as that)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM {ITEMS} i WHERE i.card_id = c.id AND i.kind IN ({_in(kinds)}))"
    )


def _kind_statements(of_persons: str) -> list[str]:
    """INSERT … SELECT of each kind but the witnesses' own, in the order they exclude
    each other: a card cancelled there for a newer one is the number that differs."""
    return [
        f"SELECT {_kind(Kind.NUMBER_DIFFERS)}, {OF_CARD}, cur.card_number, cur.bank_name, '' "
        f"{CARD_PERSON} JOIN {MADE} cur ON cur.id_number = p.id_number "
        f"WHERE c.status IN ({LIVE}) AND c.card_number IS NOT NULL AND cur.card_number <> '' "
        f"AND cur.card_number <> c.card_number {of_persons}",
        f"SELECT {_kind(Kind.CANCELLED_THERE)}, {OF_CARD}, '', '', '' "
        f"{CARD_PERSON} JOIN {WORDS} w ON w.card_number = c.card_number "
        f"WHERE w.cancelled = %(yes)s AND c.status IN ({LIVE}) "
        f"AND {_listed_as((Kind.NUMBER_DIFFERS,))} {of_persons}",
        f"SELECT {_kind(Kind.CANCELLED_HERE)}, {OF_CARD}, '', '', '' {CARD_PERSON} "
        f"WHERE c.status = '{CardStatus.CANCELLED}' "
        f"AND EXISTS (SELECT 1 FROM {MADE} cur WHERE cur.card_number = c.card_number) "
        f"{of_persons}",
    ]


def _unknown_here(of_id_numbers: str) -> str:
    return (
        f"SELECT {_kind(Kind.UNKNOWN_HERE)}, NULL, NULL, p.id, p.township_id, t.code, "
        "cur.id_number, COALESCE(p.name, cur.name), cur.card_number, cur.bank_name, '' "
        f"FROM {MADE} cur LEFT JOIN {PERSONS} p ON p.id_number = cur.id_number "
        f"LEFT JOIN {TOWNSHIPS} t ON t.id = p.township_id "
        f"WHERE NOT EXISTS (SELECT 1 FROM {CARDS} c WHERE c.person_id = p.id "
        "  AND c.card_number = cur.card_number) "
        f"AND NOT EXISTS (SELECT 1 FROM {CARDS} c WHERE c.person_id = p.id "
        f"  AND c.status IN ({LIVE}) AND c.card_number IS NOT NULL) {of_id_numbers}"
    )


def _later_kinds(of_persons: str) -> list[str]:
    return [
        f"SELECT {_kind(Kind.BANK_DIFFERS)}, {OF_CARD}, '', MIN(cur.bank_name), '' "
        f"{CARD_PERSON} JOIN {MADE} cur ON cur.card_number = c.card_number "
        "WHERE cur.bank_name <> '' AND (cur.bank_id IS NULL OR cur.bank_id <> c.bank_id) "
        f"{of_persons} GROUP BY {OF_CARD}",
        f"SELECT {_kind(Kind.STATUS_THERE)}, {OF_CARD}, '', '', w.odd_status "
        f"{CARD_PERSON} JOIN {WORDS} w ON w.card_number = c.card_number "
        f"WHERE w.odd_status <> '' AND c.status IN ({LIVE}) {of_persons}",
    ]


def _absent_cards(person_ids: list[int] | None) -> QuerySet:
    """The witnesses' disagreement (the 数据比对 page's persons), card by card, asked with
    their own rule; a card already listed as cancelled there or renumbered is not."""
    listed = ReconciliationItem.objects.filter(
        card_id=OuterRef("pk"), kind__in=[Kind.NUMBER_DIFFERS, Kind.CANCELLED_THERE]
    )
    cards = (
        export_should_know()
        .filter(person__in=Person.objects.filter(card_class_q(DISAGREEMENT)))
        .exclude(Exists(listed))
    )
    if person_ids is not None:
        cards = cards.filter(person_id__in=person_ids)
    return cards.order_by().values_list(
        Value(Kind.ABSENT_THERE),
        Value(Kind.rank(Kind.ABSENT_THERE)),
        "pk",
        "bank_id",
        "person_id",
        "person__township_id",
        "person__township__code",
        "person__id_number",
        "person__name",
        Value(""),
        Value(""),
        Coalesce(F("person__classification__card_class"), Value("")),
    )


_absent_of_persons = CompiledForIds(_absent_cards)


def _absent_there(person_ids: list[int] | None) -> tuple[str, list]:
    if person_ids is None:
        sql, params = _absent_cards(None).query.sql_with_params()
        return sql, list(params)
    return _absent_of_persons(person_ids)


def _items_insert(person_ids: list[int] | None, id_numbers: list[str] | None) -> None:
    """Insert the items of these persons and of these ID numbers' records (None: all)."""
    params: dict = {"yes": True}
    of_persons = of_id_numbers = ""
    if person_ids is not None:
        of_persons = (
            "AND c.person_id IN (" + ", ".join(f"%(p{i})s" for i in range(len(person_ids))) + ")"
        )
        params.update({f"p{i}": pk for i, pk in enumerate(person_ids)})
        of_id_numbers = (
            "AND cur.id_number IN ("
            + ", ".join(f"%(n{i})s" for i in range(len(id_numbers or ())))
            + ")"
        )
        params.update({f"n{i}": number for i, number in enumerate(id_numbers or ())})
    # Three statements, each after the kinds it excludes: a card renumbered there, then a
    # card cancelled there (not renumbered) and the kinds no other excludes, then the
    # witnesses' own disagreement (neither of the first two).
    renumbered, *others = _kind_statements(of_persons)
    if person_ids is None or id_numbers:
        others.append(_unknown_here(of_id_numbers))
    others += _later_kinds(of_persons)
    insert = f"INSERT INTO {ITEMS} ({COLUMNS}) "
    _execute(insert + renumbered, params)
    _execute(insert + " UNION ALL ".join(others), params)
    sql, absent_params = _absent_there(person_ids)
    _execute(insert + sql, absent_params)


def _effective_key(ids: list[int]) -> str:
    return ",".join(str(pk) for pk in ids)


def _banks_key() -> str:
    """Our banks and their names: a bank added (an import opens some) or renamed may make
    a name in the export spell another bank."""
    banks = Bank.objects.order_by("pk").values_list("pk", "name")
    return hashlib.sha256(repr(list(banks)).encode()).hexdigest()


def reconciliation_rebuild() -> None:
    """Reconcile the whole county again: after an import (the effective exports, and the
    persons and cards it wrote), a ``match``, a change of a bank.

    The items' table is locked first, so a clerk's change committed meanwhile is asked
    again after this (as ``figures_rebuild`` locks the counters).
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _execute(f"LOCK TABLE {ITEMS} IN EXCLUSIVE MODE", [])
            # Ranking and joining the county's records and cards in memory, not on disk.
            _execute("SET LOCAL work_mem = '256MB'", [])
        ids = effective_snapshot_ids()
        key, banks = _effective_key(ids), _banks_key()
        basis = ReconciliationBasis.objects.select_for_update().first()
        analyze = [ITEMS]
        if basis is None or basis.exports != key:
            _export_facts_build(ids)
            analyze += [MADE, WORDS]
        elif basis.banks != banks:
            _banks_resolve()
        ReconciliationItem.objects.all().delete()
        if ids:
            _items_insert(None, None)
        # The tables were just refilled: the planner reads their new sizes.
        for table in analyze:
            analyse(table)
        if basis is None:
            basis = ReconciliationBasis(rebuilt_at=timezone.now())
        basis.exports, basis.banks, basis.rebuilt_at = key, banks, timezone.now()
        basis.save()


CHUNK = 500


def reconciliation_refresh(person_ids: Iterable[int]) -> None:
    """Ask the reconciliation again of these persons, in the writer's transaction: their
    cards, and the export's records of their ID numbers (also those their items had, for
    a person whose number or row went)."""
    ids = sorted(set(person_ids))
    if not ids or not ReconciliationBasis.objects.exclude(exports="").exists():
        return
    # Asked on every save of a card or a person: as few statements as the kinds allow.
    with transaction.atomic(savepoint=False):
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            listed = _placeholders(chunk)
            numbers = sorted(
                number
                for (number,) in _fetch(
                    f"SELECT id_number FROM {PERSONS} WHERE id IN ({listed}) "
                    f"UNION SELECT id_number FROM {ITEMS} WHERE person_id IN ({listed})",
                    [*chunk, *chunk],
                )
            )
            ReconciliationItem.objects.filter(
                Q(person_id__in=chunk) | Q(person__isnull=True, id_number__in=numbers)
            ).delete()
            _items_insert(chunk, numbers)


def reconciliation_keep(sender, person_ids: list[int] | None, **kwargs) -> None:
    """``roster.progress.persons_recounted``'s receiver (``issuance.apps``)."""
    if person_ids is None:
        reconciliation_rebuild()
    else:
        reconciliation_refresh(person_ids)


def reconciliation_person_saved(
    sender, instance, raw: bool = False, update_fields=None, **kwargs
) -> None:
    """A save naming only some of a person's columns is recounted when it names one the
    figures read; the items also keep the name (their order) and the ID number."""
    if not raw and update_fields is not None and {"name", "id_number"} & set(update_fields):
        reconciliation_refresh([instance.pk])


def reconciliation_banks_changed(sender, **kwargs) -> None:
    """A bank added, renamed or removed may make a name in the export spell another bank."""
    basis = ReconciliationBasis.objects.exclude(exports="").first()
    if basis is not None and basis.banks != _banks_key():
        reconciliation_rebuild()


def _stored() -> Counter:
    return Counter(
        ReconciliationItem.objects.values_list(
            "kind",
            "rank",
            "card_id",
            "bank_id",
            "person_id",
            "township_id",
            "township_code",
            "id_number",
            "name",
            "export_number",
            "export_bank",
            "export_word",
        )
    )


def reconciliation_on_current_exports() -> bool:
    """Whether the stored items stand on the effective exports (every import rebuilds
    them; only exports written behind the import, as a test's scene, leave them older)."""
    basis = reconciliation_basis()
    return _effective_key(effective_snapshot_ids()) == (basis.exports if basis else "")


def reconciliation_drift() -> dict[str, Counter]:
    """What the stored items lack and what they hold wrongly, against the county asked
    from scratch (both empty: none). The computation is rolled back."""
    stored = _stored()
    with transaction.atomic():
        ReconciliationBasis.objects.all().delete()
        reconciliation_rebuild()
        asked = _stored()
        transaction.set_rollback(True)
    return {"missing": asked - stored, "extra": stored - asked}


# ---- the page and the download -----------------------------------------------------------


def reconciliation_basis() -> ReconciliationBasis | None:
    """When the whole county was last reconciled (with which exports)."""
    return ReconciliationBasis.objects.first()


def reconciliation_rows(
    *, user, kind: str = "", township: str = ""
) -> QuerySet[ReconciliationItem]:
    """The stored items of the user's scope, of one kind and of one township (its code;
    ``none`` for persons not on the roster) as the page's and the download's links ask,
    by kind, then township and name (read along an index, a page at a time)."""
    rows = ReconciliationItem.objects.for_user(user)
    if kind in Kind.LABELS:
        rows = rows.filter(rank=Kind.rank(kind))
    if township == "none":
        rows = rows.filter(township_code__isnull=True)
    elif township:
        rows = rows.filter(township_code=township)
    return rows.select_related("card__bank", "person", "township").order_by(
        "rank", F("township_code").asc(nulls_last=True), "name", "id"
    )


def _our_card(card: Card) -> str:
    return f"{card.card_number or '（未出卡号）'}，{card.get_status_display()}，{card.bank}"


def _theirs(row: ReconciliationItem) -> str:
    card = row.card
    if row.kind == Kind.CANCELLED_THERE:
        return f"卡号{card.card_number}，卡状态：注销"
    if row.kind == Kind.CANCELLED_HERE:
        return f"卡号{card.card_number}，制卡成功，卡状态正常"
    if row.kind == Kind.NUMBER_DIFFERS:
        return f"最新制卡成功记录卡号{row.export_number}，{row.export_bank}"
    if row.kind == Kind.ABSENT_THERE:
        said = CardClass(row.export_word).label if row.export_word else "无记录"
        return f"该人员比对结果为“{said}”"
    if row.kind == Kind.BANK_DIFFERS:
        return f"发卡银行：{row.export_bank}"
    if row.kind == Kind.STATUS_THERE:
        return f"卡状态：{row.export_word}"
    number, bank = row.export_number, row.export_bank
    return f"卡号{number or '（空）'}，{bank or '（无发卡银行）'}，制卡成功"


def _ours_unknown(row: ReconciliationItem, owners: dict[str, int]) -> str:
    owner = owners.get(row.export_number) if row.export_number else None
    if row.person_id is None:
        return "不在本系统花名册中"
    if owner is not None and owner != row.person_id:
        return "该卡号登记在另一人名下"
    if not row.export_number or not row.export_bank:
        return "无此卡（卡务系统记录缺卡号或发卡银行，未能建账）"
    return "无此卡"


def reconciliation_as_items(rows: Iterable[ReconciliationItem]) -> list[Item]:
    """The stored items as shown: what our ledger says read now (the card's status and
    bank; for a number we do not hold for the person, whose card it is)."""
    rows = list(rows)
    numbers = {
        row.export_number for row in rows if row.kind == Kind.UNKNOWN_HERE and row.export_number
    }
    owners = dict(
        Card.objects.filter(card_number__in=numbers).values_list("card_number", "person_id")
    )
    return [
        Item(
            kind=row.kind,
            township=row.township,
            name=row.person.name if row.person else row.name,
            masked_id=(
                row.person.masked_id_number if row.person else mask_id_number(row.id_number)
            ),
            card=row.card,
            person=row.person,
            ours=_our_card(row.card) if row.card else _ours_unknown(row, owners),
            theirs=_theirs(row),
        )
        for row in rows
    ]


def reconciliation_items(*, user, kind: str = "", township: str = "") -> list[Item]:
    """Every disagreement in the user's scope (of one kind, one township), in order."""
    return reconciliation_as_items(reconciliation_rows(user=user, kind=kind, township=township))


def reconciliation_items_iter(*, user, kind: str = "", township: str = "") -> Iterator[Item]:
    """The same, a few thousand rows at a time, for the download."""
    rows = reconciliation_rows(user=user, kind=kind, township=township)
    chunk: list[ReconciliationItem] = []
    for row in rows.iterator(chunk_size=2000):
        chunk.append(row)
        if len(chunk) == 2000:
            yield from reconciliation_as_items(chunk)
            chunk = []
    yield from reconciliation_as_items(chunk)


# ---- figures -----------------------------------------------------------------------------

NOT_ON_ROSTER = "不在本县花名册"


def reconciliation_counts(*, user) -> dict:
    """Counts per kind, and per township per kind (a row for persons not on the roster),
    of the user's scope."""
    tally = (
        ReconciliationItem.objects.for_user(user)
        .order_by()
        .values_list("kind", "township_id")
        .annotate(n=Count("id"))
    )
    by_kind: Counter = Counter()
    per_township: dict[int | None, Counter] = {}
    for kind, township_id, n in tally:
        by_kind[kind] += n
        per_township.setdefault(township_id, Counter())[kind] += n
    townships = Township.objects.in_bulk([pk for pk in per_township if pk is not None])
    keys = sorted(per_township, key=lambda pk: townships[pk].code if pk is not None else "~")
    rows = [
        {
            "township": townships.get(pk),
            "code": townships[pk].code if pk is not None else "",
            "name": townships[pk].name if pk is not None else NOT_ON_ROSTER,
            "kinds": [
                {"kind": kind, "label": Kind.SHORT[kind], "count": per_township[pk][kind]}
                for kind in Kind.LABELS
            ],
            "total": sum(per_township[pk].values()),
        }
        for pk in keys
    ]
    return {
        "kinds": [
            {"kind": kind, "label": label, "short": Kind.SHORT[kind], "count": by_kind[kind]}
            for kind, label in Kind.LABELS.items()
        ],
        "townships": rows,
        "total": sum(by_kind.values()),
    }


def reconciliation_shown(counts: dict, *, kind: str = "", township: str = "") -> int:
    """How many items ``reconciliation_rows`` gives for these filters, from the counts
    (so the page does not count them again)."""
    rows = counts["townships"]
    if township == "none":
        rows = [row for row in rows if not row["code"]]
    elif township:
        rows = [row for row in rows if row["code"] == township]
    if kind in Kind.LABELS:
        return sum(k["count"] for row in rows for k in row["kinds"] if k["kind"] == kind)
    return sum(row["total"] for row in rows)
