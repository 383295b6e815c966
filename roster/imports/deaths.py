"""死亡人员名单 (civil affairs cremation data, police household cancellations).

The living people named are marked deceased, as ``person_mark_deceased`` would, and their
live cards are queued for 注销. A row whose name differs from the system's is reported,
not applied: a wrong ID number must not cancel a living person's card.
"""

from django.utils import timezone

from dayao_sscard.audit import changed_fields, snapshot
from issuance.services import cards_queue_cancellation

from ..id_numbers import birth_date_from_id
from ..models import VitalStatus
from .base import ImportResult, cell_value, numbered_rows
from .known_persons import (
    DUPLICATE,
    SPACES,
    KnownRow,
    identified_row,
    person_found,
    persons_locked,
    save_all_audited,
)
from .tables import cell_date, cell_text


def deaths_write(
    tables, source_list, result: ImportResult, progress, total, *, acting_user
) -> None:
    """Write a death list; called by ``list_import`` inside its transaction."""
    rows = _death_rows(tables, source_list, result, progress, total)
    progress(total, total, "正在登记死亡人员", force=True)
    _write_deaths(rows, source_list, result, acting_user)


def _death_rows(tables, source_list, result: ImportResult, progress, total) -> list[KnownRow]:
    today = timezone.localdate()
    rows: dict[str, KnownRow] = {}
    for table, number, cells in numbered_rows(tables, result, progress, total):
        row = identified_row(table, number, cells, result)
        if row is None:
            continue
        raw_date = cell_value(cells, table.columns, "death_date")
        death_date = cell_date(raw_date)
        reason = None
        if not cell_text(raw_date):
            reason = "缺少死亡日期"
        elif death_date is None:
            reason = f"死亡日期无法识别：{cell_text(raw_date)[:50]}"
        elif death_date > today:
            reason = f"死亡日期晚于今天：{death_date:%Y-%m-%d}"
        elif (born := birth_date_from_id(row.id_number)) and death_date < born:
            reason = f"死亡日期早于出生日期：{death_date:%Y-%m-%d}"
        if reason:
            result.problems.append(row.problem(reason))
            continue
        if row.id_number in rows:
            result.duplicates += 1
            result.duplicate_rows.append(row.problem(DUPLICATE))
            continue
        source = cell_text(cell_value(cells, table.columns, "death_source")) or source_list.source
        row.values = {"death_date": death_date, "source": source[:100]}
        rows[row.id_number] = row
    return list(rows.values())


DEATH_FIELDS = ["vital_status", "death_date", "death_source", "death_note"]


def _write_deaths(rows: list[KnownRow], source_list, result: ImportResult, acting_user) -> None:
    persons = persons_locked((r.id_number for r in rows), acting_user)
    now = timezone.now()
    changes, marked = [], []
    for row in rows:
        person = person_found(row, persons, result, acting_user=acting_user)
        if person is None:
            result.not_found += 1
            continue
        if person.is_deceased:
            result.deaths_already += 1
            continue
        if row.name and SPACES.sub("", row.name) != SPACES.sub("", person.name):
            # Matching is by ID number, but a different name means a wrong number is likely:
            # marking the wrong person dead would cancel a living person's card.
            result.problems.append(
                row.problem(
                    f"姓名与系统不一致（系统中为{person.name}），未登记死亡", person.township_id
                )
            )
            continue
        before = snapshot(person, DEATH_FIELDS)
        person.vital_status = VitalStatus.DECEASED
        person.death_date = row.values["death_date"]
        person.death_source = row.values["source"]
        person.death_note = f"名单导入：{source_list.file_name} 第{row.number}行"[:500]
        person.version += 1
        person.updated_at = now
        old, new = changed_fields(before, snapshot(person, DEATH_FIELDS))
        changes.append((person, old, new))
        marked.append(person)
    save_all_audited(
        changes,
        acting_user=acting_user,
        action="roster.person.marked_deceased",
        note=f"死亡人员名单导入：{source_list.source}",
    )
    result.deaths_marked = len(marked)
    result.cancellations_queued = cards_queue_cancellation(persons=marked, acting_user=acting_user)
