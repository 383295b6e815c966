"""Lists that change people already known, and the clerk's choice where they disagree.

- 死亡人员名单 (civil affairs cremation data, police household cancellations): the living
  people named are marked deceased by the rules of ``person_mark_deceased``, and their
  live cards are queued for 注销.
- 12333采集结果 (the mini-program's collection results): blanks are filled, equal values
  left alone, and a value that differs becomes a ``CollectionConflict`` for a clerk
  (采集冲突); the system's value is never overwritten silently.

Both run inside ``list_import``'s single transaction, after every row was read and
checked: people are looked up (and locked) 500 ID numbers at a time, each changed person
gets one UPDATE of just the changed columns, audit rows and cancellations go in batches.
"""

import datetime
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from dayao_sscard.audit import audit_record_many, changed_fields, snapshot

from .id_numbers import birth_date_from_id, mask_phone, try_normalize_id_number
from .importers import ImportResult, ListImportError, RowProblem, cell_value, numbered_rows
from .models import CollectionConflict, ListKind, Person, SourceList, VitalStatus
from .tables import Table, cell_date, cell_text
from .validators import normalize_phone, phone_problem
from .verification import (
    cards_queue_cancellation,
    locked_for_edit,
    save_audited,
    verification_status_for,
)

LOOKUP_CHUNK = 500
NOT_FOUND = "系统中无此人"
OUT_OF_SCOPE = "不在您的管辖范围内"
DUPLICATE = "同一人在本文件中重复出现，已按第一次出现的行导入"


def collection_list_write(
    tables: list[Table],
    source_list: SourceList,
    result: ImportResult,
    progress,
    total: int,
    *,
    acting_user,
) -> None:
    """Write a death list or 12333 results; called by ``list_import`` inside its transaction."""
    if acting_user is not None and not acting_user.may_write:
        raise ListImportError("当前账号为只读权限，不能导入名单。")
    if source_list.kind == ListKind.DEATHS:
        rows = _death_rows(tables, source_list, result, progress, total)
        progress(total, total, "正在登记死亡人员", force=True)
        _write_deaths(rows, source_list, result, acting_user)
    else:
        rows = _collection_rows(tables, result, progress, total)
        progress(total, total, "正在写入采集结果", force=True)
        _write_collection(rows, source_list, result, acting_user)


# ---- reading rows -----------------------------------------------------------------------


@dataclass
class _Row:
    sheet: str
    number: int
    name: str
    id_number: str
    values: dict = field(default_factory=dict)
    collected_at: datetime.date | None = None

    def problem(self, reason: str, township_id: int | None = None) -> RowProblem:
        return RowProblem(
            self.sheet,
            self.number,
            self.name,
            self.id_number,
            reason,
            township_id,
            id_unusable=False,
        )


def _identified(table: Table, number: int, cells: list, result: ImportResult) -> _Row | None:
    """The row with a usable ID number, or None after reporting why not."""
    raw_id = cell_value(cells, table.columns, "id_number")
    name = cell_text(cell_value(cells, table.columns, "name"))[:50]
    id_number, reason = try_normalize_id_number(raw_id)
    if id_number is None:
        result.problems.append(
            RowProblem(table.sheet, number, name, cell_text(raw_id)[:100], f"身份证号码{reason}")
        )
        return None
    return _Row(table.sheet, number, name, id_number)


def _death_rows(tables, source_list, result: ImportResult, progress, total) -> list[_Row]:
    today = timezone.localdate()
    rows: dict[str, _Row] = {}
    for table, number, cells in numbered_rows(tables, result, progress, total):
        row = _identified(table, number, cells, result)
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
_SPACES = re.compile(r"[\s\u3000\u200b]+")


def _collection_rows(tables, result: ImportResult, progress, total) -> list[_Row]:
    rows: dict[str, _Row] = {}
    for table, number, cells in numbered_rows(tables, result, progress, total):
        row = _identified(table, number, cells, result)
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
            value = _SPACES.sub("", value)
        if name == "nationality":
            value = _NATIONALITIES.get(value, value)
        if not value:
            continue
        limit = Person._meta.get_field(name).max_length
        if len(value) > limit:
            errors.append(f"{_label(name)}超过{limit}个字")
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


# ---- finding the people -----------------------------------------------------------------


def _chunks(items: list, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _persons_locked(id_numbers: Iterable[str], acting_user) -> dict[str, tuple[Person, bool]]:
    """ID number → (person, in the acting user's scope), rows locked for the update."""
    found: dict[str, tuple[Person, bool]] = {}
    scoped = Person.objects.all() if acting_user is None else Person.objects.for_user(acting_user)
    for chunk in _chunks(sorted(set(id_numbers))):
        in_scope = set(scoped.filter(id_number__in=chunk).values_list("pk", flat=True))
        # order_by("pk"): no joins under FOR UPDATE, and one lock order for every writer.
        for person in Person.objects.select_for_update().filter(id_number__in=chunk).order_by("pk"):
            found[person.id_number] = (person, person.pk in in_scope)
    return found


def _find(row: _Row, persons, result: ImportResult) -> Person | None:
    """The row's person in scope, or None after reporting why not."""
    found = persons.get(row.id_number)
    if found is None:
        problem = row.problem(NOT_FOUND)
        problem.handling = "未匹配，无需处理"
        result.problems.append(problem)
        return None
    person, in_scope = found
    if not in_scope:
        # No township on the row: the other township's name stays out of the report.
        result.problems.append(row.problem(OUT_OF_SCOPE))
        return None
    return person


def _save_changed(person: Person, changed: dict) -> None:
    """One UPDATE of just the changed columns: much faster than ``bulk_update``'s CASE
    over every field, and the row is already locked."""
    fields = [*changed, "version", "updated_at"]
    Person.objects.filter(pk=person.pk).update(**{name: getattr(person, name) for name in fields})


# ---- deaths -----------------------------------------------------------------------------

DEATH_FIELDS = ["vital_status", "death_date", "death_source", "death_note"]


def _write_deaths(rows: list[_Row], source_list, result: ImportResult, acting_user) -> None:
    persons = _persons_locked((r.id_number for r in rows), acting_user)
    now = timezone.now()
    changes, marked = [], []
    for row in rows:
        person = _find(row, persons, result)
        if person is None:
            if row.id_number not in persons:
                result.not_found += 1
            continue
        if person.is_deceased:
            result.deaths_already += 1
            continue
        if row.name and _SPACES.sub("", row.name) != _SPACES.sub("", person.name):
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
    for person, _, new in changes:
        _save_changed(person, new)
    audit_record_many(
        actor=acting_user,
        action="roster.person.marked_deceased",
        changes=changes,
        note=f"死亡人员名单导入：{source_list.source}",
    )
    result.deaths_marked = len(marked)
    result.cancellations_queued = cards_queue_cancellation(persons=marked, acting_user=acting_user)


# ---- 12333 results ----------------------------------------------------------------------


def _label(field_name: str) -> str:
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
        return _SPACES.sub("", value)
    return value


def _apply(person: Person, field_name: str, text: str) -> None:
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


def _write_collection(rows: list[_Row], source_list, result: ImportResult, acting_user) -> None:
    persons = _persons_locked((r.id_number for r in rows), acting_user)
    known = _pending_conflicts([p.pk for p, _ in persons.values()])
    now = timezone.now()
    changes, updated, conflicts = [], [], []
    for row in rows:
        person = _find(row, persons, result)
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
                _apply(person, field_name, incoming)
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
    for person, _, new in changes:
        _save_changed(person, new)
    audit_record_many(
        actor=acting_user,
        action="roster.person.updated",
        changes=changes,
        note=f"由12333采集结果补全：{source_list.source}",
    )
    CollectionConflict.objects.bulk_create(conflicts, batch_size=LOOKUP_CHUNK)
    result.collection_persons = len(updated)
    result.collection_conflicts = len(conflicts)


def _pending_conflicts(person_ids: list[int]) -> set[tuple[int, str, str]]:
    """Conflicts still waiting for a clerk: the same value from another file is not added twice."""
    known = set()
    for chunk in _chunks(person_ids):
        known.update(
            CollectionConflict.objects.filter(
                person_id__in=chunk, resolution=CollectionConflict.Resolution.PENDING
            ).values_list("person_id", "field", "incoming_value")
        )
    return known


# ---- 采集冲突: reading and resolving --------------------------------------------------------


@dataclass
class ConflictLine:
    conflict: CollectionConflict
    label: str
    system_value: str
    incoming_value: str
    chosen: str = ""


@dataclass
class ConflictGroup:
    person: Person
    lines: list[ConflictLine]


def _pending() -> QuerySet[CollectionConflict]:
    return CollectionConflict.objects.filter(resolution=CollectionConflict.Resolution.PENDING)


def conflict_persons(*, user, township_code: str = "") -> QuerySet[Person]:
    """People in the user's scope with 12333 values waiting for a choice (the dead excluded)."""
    persons = (
        Person.objects.for_user(user)
        .filter(Exists(_pending().filter(person=OuterRef("pk"))))
        .exclude(vital_status=VitalStatus.DECEASED)
        .select_related("township", "village")
    )
    if township_code:
        persons = persons.filter(township__code=township_code)
    return persons


def conflict_person_get(*, user, pk: int) -> Person:
    """A living person in scope; the dead have no collection left to settle."""
    return get_object_or_404(
        Person.objects.for_user(user)
        .exclude(vital_status=VitalStatus.DECEASED)
        .select_related("township", "village"),
        pk=pk,
    )


def conflict_groups(
    *, user, persons: Iterable[Person], chosen: Mapping[int, str] | None = None
) -> list[ConflictGroup]:
    """Per person, the pending conflicts as lines of 字段 / 系统值 / 12333值.

    The system value shown is today's, not the one seen at import: someone may have
    changed it since. Phones are masked for roles that may not see full values.
    """
    persons = list(persons)
    chosen = chosen or {}
    mask = not user.may_view_full_id
    conflicts = (
        CollectionConflict.objects.for_user(user)
        .filter(
            person__in=[p.pk for p in persons], resolution=CollectionConflict.Resolution.PENDING
        )
        .select_related("source_list")
        .order_by("person_id", "field", "pk")
    )
    lines: dict[int, list[ConflictLine]] = {}
    by_pk = {p.pk: p for p in persons}
    for conflict in conflicts:
        person = by_pk[conflict.person_id]
        system_value = field_text(person, conflict.field)
        incoming = conflict.incoming_value
        if mask and conflict.field == "phone":
            system_value, incoming = mask_phone(system_value), mask_phone(incoming)
        lines.setdefault(person.pk, []).append(
            ConflictLine(
                conflict=conflict,
                label=_label(conflict.field),
                system_value=system_value,
                incoming_value=incoming,
                chosen=chosen.get(conflict.pk, ""),
            )
        )
    return [ConflictGroup(person=p, lines=lines[p.pk]) for p in persons if p.pk in lines]


def conflict_resolve(
    *,
    conflict_ids_and_choices: Mapping[int, str],
    person: Person,
    acting_user,
    expected_version: int,
) -> Person:
    """Keep the system's value or take the 12333 value, per conflict, for one person.

    Raises PersonEditConflict when the person was saved since ``expected_version``;
    then nothing is written.
    """
    Resolution = CollectionConflict.Resolution
    choices = dict(conflict_ids_and_choices)
    if not choices:
        raise ValidationError("请至少为一个字段选择“保留系统值”或“采用12333值”。")
    if set(choices.values()) - {Resolution.KEPT, Resolution.TAKEN}:
        raise ValidationError("处理方式只能是“保留系统值”或“采用12333值”。")
    with transaction.atomic():
        locked = locked_for_edit(person, acting_user, expected_version)
        conflicts = list(
            CollectionConflict.objects.select_for_update()
            .filter(person=locked, pk__in=list(choices), resolution=Resolution.PENDING)
            .order_by("pk")
        )
        if len(conflicts) != len(choices):
            raise ValidationError("部分字段已由他人处理或不属于该人员，请刷新页面后重新选择。")
        taken = [c for c in conflicts if choices[c.pk] == Resolution.TAKEN]
        fields = [c.field for c in taken]
        if len(set(fields)) != len(fields):
            raise ValidationError("同一字段只能采用一个12333值。")
        if taken and locked.is_deceased:
            raise ValidationError("该人员已登记死亡，不再采集信息。")
        before = snapshot(locked, TRACKED_FIELDS)
        for conflict in taken:
            _apply(locked, conflict.field, conflict.incoming_value)
        locked.verification_status = verification_status_for(locked)
        saved = save_audited(
            locked, before, acting_user, "roster.person.updated", note="处理12333采集冲突"
        )
        now = timezone.now()
        for conflict in conflicts:
            conflict.person = saved
            conflict.resolution = choices[conflict.pk]
            conflict.resolved_by = acting_user
            conflict.resolved_at = now
        CollectionConflict.objects.bulk_update(
            conflicts, ["resolution", "resolved_by", "resolved_at"]
        )
        audit_record_many(
            actor=acting_user,
            action="roster.collectionconflict.updated",
            changes=[
                (c, {"resolution": Resolution.PENDING.value}, {"resolution": c.resolution})
                for c in conflicts
            ],
            note=f"{saved.name}：处理12333采集冲突",
        )
    return saved
