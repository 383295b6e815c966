"""Classify every person against the most recent card-system export (数据比对).

Rules: a record whose 卡状态 is 注销 does not count; then 制卡成功 → 已制卡, else
制卡中/已申领 → 制卡中, else 制卡失败 → 制卡失败 (keeping the most recent reason),
else 无制卡信息.

Done in set-based SQL over the whole county, so it is idempotent and fast. Results
live in roster_personclass, one narrow row per classified person (no row is 未比对):
the match never rewrites the wide roster_person row. It first works out, into a
temporary table, the persons whose class or failure reason changed and those never
classified; then it updates the former (each change is kept as a ClassificationChange
row) and adds results for the latter, whose first class is not a change.

A whole-county classification records what it was worked out from (ClassificationInputs);
one whose inputs are the same would write nothing, and reports that without comparing.
"""

import hashlib

from django.db import connection, transaction
from django.utils import timezone

from dayao_sscard.audit import audit_record
from dayao_sscard.bulk import analyse
from issuance.models import CARD_MADE_STATUSES, Card

from ..card_records import (
    CURRENT_FIRST,
    FAILED,
    IN_PRODUCTION,
    MADE_CARD_COLUMNS,
    SUCCESS,
    effective_records,
    quoted,
)
from ..models import (
    CardClass,
    ClassificationInputs,
    ListKind,
    Person,
    PersonClass,
    SourceList,
)
from ..progress import figures_rebuild
from ..witnesses import DISAGREEMENT, card_class_q

_RANK_TO_CLASS = (
    f"CASE r.rank WHEN 3 THEN '{CardClass.CARD_MADE}' WHEN 2 THEN '{CardClass.IN_PRODUCTION}' "
    f"WHEN 1 THEN '{CardClass.CARD_FAILED}' ELSE '{CardClass.NO_CARD_INFO}' END"
)
_REASON = "CASE WHEN r.rank = 1 THEN COALESCE(r.reason, '') ELSE '' END"


def latest_snapshot(*, excluding: SourceList | None = None) -> SourceList | None:
    """The latest export that covers the whole county (a partial one only adds to it);
    ``excluding`` one, e.g. the export being imported, to find the one before it."""
    exports = SourceList.objects.filter(kind=ListKind.CARD_EXPORT, is_partial=False)
    if excluding is not None:
        exports = exports.exclude(pk=excluding.pk)
    return exports.order_by("-imported_at", "-id").first()


def effective_snapshot_ids() -> list[int]:
    """The latest complete export and the partial exports imported after it, oldest first.

    A person named in a partial export is compared with their records in the newest export
    that names them; everyone else with the complete one.
    """
    base = latest_snapshot()
    partial = SourceList.objects.filter(kind=ListKind.CARD_EXPORT, is_partial=True)
    if base is not None:
        partial = partial.filter(pk__gt=base.pk)
    later = list(partial.order_by("pk").values_list("pk", flat=True))
    return ([base.pk] if base is not None else []) + later


def persons_known_with_card() -> int:
    """Persons the county already knows hold a made card, by either witness."""
    return Person.objects.filter(card_class_q(CardClass.CARD_MADE)).count()


def disagreement_count() -> int:
    """Persons our ledger shows a made card for while their export says otherwise."""
    return Person.objects.filter(card_class_q(DISAGREEMENT)).count()


def classify_all(
    *,
    acting_user=None,
    only_snapshot: SourceList | None = None,
    keep_ranks: bool = False,
    recount: bool = True,
) -> dict:
    """Re-classify everyone against the effective exports; returns counts of what changed.

    With ``only_snapshot`` (a partial export) only the persons it names are re-compared.
    ``keep_ranks`` leaves the ranks (``match_rank``) for the caller to open the cards they
    show made (``made_cards_from_ranks``), who drops them. ``recount`` False leaves the
    progress counters to a caller who recounts the county after further writes.
    """
    snapshot_ids = effective_snapshot_ids()
    if not snapshot_ids:
        return {}
    snapshot = only_snapshot or SourceList.objects.get(pk=snapshot_ids[-1])
    with transaction.atomic(), connection.cursor() as cursor:
        if only_snapshot is not None:
            ClassificationInputs.objects.all().delete()
            persons = None
        else:
            persons, _ = _persons_digest(cursor)
            recorded = _recorded_inputs()
            if recorded and recorded == _inputs_digest(cursor, snapshot_ids, persons):
                if keep_ranks:
                    _build_ranks(cursor, snapshot_ids)
                return _finish(cursor, snapshot, acting_user, changed=0, first=0, drop_ranks=False)
        _build_ranks(cursor, snapshot_ids)
        now = timezone.now()
        if only_snapshot is None and not PersonClass.objects.exists():
            first = _classify_first_time(cursor, snapshot.pk, now)
            _record_inputs(cursor, snapshot_ids, persons)
            return _finish(
                cursor,
                snapshot,
                acting_user,
                changed=0,
                first=first,
                drop_ranks=not keep_ranks,
                recount=recount,
            )
        _build_new_classes(cursor, only_snapshot_id=only_snapshot.pk if only_snapshot else None)
        # A person our ledger shows a made card for keeps 已制卡 whatever the export says
        # (the disagreement is shown apart), so the export's new word is no change of class.
        cursor.execute(
            "INSERT INTO roster_classificationchange (snapshot_id, person_id, previous_class, "
            "new_class, new_failure_reason, changed_at) "
            "SELECT %s, m.person_id, m.old_class, m.card_class, m.failure_reason, %s "
            "FROM match_new m WHERE m.known AND NOT m.made_here",
            [snapshot.pk, now],
        )
        changed = cursor.rowcount
        cursor.execute(
            "UPDATE roster_personclass SET card_class = m.card_class, "
            "failure_reason = m.failure_reason, snapshot_id = %s, classified_at = %s "
            "FROM match_new m WHERE m.person_id = roster_personclass.person_id AND m.known",
            [snapshot.pk, now],
        )
        # The rows to add are chosen by the flag worked out before this statement, not by an
        # anti-join against the table being filled, which PostgreSQL would plan from
        # statistics that saw it empty. In key order, each row goes to the right-hand end of
        # the primary key: about a third less time than scattered inserts at a million rows.
        cursor.execute(
            "INSERT INTO roster_personclass (person_id, card_class, failure_reason, "
            "snapshot_id, classified_at) "
            "SELECT m.person_id, m.card_class, m.failure_reason, %s, %s "
            "FROM match_new m WHERE NOT m.known ORDER BY m.person_id",
            [snapshot.pk, now],
        )
        first = cursor.rowcount
        cursor.execute("DROP TABLE match_new")
        if persons is not None:
            _record_inputs(cursor, snapshot_ids, persons)
        return _finish(
            cursor,
            snapshot,
            acting_user,
            changed=changed,
            first=first,
            drop_ranks=not keep_ranks,
            recount=recount,
        )


def _persons_digest(cursor, *, below: int | None = None) -> tuple[str, str]:
    """The persons as a classification sees them: how many, the newest key, and every
    (key, ID number) pair folded into one value; both for all persons and for those whose
    key is below ``below``, read at one moment.

    Read from the rows themselves, not from ``updated_at``: that is stamped by Python
    before the row is written, so an edit committed late can carry an older time than
    one already seen. On PostgreSQL the pairs are summed as 64-bit hashes (one pass, about
    0.03 s for 300,000 persons; a changed pair goes unnoticed with odds of 1 in 2^64).
    """
    limit = below if below is not None else 0
    if connection.vendor == "postgresql":
        below_it = "FILTER (WHERE id < %s)"
        cursor.execute(
            "SELECT COUNT(*), MAX(id), SUM(hashtextextended(id_number, id)), "
            f"COUNT(*) {below_it}, MAX(id) {below_it}, "
            f"SUM(hashtextextended(id_number, id)) {below_it} FROM roster_person",
            [limit] * 3,
        )
        row = cursor.fetchone()
        return repr(row[:3]), repr(row[3:])
    every, lower = hashlib.sha256(), hashlib.sha256()
    cursor.execute("SELECT id, id_number FROM roster_person ORDER BY id")
    for pk, id_number in cursor.fetchall():
        pair = f"{pk}:{id_number};".encode()
        every.update(pair)
        if pk < limit:
            lower.update(pair)
    return every.hexdigest(), lower.hexdigest()


def _inputs_digest(cursor, snapshot_ids: list[int], persons: str, *, below: int | None = None):
    """Everything a whole-county classification reads, and what it leaves behind.

    An export's records never change once imported, so its key stands for them. The count
    of results catches results removed behind the match's back (deleting an export
    removes the results classified against it, and their persons are 未比对 again).
    """
    if below is None:
        cursor.execute("SELECT COUNT(*) FROM roster_personclass")
    else:
        cursor.execute("SELECT COUNT(*) FROM roster_personclass WHERE person_id < %s", [below])
    (results,) = cursor.fetchone()
    return hashlib.sha256(repr((snapshot_ids, persons, results)).encode()).hexdigest()


def _recorded_inputs() -> str | None:
    return ClassificationInputs.objects.values_list("digest", flat=True).first()


def _record_inputs(cursor, snapshot_ids: list[int], persons: str) -> None:
    """Remember the inputs read at the start of this classification.

    The persons are those read before the comparison: a person changed while it ran
    makes the next match compare again. The count of results is taken now, after the
    classification wrote its own.
    """
    ClassificationInputs.objects.update_or_create(
        pk=1,
        defaults={
            "digest": _inputs_digest(cursor, snapshot_ids, persons),
            "recorded_at": timezone.now(),
        },
    )


def classify_unclassified(
    *,
    acting_user=None,
    person_ids_from: int = 0,
    keep_ranks: bool = False,
    recount: bool = True,
) -> dict:
    """Classify the persons who have no result yet against the effective exports.

    What a person list needs: it adds persons and fills in blanks, but changes no one's ID
    number and no export, so every result already written stands. Only the newcomers'
    records are ranked (a tenth of the work of ``classify_all`` for a list of a tenth of
    the county); exports still re-compare everyone. A list passes its first new key as
    ``person_ids_from``, so that only its own persons are looked at.
    """
    snapshot_ids = effective_snapshot_ids()
    if not snapshot_ids:
        return {}
    snapshot = SourceList.objects.get(pk=snapshot_ids[-1])
    with transaction.atomic(), connection.cursor() as cursor:
        # If the county was wholly classified before this list's persons came (the inputs
        # recorded then are those of the persons below its first key), it is again once
        # they are, and a ``match`` after it has nothing to do.
        recorded = _recorded_inputs()
        if recorded:
            persons, before = _persons_digest(cursor, below=person_ids_from)
            was_classified = recorded == _inputs_digest(
                cursor, snapshot_ids, before, below=person_ids_from
            )
        else:
            was_classified = False
        ClassificationInputs.objects.all().delete()
        cursor.execute("DROP TABLE IF EXISTS match_pending")
        cursor.execute(
            "CREATE TEMPORARY TABLE match_pending AS SELECT p.id AS person_id, p.id_number "
            "FROM roster_person p WHERE p.id >= %s AND NOT EXISTS "
            "(SELECT 1 FROM roster_personclass c WHERE c.person_id = p.id)",
            [person_ids_from],
        )
        analyse("match_pending")
        _build_ranks(cursor, snapshot_ids, of_id_numbers="SELECT id_number FROM match_pending")
        cursor.execute(
            "INSERT INTO roster_personclass (person_id, card_class, failure_reason, "
            f"snapshot_id, classified_at) SELECT p.person_id, {_RANK_TO_CLASS}, {_REASON}, "
            "%s, %s FROM match_pending p LEFT JOIN match_rank r ON r.id_number = p.id_number "
            "ORDER BY p.person_id",
            [snapshot.pk, timezone.now()],
        )
        first = cursor.rowcount
        cursor.execute("DROP TABLE match_pending")
        if was_classified:
            _record_inputs(cursor, snapshot_ids, persons)
        return _finish(
            cursor,
            snapshot,
            acting_user,
            changed=0,
            first=first,
            note="按最新卡务系统导出比对尚无比对结果的人员",
            drop_ranks=not keep_ranks,
            recount=recount,
        )


def _classify_first_time(cursor, snapshot_id: int, now) -> int:
    """The first export ever: every person is new, so there is nothing to compare.

    Written straight from the join, without the comparison table: 2 s less per million.
    """
    cursor.execute(
        "INSERT INTO roster_personclass (person_id, card_class, failure_reason, "
        f"snapshot_id, classified_at) SELECT p.id, {_RANK_TO_CLASS}, {_REASON}, %s, %s "
        "FROM roster_person p LEFT JOIN match_rank r ON r.id_number = p.id_number ORDER BY p.id",
        [snapshot_id, now],
    )
    return cursor.rowcount


def _finish(
    cursor,
    snapshot,
    acting_user,
    *,
    changed: int,
    first: int,
    note: str = "按最新卡务系统导出重新比对全部人员",
    drop_ranks: bool = True,
    recount: bool = False,
) -> dict:
    if drop_ranks:
        cursor.execute("DROP TABLE match_rank")
    counts = {"变化人数": changed, "首次比对人数": first}
    if recount and (changed or first):
        figures_rebuild()
    audit_record(
        actor=acting_user,
        action="roster.sourcelist.classified",
        obj=snapshot,
        after=counts,
        note=note,
    )
    return counts


def _build_new_classes(cursor, *, only_snapshot_id: int | None = None) -> None:
    """The persons with a result to write: new class and reason beside the current ones.

    Only persons never classified (``known`` false) or whose class or reason changed are
    kept: a re-match of a million unchanged persons then writes nothing here. ANALYZE
    counts the two kinds, so the planner knows whether a handful or a million results
    are to be updated or added. ``made_here``: our ledger holds a made card for them.
    """
    cursor.execute("DROP TABLE IF EXISTS match_new")
    params: list = list(CARD_MADE_STATUSES)
    only = ""
    if only_snapshot_id is not None:
        only = (
            "WHERE p.id_number IN (SELECT id_number FROM roster_cardsystemrecord "
            "WHERE snapshot_id = %s)"
        )
        params.append(only_snapshot_id)
    statuses = ", ".join(["%s"] * len(CARD_MADE_STATUSES))
    cursor.execute(
        "CREATE TEMPORARY TABLE match_new AS SELECT * FROM ("
        f"  SELECT p.id AS person_id, {_RANK_TO_CLASS} AS card_class, "
        f"  {_REASON} AS failure_reason, c.card_class AS old_class, "
        "  c.failure_reason AS old_reason, (c.person_id IS NOT NULL) AS known, "
        f"  p.id IN (SELECT person_id FROM {Card._meta.db_table} WHERE status IN ({statuses})) "
        "  AS made_here "
        "  FROM roster_person p LEFT JOIN match_rank r ON r.id_number = p.id_number "
        f"  LEFT JOIN roster_personclass c ON c.person_id = p.id {only}"
        ") n WHERE NOT n.known OR n.card_class <> n.old_class "
        "OR n.failure_reason <> n.old_reason",
        params,
    )
    analyse("match_new")


def _build_ranks(cursor, snapshot_ids: list[int], *, of_id_numbers: str = "") -> None:
    """Per ID number: the best status among live records, the latest failure reason, and
    the card of the current 制卡成功 record.

    With partial exports after the complete one, each ID number's records come from the
    newest export that names it. ``of_id_numbers``, a query, limits it to those numbers.
    """
    cursor.execute("DROP TABLE IF EXISTS match_rank")
    status_rank = (
        f"CASE WHEN production_status IN ({quoted(SUCCESS)}) THEN 3 "
        f"WHEN production_status IN ({quoted(IN_PRODUCTION)}) THEN 2 "
        f"WHEN production_status IN ({quoted(FAILED)}) THEN 1 ELSE 0 END"
    )
    records, params = effective_records(snapshot_ids, of_id_numbers=of_id_numbers)
    # The current 制卡成功 record's card, for the ledger to open (made_cards_from_ranks).
    made = ", ".join(
        f"MAX(CASE WHEN rank = 3 AND latest = 1 THEN {column} END) AS {column}"
        for column in MADE_CARD_COLUMNS.split(", ")
    )
    cursor.execute(
        "CREATE TEMPORARY TABLE match_rank AS "
        "SELECT id_number, MAX(rank) AS rank, MAX(CASE WHEN rank = 1 AND latest = 1 "
        f"THEN failure_reason END) AS reason, {made} FROM ("
        f"  SELECT id_number, failure_reason, {status_rank} AS rank, {MADE_CARD_COLUMNS}, "
        f"  ROW_NUMBER() OVER (PARTITION BY id_number, {status_rank} "
        f"    ORDER BY {CURRENT_FIRST}) AS latest "
        f"  FROM {records}"
        ") ranked GROUP BY id_number",
        params,
    )
    # No index: the one join that reads it hashes the whole table (0.5 s per million saved).
    analyse("match_rank")
