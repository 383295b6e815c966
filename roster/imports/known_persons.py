"""Lists about people already in the system (deaths, 12333 results): rows found by ID
number, people looked up (and locked) 500 at a time, within the importing user's scope.
"""

import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from dayao_sscard.audit import audit_record_many

from ..id_numbers import try_normalize_id_number
from ..models import Person
from ..verification import person_derive
from .base import ImportResult, RowProblem, cell_value
from .tables import Table, cell_text

LOOKUP_CHUNK = 500
NOT_FOUND = "系统中无此人"
# A person of another township reads exactly as one who does not exist: an import report
# must not tell a township clerk which ID numbers exist elsewhere in the county.
NOT_FOUND_IN_SCOPE = "系统中无此人，或不在您的管辖范围内"
DUPLICATE = "同一人在本文件中重复出现，已按第一次出现的行导入"
SPACES = re.compile(r"[\s\u3000\u200b]+")


@dataclass
class KnownRow:
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


def identified_row(table: Table, number: int, cells: list, result: ImportResult) -> KnownRow | None:
    """The row with a usable ID number, or None after reporting why not."""
    raw_id = cell_value(cells, table.columns, "id_number")
    name = cell_text(cell_value(cells, table.columns, "name"))[:50]
    id_number, reason = try_normalize_id_number(raw_id)
    if id_number is None:
        result.problems.append(
            RowProblem(table.sheet, number, name, cell_text(raw_id)[:100], f"身份证号码{reason}")
        )
        return None
    return KnownRow(table.sheet, number, name, id_number)


def chunks(items: list, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def persons_locked(id_numbers: Iterable[str], acting_user) -> dict[str, Person]:
    """ID number → person within the acting user's scope, its row locked for the update.

    People outside the scope are left out, as if absent, and are not locked.
    """
    found: dict[str, Person] = {}
    scoped = Person.objects.all() if acting_user is None else Person.objects.for_user(acting_user)
    for chunk in chunks(sorted(set(id_numbers))):
        in_scope = scoped.filter(id_number__in=chunk).values_list("pk", flat=True)
        # By pk, ordered: no joins under FOR UPDATE, and one lock order for every writer.
        for person in (
            Person.objects.select_for_update().filter(pk__in=list(in_scope)).order_by("pk")
        ):
            found[person.id_number] = person
    return found


def person_found(
    row: KnownRow, persons: dict[str, Person], result: ImportResult, *, acting_user
) -> Person | None:
    """The row's person, or None after reporting that there is none the user may reach."""
    person = persons.get(row.id_number)
    if person is None:
        county_wide = acting_user is None or acting_user.is_county_wide
        problem = row.problem(NOT_FOUND if county_wide else NOT_FOUND_IN_SCOPE)
        problem.handling = "未匹配，无需处理"
        result.problems.append(problem)
    return person


def save_changed(person: Person, changed: dict) -> None:
    """One UPDATE of just the changed columns (and of what they change of ``missing_bits`` and
    ``walk_key``): much faster than ``bulk_update``'s CASE over every field, and the row
    is already locked."""
    fields = [*changed, *person_derive(person), "version", "updated_at"]
    Person.objects.filter(pk=person.pk).update(**{name: getattr(person, name) for name in fields})


def save_all_audited(changes: list[tuple], *, acting_user, action: str, note: str) -> None:
    """Save each ``(person, before, after)`` change and audit them all in one go."""
    for person, _, after in changes:
        save_changed(person, after)
    audit_record_many(actor=acting_user, action=action, changes=changes, note=note)
