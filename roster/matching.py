"""Classify every person against the most recent card-system export (数据比对).

Rules: a record whose 卡状态 is 注销 does not count; then 制卡成功 → 已制卡, else
制卡中/已申领 → 制卡中, else 制卡失败 → 制卡失败 (keeping the most recent reason),
else 无制卡信息. Done in SQL over the whole table, so it is idempotent and fast;
every change of class is kept as a ClassificationChange row.
"""

from django.db import connection, transaction
from django.utils import timezone

from dayao_sscard.audit import audit_record
from dayao_sscard.bulk import analyse

from .models import CardClass, ListKind, SourceList

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
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM roster_classificationchange")
        last_change_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO roster_classificationchange (snapshot_id, person_id, previous_class, "
            "new_class, new_failure_reason, changed_at) "
            f"SELECT %s, p.id, p.card_class, {_RANK_TO_CLASS}, {_REASON}, %s "
            "FROM roster_person p LEFT JOIN match_rank r ON r.id_number = p.id_number "
            f"WHERE p.card_class <> {_RANK_TO_CLASS} "
            f"OR p.card_failure_reason <> {_REASON}",
            [snapshot.pk, now],
        )
        changed = cursor.rowcount
        cursor.execute(
            "UPDATE roster_person SET card_class = c.new_class, "
            "card_failure_reason = c.new_failure_reason, classified_at = %s "
            "FROM roster_classificationchange c "
            "WHERE c.person_id = roster_person.id AND c.id > %s",
            [now, last_change_id],
        )
        cursor.execute("DROP TABLE match_rank")
        counts = {"变化人数": changed}
        audit_record(
            actor=acting_user,
            action="roster.sourcelist.classified",
            obj=snapshot,
            after=counts,
            note="按最新卡务系统导出重新比对全部人员",
        )
    return counts


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
    cursor.execute("CREATE INDEX match_rank_id ON match_rank (id_number)")
    analyse("match_rank")
