"""Cards enter the ledger from the card-system export (卡务系统导出).

A person on the roster whose current record in the export is 制卡成功 (read as the match
reads it, ``roster.card_records``) holds a made card at its issuing bank. For each such
person, against our own ledger:

- the card number is already in our ledger: nothing (a second export, or the same cards
  in another file, opens nothing);
- no live card: the card is opened, 已制卡（库存） in the custody of its bank;
- a live card of ours applied for or in production without a number: that card is made
  (``produced``, with the export's number), not a second one opened;
- a live card of ours still with the bank or the county (in stock, in transit, recovered,
  or in production under another number): the export shows a newer card, so ours is
  closed (``cancelled``, with the reason) and the new one opened;
- a card of ours in the holder's hands (issued, activated, dormant): left as it is. The
  export does not overrule what the holder signed for (issue 8's two witnesses); the
  person is counted and shown, not resolved.

Everything is written in bulk with INSERT … SELECT from temporary tables, inside the
import's transaction: cards, their ledger entries (``_ledger_append``, the one place
that writes them) and one audit row per card opened, made or closed.
"""

from dataclasses import dataclass, fields

from django.db import connection, transaction
from django.utils import timezone

from dayao_sscard.audit import (
    audit_record_from_query,
    audit_record_many,
    json_null,
    json_object_sql,
    snapshot,
)
from dayao_sscard.bulk import bulk_insert, indexes_built_after, reserve_ids
from dayao_sscard.permissions import require
from roster.card_records import MADE_CARDS_TABLE, made_cards_from_records
from roster.models import Person, SourceList

from . import chain
from .models import (
    LIVE_CARD_STATUSES,
    Bank,
    BankBranch,
    Card,
    CardStatus,
    CustodyKind,
    LedgerEntry,
    LedgerEvent,
    ProductionType,
)
from .selectors import bank_spelling, banks_by_spelling
from .services import cards_queue_cancellation

S = CardStatus
# Cards of ours still with the bank or the county: a newer card in the export replaces them.
REPLACEABLE = (S.IN_STOCK, S.IN_TRANSIT, S.RECOVERED, S.APPLIED, S.IN_PRODUCTION)
# Cards in the holder's hands: never downgraded by an export.
HELD = (S.ISSUED, S.ACTIVATED, S.DORMANT)
AWAITING = (S.APPLIED, S.IN_PRODUCTION)
# The plan's actions that open a card.
OPENS = "('open', 'replace')"

CARD = Card._meta.db_table
ENTRY = LedgerEntry._meta.db_table
BANK = Bank._meta.db_table
BRANCH = BankBranch._meta.db_table


@dataclass
class OpeningCounts:
    opened: int = 0
    produced: int = 0
    replaced: int = 0
    held_differs: int = 0
    number_elsewhere: int = 0
    number_repeated: int = 0
    incomplete: int = 0
    banks_created: int = 0
    cancellations_queued: int = 0

    LABELS = {
        "opened": "新建社保卡台账",
        "produced": "已申领的卡登记为制卡完成",
        "replaced": "换发新卡、注销旧卡",
        "held_differs": "已发放的卡与卡务系统不一致（未改动）",
        "number_elsewhere": "卡号已登记在他人名下（未建卡）",
        "number_repeated": "卡号在导出中重复（未建卡）",
        "incomplete": "制卡成功但缺卡号或发卡银行（未建卡）",
        "banks_created": "新增合作银行",
        "cancellations_queued": "持卡人已死亡、列入注销",
    }

    def summary(self) -> dict[str, int]:
        """The counts a clerk reads; the rare ones only when there are any."""
        always = {"opened", "produced", "replaced"}
        return {
            self.LABELS[f.name]: getattr(self, f.name)
            for f in fields(self)
            if f.name in always or getattr(self, f.name)
        }


def cards_open_from_export(
    *,
    snapshot: SourceList,
    acting_user,
    snapshot_ids: list[int] | None = None,
    persons_from: int = 0,
    made_cards_ready: bool = False,
) -> OpeningCounts:
    """Open in our ledger the cards the export shows made for persons on the roster.

    ``snapshot`` is the export being imported, and by default the only one read (a
    partial export: only its persons). A person list passes the effective exports as
    ``snapshot_ids`` and its first new person's key as ``persons_from``, so that persons
    it adds get the card the exports already show. ``acting_user`` None is the operator
    at the command line; the ledger records no user then (shown as 系统导入).

    ``made_cards_ready``: the caller has just written the persons and their current cards
    (``roster.card_records.MADE_CARDS_TABLE``, from the match's own ranks); else they are
    read from the exports' records here.
    """
    if acting_user is not None:
        require(acting_user, "issuance.open_cards_from_export")
    counts = OpeningCounts()
    now = timezone.now()
    file_name = snapshot.file_name
    with transaction.atomic(), connection.cursor() as cursor:
        _sort_in_memory(cursor)
        if not made_cards_ready:
            made_cards_from_records(
                cursor, snapshot_ids or [snapshot.pk], persons_from=persons_from
            )
        counts.incomplete = _drop_incomplete(cursor)
        counts.banks_created = _bank_table(cursor, acting_user)
        _lock_cards(cursor)
        _plan(cursor)
        planned = dict(_plan_counts(cursor))
        counts.number_elsewhere = planned.get("elsewhere", 0)
        counts.number_repeated = planned.get("repeated", 0)
        counts.held_differs = planned.get("held", 0)
        who = acting_user.pk if acting_user is not None and acting_user.pk else None
        if planned.get("replace"):
            counts.replaced = _close_replaced(cursor, who, acting_user, now, file_name)
        if planned.get("produce"):
            counts.produced = _produce_awaiting(cursor, who, acting_user, now, file_name)
        if to_open := planned.get("open", 0) + planned.get("replace", 0):
            # A first export fills the empty card tables: their indexes are built after.
            with indexes_built_after(CARD, ENTRY, foreign_keys_to=(CARD, BANK, BRANCH)):
                counts.opened = _open_new(cursor, who, acting_user, now, file_name, to_open)
        counts.cancellations_queued = _queue_for_the_dead(cursor, acting_user)
        for table in ("opening_plan", "opening_bank", MADE_CARDS_TABLE):
            cursor.execute(f"DROP TABLE {table}")
    return counts


# Per sort or hash of the opening: a million cards' plan sorts in memory instead of in
# temporary files (PostgreSQL's default is 4 MB). Imports run one at a time.
OPENING_WORK_MEM = "64MB"


def _sort_in_memory(cursor) -> None:
    """For the rest of the import's transaction (SET LOCAL ends with it)."""
    if connection.vendor == "postgresql":
        cursor.execute(f"SET LOCAL work_mem = '{OPENING_WORK_MEM}'")


def _drop_incomplete(cursor) -> int:
    """A 制卡成功 record without a card number or a bank names no card to open."""
    cursor.execute(f"DELETE FROM {MADE_CARDS_TABLE} WHERE card_number = '' OR bank_name = ''")
    return cursor.rowcount


def _bank_table(cursor, acting_user) -> int:
    """Each bank name of the export mapped to our Bank (by name, short name or alias);
    a name that matches none becomes a new Bank. Returns how many were created."""
    cursor.execute(f"SELECT DISTINCT bank_name FROM {MADE_CARDS_TABLE}")
    names = [name for (name,) in cursor.fetchall()]
    known = banks_by_spelling()
    new = []
    for name in names:
        if bank_spelling(name) not in known:
            bank = known[bank_spelling(name)] = Bank(name=name.strip())
            new.append(bank)
    if new:
        Bank.objects.bulk_create(new)
        created = Bank.objects.filter(name__in=[bank.name for bank in new])
        for bank in created:
            known[bank_spelling(bank.name)] = bank
        audit_record_many(
            actor=acting_user,
            action="issuance.bank.created",
            changes=[(bank, None, snapshot(bank)) for bank in created],
            note="卡务系统导出中的发卡银行",
        )
    cursor.execute("DROP TABLE IF EXISTS opening_bank")
    cursor.execute(
        "CREATE TEMPORARY TABLE opening_bank "
        "(bank_name varchar(100), bank_id bigint, custodian varchar(100))"
    )
    cursor.executemany(
        "INSERT INTO opening_bank (bank_name, bank_id, custodian) VALUES (%s, %s, %s)",
        [(name, known[bank_spelling(name)].pk, known[bank_spelling(name)].name) for name in names],
    )
    return len(new)


def _lock_cards(cursor) -> None:
    """No clerk applies for, or moves, a card while the plan is made and carried out.

    Taken for the rest of the import's transaction (a clerk's write waits that long).
    """
    if connection.vendor == "postgresql":
        cursor.execute(f"LOCK TABLE {CARD} IN SHARE ROW EXCLUSIVE MODE")


def _plan(cursor) -> None:
    """What to do for each person: open, produce, replace, or nothing and why."""
    live = ", ".join(f"'{status}'" for status in LIVE_CARD_STATUSES)
    held = ", ".join(f"'{status}'" for status in HELD)
    awaiting = ", ".join(f"'{status}'" for status in AWAITING)
    cursor.execute("DROP TABLE IF EXISTS opening_plan")
    # ``place`` numbers the cards to open (the others too, apart), for their keys.
    cursor.execute(
        "CREATE TEMPORARY TABLE opening_plan AS SELECT n.*, ROW_NUMBER() OVER ("
        f"PARTITION BY n.action IN {OPENS} ORDER BY n.person_id) AS place FROM ("
        "SELECT o.person_id, o.township_id, "
        "o.card_number, o.made_on, o.deceased, b.bank_id, b.custodian, "
        f"CASE WHEN o.production_type = '{ProductionType.INSTANT.label}' "
        f"THEN '{ProductionType.INSTANT}' ELSE '{ProductionType.BATCH}' END AS production_type, "
        "l.id AS live_id, l.status AS live_status, l.card_number AS live_number, "
        "CASE WHEN t.id IS NOT NULL AND t.person_id <> o.person_id THEN 'elsewhere' "
        "WHEN t.id IS NOT NULL THEN 'tracked' "
        f"WHEN o.card_number IN (SELECT card_number FROM {MADE_CARDS_TABLE} "
        "  GROUP BY card_number HAVING COUNT(*) > 1) THEN 'repeated' "
        "WHEN l.id IS NULL THEN 'open' "
        f"WHEN l.status IN ({awaiting}) AND l.card_number IS NULL THEN 'produce' "
        f"WHEN l.status IN ({held}) THEN 'held' "
        "ELSE 'replace' END AS action "
        f"FROM {MADE_CARDS_TABLE} o JOIN opening_bank b ON b.bank_name = o.bank_name "
        f"LEFT JOIN {CARD} t ON t.card_number = o.card_number "
        f"LEFT JOIN {CARD} l ON l.person_id = o.person_id AND l.status IN ({live})) n"
    )


def _plan_counts(cursor) -> list[tuple[str, int]]:
    cursor.execute("SELECT action, COUNT(*) FROM opening_plan GROUP BY action")
    return cursor.fetchall()


def _masked(column: str) -> str:
    """A card number as a note shows it: first character, ****, last four."""
    return f"substr({column}, 1, 1) || '****' || substr({column}, length({column}) - 3)"


def _ledger_append(
    cursor,
    rows: str,
    params: list,
    *,
    varying: dict[str, str],
    same: dict[str, object],
    at,
    who,
) -> int:
    """Append ledger entries, one per row of ``rows`` (``FROM … [WHERE …] [ORDER BY …]``):
    the columns in ``varying`` from SQL expressions over it (``params`` fill the
    expressions, then ``rows``, in that order), those in ``same`` one value for all, the
    rest their defaults; all occurred and were recorded ``at``, by ``who`` (a user's key,
    or None). ``card_id`` and ``sequence`` are required.

    The one place the bulk writes of the ledger go through. Each entry is chained to its
    card's last one (none when the sequence is 1) and hashed in the statement itself, with
    the text ``issuance.chain.canonical_text`` gives in Python (``chain.entry_hash_sql``):
    only the varying columns are serialised row by row.
    """
    fixed = {"occurred_at": at, "recorded_at": at, "recorded_by_id": who, **same}
    first = same.get("sequence") == 1
    if first:
        fixed["prev_hash"] = ""
    computed = (*varying, *(() if first else ("prev_hash",)))
    values = _column_values(LedgerEntry, (*computed, "entry_hash"), fixed)
    constants = {
        field.attname: fixed[field.column] if field.column in fixed else field.get_default()
        for field in LedgerEntry._meta.concrete_fields
        if field.column in values
    }
    digest, digest_params = chain.entry_hash_sql(
        {name: f"q.{name}" for name in computed}, constants
    )
    inner = [f"{expression} AS {name}" for name, expression in varying.items()]
    if not first:
        inner.append(
            f"COALESCE((SELECT e.entry_hash FROM {ENTRY} e WHERE e.card_id = {varying['card_id']} "
            "ORDER BY e.sequence DESC LIMIT 1), '') AS prev_hash"
        )
    listed = ", ".join([*values, *computed, "entry_hash"])
    placeholders = ", ".join(["%s"] * len(values))
    cursor.execute(
        f"INSERT INTO {ENTRY} ({listed}) "
        f"SELECT {placeholders}, {', '.join(f'q.{name}' for name in computed)}, {digest} "
        f"FROM (SELECT {', '.join(inner)} {rows}) q",
        [*values.values(), *digest_params, *params],
    )
    return cursor.rowcount


def _column_values(model, columns: tuple[str, ...], fixed: dict) -> dict:
    """Each column of ``model`` not in ``columns`` with its value: ``fixed``'s, else the
    model default's (as the database stores it)."""
    values = dict(fixed)
    for field in model._meta.concrete_fields:
        if field.column in columns or field.column in values or field.primary_key:
            continue
        default = field.get_default() if field.has_default() or not field.null else None
        values[field.column] = field.get_db_prep_save(default, connection)
    return values


def _insert_from_query(
    cursor, model, columns: tuple[str, ...], select: str, params: list, *, fixed: dict
) -> int:
    """INSERT … SELECT into ``model``'s table: ``columns`` from ``select``, ``fixed``
    columns with one value for every row, and every other column its model default.

    Built from the model, so that a field added later (with its default) is not forgotten.
    """
    values = _column_values(model, columns, fixed)
    listed = ", ".join([*values, *columns])
    placeholders = ", ".join(["%s"] * len(values))
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({listed}) "
        f"SELECT {placeholders}, q.* FROM ({select}) q",
        [*values.values(), *params],
    )
    return cursor.rowcount


def _next_sequence(card_id: str) -> str:
    return f"(SELECT MAX(e.sequence) FROM {ENTRY} e WHERE e.card_id = {card_id}) + 1"


def _card_after(card_number: str, bank: str) -> str:
    """An opened or made card as its audit row records it: what a reader of the log asks
    (卡号, 状态, 发卡银行, 保管方). Its holder, custodian and date are on the card itself,
    which keeps them; four keys build in half the time of seven and halve the JSON's
    bytes (heap and WAL) at hundreds of thousands of cards."""
    return json_object_sql(
        {
            "card_number": card_number,
            "status": f"'{S.IN_STOCK}'",
            "bank": bank,
            "custody_kind": f"'{CustodyKind.BANK}'",
        }
    )


def _close_replaced(cursor, who, acting_user, now, file_name: str) -> int:
    """Close (注销) each card of ours the export shows replaced by a newer one."""
    note = f"'卡务系统显示已换发新卡 ' || {_masked('p.card_number')} || %s"
    source = f"（导出文件：{file_name}）"
    closed = json_object_sql({"status": f"'{S.CANCELLED}'"})
    _ledger_append(
        cursor,
        f"FROM opening_plan p JOIN {CARD} c ON c.id = p.live_id WHERE p.action = 'replace'",
        [source],
        varying={
            "card_id": "p.live_id",
            "sequence": _next_sequence("p.live_id"),
            "status_before": "p.live_status",
            "custody_kind": "c.custody_kind",
            "note": note,
        },
        same={"event": LedgerEvent.CANCELLED, "status_after": S.CANCELLED, "to_party": ""},
        at=now,
        who=who,
    )
    audit_record_from_query(
        actor=acting_user,
        action="issuance.card.cancelled",
        query=(
            f"SELECT 'issuance.card', CAST(p.live_id AS TEXT), "
            f"COALESCE(p.live_number, '（未出卡号）') || ' {S.CANCELLED.label}', p.township_id, "
            f"{json_object_sql({'status': 'p.live_status'})}, {closed}, {note} "
            "FROM opening_plan p WHERE p.action = 'replace'"
        ),
        params=[source],
        at=now,
    )
    cursor.execute(
        f"UPDATE {CARD} SET status = %s WHERE id IN "
        "(SELECT live_id FROM opening_plan WHERE action = 'replace')",
        [S.CANCELLED],
    )
    return cursor.rowcount


def _produce_awaiting(cursor, who, acting_user, now, file_name: str) -> int:
    """Our card applied for or in production is the one the export shows made."""
    note = f"卡务系统导出显示制卡成功（导出文件：{file_name}）"
    _ledger_append(
        cursor,
        "FROM opening_plan p WHERE p.action = 'produce'",
        [],
        varying={
            "card_id": "p.live_id",
            "sequence": _next_sequence("p.live_id"),
            "status_before": "p.live_status",
            "to_party": "p.custodian",
        },
        same={
            "event": LedgerEvent.PRODUCED,
            "status_after": S.IN_STOCK,
            "custody_kind": CustodyKind.BANK,
            "note": note,
        },
        at=now,
        who=who,
    )
    cursor.execute(
        f"UPDATE {CARD} SET card_number = p.card_number, bank_id = p.bank_id, status = %s, "
        "made_on = COALESCE(p.made_on, %s), custody_kind = %s, custodian = p.custodian, "
        "custody_location = '', custody_since = %s "
        f"FROM opening_plan p WHERE p.live_id = {CARD}.id AND p.action = 'produce'",
        [S.IN_STOCK, timezone.localdate(now), CustodyKind.BANK, now],
    )
    produced = cursor.rowcount
    audit_record_from_query(
        actor=acting_user,
        action="issuance.card.produced",
        query=(
            f"SELECT 'issuance.card', CAST(c.id AS TEXT), c.card_number || ' {S.IN_STOCK.label}', "
            f"p.township_id, {json_object_sql({'status': 'p.live_status'})}, "
            f"{_card_after('c.card_number', 'c.bank_id')}, %s "
            f"FROM opening_plan p JOIN {CARD} c ON c.id = p.live_id WHERE p.action = 'produce'"
        ),
        params=[note],
        at=now,
    )
    return produced


def _open_new(cursor, who, acting_user, now, file_name: str, count: int) -> int:
    """Open a card, 已制卡（库存） with its bank, with its first ledger entry and audit row.

    The cards' keys are reserved first and given out by the plan's numbering, so the
    entries and audit rows are written from the plan alone, without joining the cards.
    """
    note = f"按卡务系统导出登记：制卡成功（导出文件：{file_name}）"
    new = _new_cards(cursor, count)
    opened = _insert_from_query(
        cursor,
        Card,
        ("id", "person_id", "card_number", "bank_id", "production_type", "made_on", "custodian"),
        "SELECT card_id, person_id, card_number, bank_id, production_type, "
        f"COALESCE(made_on, %s), custodian {new} ORDER BY card_id",
        [timezone.localdate(now)],
        fixed={
            "status": S.IN_STOCK,
            "custody_kind": CustodyKind.BANK,
            "custody_since": now,
            "created_at": now,
        },
    )
    # The card had no status in our ledger before it: its first entry starts from none.
    _ledger_append(
        cursor,
        f"{new} ORDER BY card_id",
        [],
        varying={"card_id": "card_id", "to_party": "custodian"},
        same={
            "sequence": 1,
            "event": LedgerEvent.PRODUCED,
            "status_before": "",
            "status_after": S.IN_STOCK,
            "custody_kind": CustodyKind.BANK,
            "note": note,
        },
        at=now,
        who=who,
    )
    after = _card_after("card_number", "bank_id")
    audit_record_from_query(
        actor=acting_user,
        action="issuance.card.opened_from_export",
        query=(
            f"SELECT 'issuance.card', CAST(card_id AS TEXT), card_number || ' {S.IN_STOCK.label}', "
            f"township_id, {json_null()}, {after}, %s {new}"
        ),
        params=[note],
        at=now,
    )
    cursor.execute("DROP TABLE IF EXISTS opening_keys")
    return opened


def _new_cards(cursor, count: int) -> str:
    """FROM … the plan's cards to open, each with ``card_id``, a key reserved from the
    card table's own sequence. Cards and entries are written in key order (``ORDER BY
    card_id``: the card's primary key and the entries' (card, sequence) index grow at
    their ends); the audit rows need no order, and not sorting them saves 0.25 s a
    million-row export."""
    keys = reserve_ids(CARD, count)
    if isinstance(keys, range):
        # An integer, so written into the statement.
        return (
            f"FROM (SELECT p.*, p.place + {int(keys.start) - 1} AS card_id FROM opening_plan p "
            f"WHERE p.action IN {OPENS}) n"
        )
    # Another session drew keys at the same moment: the ones we got, one by one.
    cursor.execute("DROP TABLE IF EXISTS opening_keys")
    cursor.execute("CREATE TEMPORARY TABLE opening_keys (place bigint, card_id bigint)")
    bulk_insert("opening_keys", ("place", "card_id"), enumerate(keys, start=1))
    return (
        "FROM (SELECT p.*, k.card_id FROM opening_plan p JOIN opening_keys k "
        f"ON k.place = p.place WHERE p.action IN {OPENS}) n"
    )


def _queue_for_the_dead(cursor, acting_user) -> int:
    """A card made for a holder registered dead is queued for 注销 at once, as the death
    list does for the cards it finds."""
    cursor.execute(
        "SELECT person_id FROM opening_plan WHERE deceased AND (action = 'produce' "
        f"OR action IN {OPENS})"
    )
    dead = [pk for (pk,) in cursor.fetchall()]
    if not dead:
        return 0
    return cards_queue_cancellation(
        persons=list(Person.objects.filter(pk__in=dead)), acting_user=acting_user
    )
