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
"""

from django.db import connection, transaction
from django.utils import timezone

from dayao_sscard.audit import audit_record
from dayao_sscard.bulk import analyse

from ..models import CardClass, ListKind, PersonClass, SourceList

SUCCESS = ("制卡成功",)
IN_PRODUCTION = ("制卡中", "已申领")
FAILED = ("制卡失败",)
CANCELLED = "注销"

_RANK_TO_CLASS = (
    f"CASE r.rank WHEN 3 THEN '{CardClass.CARD_MADE}' WHEN 2 THEN '{CardClass.IN_PRODUCTION}' "
    f"WHEN 1 THEN '{CardClass.CARD_FAILED}' ELSE '{CardClass.NO_CARD_INFO}' END"
)
_REASON = "CASE WHEN r.rank = 1 THEN COALESCE(r.reason, '') ELSE '' END"


def latest_snapshot() -> SourceList | None:
    return (
        SourceList.objects.filter(kind=ListKind.CARD_EXPORT).order_by("-imported_at", "-id").first()
    )


def classify_all(*, acting_user=None) -> dict:
    """Re-classify everyone against the latest export; returns counts of what changed."""
    snapshot = latest_snapshot()
    if snapshot is None:
        return {}
    with transaction.atomic(), connection.cursor() as cursor:
        _build_ranks(cursor, snapshot.pk)
        now = timezone.now()
        if not PersonClass.objects.exists():
            first = _classify_first_time(cursor, snapshot.pk, now)
            return _finish(cursor, snapshot, acting_user, changed=0, first=first)
        _build_new_classes(cursor)
        cursor.execute(
            "INSERT INTO roster_classificationchange (snapshot_id, person_id, previous_class, "
            "new_class, new_failure_reason, changed_at) "
            "SELECT %s, m.person_id, m.old_class, m.card_class, m.failure_reason, %s "
            "FROM match_new m WHERE m.known",
            [snapshot.pk, now],
        )
        changed = cursor.rowcount
        if changed:
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
        return _finish(cursor, snapshot, acting_user, changed=changed, first=first)


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


def _finish(cursor, snapshot, acting_user, *, changed: int, first: int) -> dict:
    cursor.execute("DROP TABLE match_rank")
    counts = {"变化人数": changed, "首次比对人数": first}
    audit_record(
        actor=acting_user,
        action="roster.sourcelist.classified",
        obj=snapshot,
        after=counts,
        note="按最新卡务系统导出重新比对全部人员",
    )
    return counts


def _build_new_classes(cursor) -> None:
    """The persons with a result to write: new class and reason beside the current ones.

    Only persons never classified (``known`` false) or whose class or reason changed are
    kept: a re-match of a million unchanged persons then writes nothing here. ANALYZE
    counts the two kinds, so the planner knows whether a handful or a million results
    are to be updated or added.
    """
    cursor.execute("DROP TABLE IF EXISTS match_new")
    cursor.execute(
        "CREATE TEMPORARY TABLE match_new AS SELECT * FROM ("
        f"  SELECT p.id AS person_id, {_RANK_TO_CLASS} AS card_class, "
        f"  {_REASON} AS failure_reason, c.card_class AS old_class, "
        "  c.failure_reason AS old_reason, (c.person_id IS NOT NULL) AS known "
        "  FROM roster_person p LEFT JOIN match_rank r ON r.id_number = p.id_number "
        "  LEFT JOIN roster_personclass c ON c.person_id = p.id"
        ") n WHERE NOT n.known OR n.card_class <> n.old_class "
        "OR n.failure_reason <> n.old_reason"
    )
    analyse("match_new")


def _build_ranks(cursor, snapshot_id: int) -> None:
    """Per ID number: the best status among live records, and the latest failure reason."""
    cursor.execute("DROP TABLE IF EXISTS match_rank")
    status_rank = (
        "CASE WHEN production_status IN ('制卡成功') THEN 3 "
        "WHEN production_status IN ('制卡中', '已申领') THEN 2 "
        "WHEN production_status IN ('制卡失败') THEN 1 ELSE 0 END"
    )
    cursor.execute(
        "CREATE TEMPORARY TABLE match_rank AS "
        "SELECT id_number, MAX(rank) AS rank, MAX(CASE WHEN rank = 1 AND latest = 1 "
        "THEN failure_reason END) AS reason FROM ("
        f"  SELECT id_number, failure_reason, {status_rank} AS rank, "
        f"  ROW_NUMBER() OVER (PARTITION BY id_number, {status_rank} "
        "    ORDER BY made_on DESC NULLS LAST, row_number DESC) AS latest "
        "  FROM roster_cardsystemrecord WHERE snapshot_id = %s AND card_status <> %s"
        ") ranked GROUP BY id_number",
        [snapshot_id, CANCELLED],
    )
    # No index: the one join that reads it hashes the whole table (0.5 s per million saved).
    analyse("match_rank")
