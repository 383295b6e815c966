"""12333采集结果 (the mini-program's collection results).

Blanks are filled, equal values left alone, and a value that differs becomes a
``CollectionConflict`` for a clerk (采集冲突); the system's value is never overwritten
silently. Runs inside ``list_import``'s single transaction, after every row was read and
checked: each changed person gets one UPDATE of just the changed columns, audit rows go
in batches.
"""

import datetime
import re

from django.utils import timezone

from dayao_sscard.audit import changed_fields, snapshot

from ..models import CollectionConflict, Person
from ..validators import normalize_phone, phone_problem
from ..verification import verification_status_for
from .base import ImportResult, cell_value, numbered_rows
from .known_persons import (
    DUPLICATE,
    LOOKUP_CHUNK,
    SPACES,
    KnownRow,
    chunks,
    identified_row,
    person_found,
    persons_locked,
    save_all_audited,
)
from .tables import cell_date, cell_text


def collection_write(
    tables, source_list, result: ImportResult, progress, total, *, acting_user
) -> None:
    """Write 12333 results; called by ``list_import`` inside its transaction."""
    rows = _collection_rows(tables, result, progress, total)
    progress(total, total, "正在写入采集结果", force=True)
    _write_collection(rows, source_list, result, acting_user)


# The 12333 fields, each held as the text a clerk reads ("男", "2035-03-01", "长期").
COLLECTION_FIELDS = (
    "name",
    "gender",
    "ethnicity",
    "nationality",
    "occupation",
    "phone",
    "address",
    "id_valid_from",
    "id_valid_until",
)
TRACKED_FIELDS = (
    *COLLECTION_FIELDS,
    "id_valid_long_term",
    "photo_on_12333",
    "verification_status",
)
LONG_TERM = "长期"
_GENDERS = {
    "男": "male",
    "男性": "male",
    "1": "male",
    "女": "female",
    "女性": "female",
    "2": "female",
}
_GENDER_LABELS = {"male": "男", "female": "女"}
_NATIONALITIES = {"中华人民共和国": "中国", "CHN": "中国", "中国籍": "中国"}
_PHOTO_YES = {"已采集", "是", "有", "已上传", "已采", "√", "1"}
_PHOTO_NO = {"未采集", "否", "无", "未上传", "未采", "×", "0"}
_DATE_IN_TEXT = re.compile(r"(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))")


def _collection_rows(tables, result: ImportResult, progress, total) -> list[KnownRow]:
    rows: dict[str, KnownRow] = {}
    for table, number, cells in numbered_rows(tables, result, progress, total):
        row = identified_row(table, number, cells, result)
        if row is None:
            continue
        values, errors = _collected_values(cells, table.columns)
        if errors:
            result.problems.append(row.problem("；".join(errors)[:200]))
            continue
        row.values = values
        row.collected_at = cell_date(cell_value(cells, table.columns, "collected_at"))
        earlier = rows.get(row.id_number)
        if earlier is not None:
            # Collected twice: the later collection wins, the other row is reported.
            later = (
                row.collected_at
                and earlier.collected_at
                and row.collected_at > earlier.collected_at
            )
            kept, dropped = (row, earlier) if later else (earlier, row)
            rows[row.id_number] = kept
            result.duplicates += 1
            result.duplicate_rows.append(
                dropped.problem(
                    "同一人在本文件中重复出现，已按采集时间较晚的一行导入" if later else DUPLICATE
                )
            )
            continue
        rows[row.id_number] = row
    return list(rows.values())


def _collected_values(cells: list, columns: dict[str, int]) -> tuple[dict, list[str]]:
    """The row's non-empty 12333 values as display text, and what could not be read."""
    values: dict = {}
    errors: list[str] = []

    def text(name: str) -> str:
        return cell_text(cell_value(cells, columns, name))

    for name in ("name", "ethnicity", "occupation", "address", "nationality"):
        value = text(name)
        if name == "name":
            value = SPACES.sub("", value)
        if name == "nationality":
            value = _NATIONALITIES.get(value, value)
        if not value:
            continue
        limit = Person._meta.get_field(name).max_length
        if len(value) > limit:
            errors.append(f"{field_label(name)}超过{limit}个字")
            continue
        values[name] = value
    if gender := text("gender"):
        if gender in _GENDERS:
            values["gender"] = _GENDER_LABELS[_GENDERS[gender]]
        else:
            errors.append(f"性别无法识别：{gender[:20]}")
    if phone := normalize_phone(text("phone")):
        if problem := phone_problem(phone):
            errors.append(f"{problem}：{phone[:20]}")
        else:
            values["phone"] = phone
    errors.extend(_validity_values(cells, columns, values))
    if photo := text("photo_status"):
        if photo in _PHOTO_YES:
            values["photo_on_12333"] = True
        elif photo not in _PHOTO_NO:
            errors.append(f"照片状态无法识别：{photo[:20]}")
    return values, errors


def _validity_values(cells: list, columns: dict[str, int], values: dict) -> list[str]:
    start = until = None
    combined = cell_text(cell_value(cells, columns, "id_validity"))
    if combined:
        parsed = _parse_validity(combined)
        if parsed is None:
            return [f"证件有效期限无法识别：{combined[:40]}"]
        start, until = parsed
    raw_start = cell_value(cells, columns, "id_valid_from")
    if cell_text(raw_start):
        start = cell_date(raw_start)
        if start is None:
            return [f"证件有效期起始日期无法识别：{cell_text(raw_start)[:20]}"]
    raw_until = cell_value(cells, columns, "id_valid_until")
    if cell_text(raw_until):
        until = LONG_TERM if LONG_TERM in cell_text(raw_until) else cell_date(raw_until)
        if until is None:
            return [f"证件有效期截止日期无法识别：{cell_text(raw_until)[:20]}"]
    if start and isinstance(until, datetime.date) and until <= start:
        return ["证件有效期截止日期早于起始日期"]
    if start:
        values["id_valid_from"] = start.isoformat()
    if until:
        values["id_valid_until"] = until if until == LONG_TERM else until.isoformat()
    return []


def _parse_validity(text: str) -> tuple[datetime.date | None, datetime.date | str | None] | None:
    """ "2015.03.01-2035.03.01", "2015-03-01至长期", "20150301-20350301", "长期"."""
    dates = []
    for match in _DATE_IN_TEXT.finditer(text):
        year, month, day, month8, day8 = match.groups()
        try:
            dates.append(datetime.date(int(year), int(month or month8), int(day or day8)))
        except ValueError:
            return None
    if LONG_TERM in text:
        return (dates[0] if dates else None, LONG_TERM) if len(dates) <= 1 else None
    return (dates[0], dates[1]) if len(dates) == 2 else None


def field_label(field_name: str) -> str:
    return str(Person._meta.get_field(field_name).verbose_name)


def field_text(person: Person, field_name: str) -> str:
    """The system's value of a 12333 field, as the same text the 12333 value is held in."""
    if field_name == "gender":
        return _GENDER_LABELS.get(person.gender, person.gender)
    if field_name == "id_valid_from":
        return person.id_valid_from.isoformat() if person.id_valid_from else ""
    if field_name == "id_valid_until":
        if person.id_valid_long_term:
            return LONG_TERM
        return person.id_valid_until.isoformat() if person.id_valid_until else ""
    value = (getattr(person, field_name) or "").strip()
    if field_name == "phone":
        return normalize_phone(value)
    if field_name == "name":
        return SPACES.sub("", value)
    return value


def field_apply(person: Person, field_name: str, text: str) -> None:
    if field_name == "gender":
        person.gender = _GENDERS[text]
    elif field_name == "id_valid_from":
        person.id_valid_from = datetime.date.fromisoformat(text)
    elif field_name == "id_valid_until":
        long_term = text == LONG_TERM
        person.id_valid_long_term = long_term
        person.id_valid_until = None if long_term else datetime.date.fromisoformat(text)
    else:
        setattr(person, field_name, text)


def _write_collection(rows: list[KnownRow], source_list, result: ImportResult, acting_user) -> None:
    persons = persons_locked((r.id_number for r in rows), acting_user)
    known = _pending_conflicts([p.pk for p in persons.values()])
    now = timezone.now()
    changes, updated, conflicts = [], [], []
    for row in rows:
        person = person_found(row, persons, result, acting_user=acting_user)
        if person is None:
            continue
        if person.is_deceased:
            result.problems.append(row.problem("已登记死亡，不再采集", person.township_id))
            continue
        before = snapshot(person, TRACKED_FIELDS)
        filled = 0
        for field_name in COLLECTION_FIELDS:
            incoming = row.values.get(field_name)
            if incoming is None:
                continue
            current = field_text(person, field_name)
            if current == incoming:
                continue
            if not current:
                field_apply(person, field_name, incoming)
                filled += 1
            elif (person.pk, field_name, incoming) not in known:
                known.add((person.pk, field_name, incoming))
                conflicts.append(
                    CollectionConflict(
                        person=person,
                        source_list=source_list,
                        row_number=row.number,
                        field=field_name,
                        current_value=current[:200],
                        incoming_value=incoming[:200],
                    )
                )
        photo = bool(row.values.get("photo_on_12333")) and not person.photo_on_12333
        if photo:
            person.photo_on_12333 = True
            result.collection_photos += 1
        if not (filled or photo):
            continue
        person.verification_status = verification_status_for(person)
        person.version += 1
        person.updated_at = now
        old, new = changed_fields(before, snapshot(person, TRACKED_FIELDS))
        changes.append((person, old, new))
        updated.append(person)
        result.collection_fields += filled
    save_all_audited(
        changes,
        acting_user=acting_user,
        action="roster.person.updated",
        note=f"由12333采集结果补全：{source_list.source}",
    )
    CollectionConflict.objects.bulk_create(conflicts, batch_size=LOOKUP_CHUNK)
    result.collection_persons = len(updated)
    result.collection_conflicts = len(conflicts)


def _pending_conflicts(person_ids: list[int]) -> set[tuple[int, str, str]]:
    """Conflicts still waiting for a clerk: the same value from another file is not added twice."""
    known = set()
    for chunk in chunks(person_ids):
        known.update(
            CollectionConflict.objects.filter(
                person_id__in=chunk, resolution=CollectionConflict.Resolution.PENDING
            ).values_list("person_id", "field", "incoming_value")
        )
    return known
