"""Person lists (未发卡名单, 补贴名单): new persons, list entries, blanks filled in.

Rows are read and checked in Python and streamed by COPY (on PostgreSQL) straight into
the person table while the next rows are read, with keys reserved beforehand. What
refers to them (list entries, villages, blanks filled in for persons already known) is
written right after, in the same transaction.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from dayao_sscard.audit import audit_record_many
from dayao_sscard.bulk import analyse, bulk_insert, indexes_built_after, reserve_ids

from ..id_numbers import id_number_normalizer
from ..models import Category, ListEntry, ListKind, Person, SourceList, Village
from ..places import township_index_load, township_resolve_id, village_normalize_name
from ..validators import normalize_phone, phone_problem
from ..verification import MISSING_BITS, person_derive, walk_key
from .base import ImportResult, RowProblem, named_rows
from .tables import TableError, cell_text

_CATEGORY_WORDS = (
    ("低保", Category.MINIMUM_LIVING),
    ("特困", Category.EXTREME_POVERTY),
    ("残疾", Category.DISABLED),
)


# The cells a person list is read for, in the order the row loop unpacks them.
PERSON_CELLS = (
    "name",
    "township",
    "village",
    "ethnicity",
    "phone",
    "address",
    "group_name",
    "category",
    "amount",
)
# The columns of a new person that the list supplies; the others get the model's defaults.
LISTED_PERSON_COLUMNS = (
    "id",
    "id_number",
    "name",
    "gender",
    "birth_date",
    "ethnicity",
    "phone",
    "address",
    "township_id",
    "village_id",
    "group_name",
    "missing_bits",
    "walk_key",
)
ENTRY_COLUMNS = ("source_list_id", "person_id", "sheet", "row_number", "category", "amount")
FILLABLE = ("phone", "ethnicity", "address", "village_id", "group_name")
# The list's column each of them is read from.
FILLED_FROM = {
    "phone": "phone",
    "ethnicity": "ethnicity",
    "address": "address",
    "village_id": "village",
    "group_name": "group_name",
}
KNOWN_STAGE_COLUMNS = ("person_id", *FILLABLE)
# New villages get keys reserved before the rows are read (see _Villages); a real county
# has a few hundred, so more than this means the village column holds something else.
MAX_NEW_VILLAGES = 5000


class _Villages:
    """Village ids by (township, canonical name), for rows read while COPY holds the line.

    A village first seen in the file takes a key reserved beforehand; the village rows
    themselves are written after the persons, in the same transaction.
    """

    def __init__(self, reserve: int):
        self.ids = {
            (t, n): pk for pk, t, n in Village.objects.values_list("id", "township", "name")
        }
        self.new: list[tuple] = []
        self._spare = iter(reserve_ids(Village._meta.db_table, min(reserve, MAX_NEW_VILLAGES)))

    def id_of(self, township_id: int, written: str) -> int | str:
        """The village a row names, added if new; "" (NULL to bulk_insert) for none."""
        name = village_normalize_name(written)[:50]
        if not name:
            return ""
        return self.ids.get((township_id, name)) or self.add(township_id, name)

    def add(self, township_id: int, name: str) -> int:
        pk = next(self._spare, None)
        if pk is None:
            raise TableError(
                f"文件中的村（社区）名称超过 {MAX_NEW_VILLAGES} 个，请检查村（社区）列是否填错。"
            )
        self.ids[(township_id, name)] = pk
        self.new.append((pk, township_id, name, ""))
        return pk


@dataclass
class _PersonListWrite:
    """One person list being written: new persons go straight into the person table,
    everything else is collected on the way and written after them."""

    source_list: SourceList
    result: ImportResult
    known: dict[str, int]  # ID number → id, for the persons already in the system
    blanks: dict[int, int]  # id → the FILLABLE fields blank when the import began, as bits
    villages: _Villages
    person_ids: Iterator[int]
    constants: dict  # column → default, for every column the list does not supply
    entries: list[tuple] = field(default_factory=list)
    known_rows: list[tuple] = field(default_factory=list)


def person_list_write(tables, source_list, result: ImportResult, progress, total) -> None:
    # The row stream runs while COPY holds the connection: it must not query the database,
    # so places and known persons are loaded, and keys reserved, before it starts.
    township_index_load()
    known, blanks = _known_persons(set().union(*(table.columns for table in tables)))
    # Ascending: the first is where the persons this list adds begin (see matching).
    person_ids = reserve_ids(Person._meta.db_table, total)
    result.first_new_person_id = person_ids[0] if person_ids else 0
    write = _PersonListWrite(
        source_list=source_list,
        result=result,
        known=known,
        blanks=blanks,
        villages=_Villages(reserve=total),
        person_ids=iter(person_ids),
        constants=_new_person_defaults(timezone.now()),
    )
    with indexes_built_after(Person._meta.db_table, ListEntry._meta.db_table):
        result.persons_new = _copy_new_persons(tables, write, progress, total)
        progress(total, total, "正在写入人员名单", force=True)
        _write_villages_and_entries(write)
    if write.known_rows:
        result.persons_filled = _fill_blank_fields(source_list, write.known_rows)
    if result.has_categories or source_list.kind == ListKind.SUBSIDY:
        _add_categories(source_list)


def _copy_new_persons(tables, write: _PersonListWrite, progress, total) -> int:
    return bulk_insert(
        Person._meta.db_table,
        LISTED_PERSON_COLUMNS,
        _new_person_rows(tables, write, progress, total),
        constants=write.constants,
    )


def _write_villages_and_entries(write: _PersonListWrite) -> None:
    bulk_insert(Village._meta.db_table, ("id", "township_id", "name", "code"), write.villages.new)
    bulk_insert(ListEntry._meta.db_table, ENTRY_COLUMNS, write.entries)
    write.entries.clear()


def _blank(column: str, table: str = "") -> str:
    """SQL: the person's column holds nothing (NULL for the village, "" for text)."""
    qualified = f"{table}.{column}" if table else column
    return f"{qualified} IS NULL" if column == "village_id" else f"{qualified} = ''"


def _known_persons(columns: set[str]) -> tuple[dict[str, int], dict[int, int]]:
    """ID number → id of every person; id → the FILLABLE fields they lack, as bits.

    Only fields the list has a column for count, and only persons lacking one of them are
    read: the row loop then passes over a known person whose row fills no blank, such as
    most rows of a subsidy list, which name persons already complete.
    """
    fillable = [(bit, name) for bit, name in enumerate(FILLABLE) if FILLED_FROM[name] in columns]
    # Not through the ORM: a million model-free tuples, about three times faster.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id FROM roster_person")
        known = dict(cursor.fetchall())
        if not fillable or not known:
            return known, {}
        bits = " + ".join(
            f"CASE WHEN {_blank(name)} THEN {1 << bit} ELSE 0 END" for bit, name in fillable
        )
        lacking = " OR ".join(_blank(name) for _, name in fillable)
        cursor.execute(f"SELECT id, {bits} FROM roster_person WHERE {lacking}")
        return known, dict(cursor.fetchall())


def _new_person_rows(tables, write: _PersonListWrite, progress, total) -> Iterator[tuple]:
    """Check every row; yield the new persons, collect list entries and known persons."""
    result, known, blanks = write.result, write.known, write.blanks
    entry_of, known_rows = write.entries.append, write.known_rows
    next_person_id = write.person_ids.__next__
    source_list_id = write.source_list.pk
    normalize = id_number_normalizer()
    seen: set[str] = set()
    # A list repeats a handful of township spellings and a few hundred village names a
    # million times: each is resolved once, then looked up in a plain dict.
    townships: dict[str, int | None] = {}
    village_ids: dict[tuple[int, str], int | str] = {}
    # What a new person lacks (Person.missing_bits): a list gives no occupation, ID document
    # dates or photo; its ID number is valid, and gender and birth date are read from it.
    # The full check (verification.missing_elements) costs 30 µs a person; the same
    # answer here, from the two cells that vary, well under one.
    lacking = MISSING_BITS["occupation"] | MISSING_BITS["id_validity"] | MISSING_BITS["photo"]
    no_address, bad_phone = MISSING_BITS["address"], MISSING_BITS["phone"]
    # The walking order's group part (Person.walk_key): a village has a dozen groups.
    group_keys: dict[str, str] = {}
    rows = named_rows(tables, ("id_number",), PERSON_CELLS, result, progress, total)
    for sheet, number, (raw_id,), texts in rows:
        name, town, village, ethnicity, phone, address, group, category, amount = texts
        name = name[:50]
        township_id = townships.get(town, 0)
        if township_id == 0:
            township_id = townships[town] = township_resolve_id(town)
        if township_id is None:  # an absent address column reads as "": no township
            township_id = township_resolve_id(address.split("大姚县", 1)[-1])
        id_number, reason = normalize(raw_id)
        problem = None
        if id_number is None:
            problem = RowProblem(
                sheet,
                number,
                name,
                cell_text(raw_id)[:100],
                f"身份证号码{reason}",
                township_id,
            )
        elif not name:
            problem = RowProblem(sheet, number, name, id_number, "缺少姓名", township_id)
        elif township_id is None:
            problem = RowProblem(
                sheet, number, name, id_number, f"无法识别所属乡镇：{town or '（空）'}", None
            )
        elif id_number in seen:
            result.duplicates += 1
            result.duplicate_rows.append(
                RowProblem(
                    sheet,
                    number,
                    name,
                    id_number,
                    "同一人在本文件中重复出现，已按第一次出现的行导入",
                    township_id,
                    id_unusable=False,
                )
            )
            continue
        if problem is not None:
            problem.id_unusable = id_number is None
            result.problems.append(problem)
            continue
        seen.add(id_number)
        village_id = village_ids.get((township_id, village))
        if village_id is None:
            village_id = village_ids[township_id, village] = write.villages.id_of(
                township_id, village
            )
        category = category[:50]
        if category:
            result.has_categories = True
        # Digits only, as nearly all are: what normalize_phone would leave of them.
        phone = (phone.removeprefix("86") if phone.isdigit() else normalize_phone(phone))[:20]
        person_id = known.get(id_number)
        is_new = person_id is None
        if is_new:
            person_id = next_person_id()
        entry_of((source_list_id, person_id, sheet, number, category, amount[:30]))
        if not is_new:
            result.persons_existing += 1
            ethnicity, address, group = ethnicity[:20], address[:200], group[:50]
            # Staged for _fill_blank_fields only when it may fill a blank (FILLABLE's order).
            fills = (
                bool(phone)
                | bool(ethnicity) << 1
                | bool(address) << 2
                | (village_id != "") << 3
                | bool(group) << 4
            )
            if fills & blanks.get(person_id, 0):
                known_rows.append((person_id, phone, ethnicity, address, village_id, group))
            continue
        address, group = address[:200], group[:50]
        yield (
            person_id,
            id_number,
            name,
            "male" if id_number[16] in "13579" else "female",
            # The number is valid, so its birth date is a real date: ISO text is enough.
            f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}",
            ethnicity[:20],
            phone,
            address,
            township_id,
            village_id,
            group,
            lacking
            | (0 if address.strip() else no_address)
            | (bad_phone if phone_problem(phone) else 0),
            (group_keys.get(group) or group_keys.setdefault(group, walk_key(group, ""))) + name,
        )


def _new_person_defaults(now) -> dict[str, object]:
    """The columns of a new person that no list supplies and the database cannot fill.

    Columns with a database default or NULL are left to the database; what remains (the
    timestamps, and any field added later without a database default) gets the model's
    default here. Built from the model so that such a field cannot be forgotten.
    """
    defaults = {}
    for model_field in Person._meta.concrete_fields:
        if (
            model_field.column in LISTED_PERSON_COLUMNS
            or model_field.has_db_default()
            or (model_field.null and not model_field.has_default())
        ):
            continue
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            value = now
        elif model_field.has_default():
            value = model_field.get_default()
        else:
            value = ""
        defaults[model_field.column] = model_field.get_db_prep_save(value, connection)
    return defaults


def _add_categories(source_list) -> None:
    """Every subsidy recipient, or the categories a list's 人员类别 column names.

    One statement: the words are joined to the list's entries, not scanned for in turn.
    Without ON CONFLICT, whose speculative insertion doubled the cost of each of a subsidy
    list's rows: imports run one at a time (serialise_imports), so the rows the anti-join
    leaves out are all that could conflict.
    """
    source = source_list.source[:100]
    if source_list.kind == ListKind.SUBSIDY:
        select = "SELECT e.person_id, %s AS category, %s FROM roster_listentry e"
        params = [Category.SUBSIDY_RECIPIENT.value, source]
    else:
        words = " UNION ALL ".join(["SELECT %s AS word, %s AS category"] * len(_CATEGORY_WORDS))
        select = (
            f"SELECT e.person_id, w.category, %s FROM roster_listentry e JOIN ({words}) w "
            "ON e.category LIKE '%%' || w.word || '%%'"
        )
        params = [
            source,
            *(v for word, category in _CATEGORY_WORDS for v in (word, category.value)),
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO roster_personcategory (person_id, category, source) "
            f"SELECT * FROM ({select} WHERE e.source_list_id = %s) n WHERE NOT EXISTS ("
            "SELECT 1 FROM roster_personcategory c "
            "WHERE c.person_id = n.person_id AND c.category = n.category)",
            [*params, source_list.pk],
        )


def _fill_blank_fields(source_list, known_rows: list[tuple]) -> int:
    """Complete blanks of people already known from this list; never overwrite a value."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS import_known")
        # No key or index: one row per person already, and the join below reads it once.
        cursor.execute(
            "CREATE TEMPORARY TABLE import_known (person_id bigint, phone varchar(20), "
            "ethnicity varchar(20), address varchar(200), village_id bigint, "
            "group_name varchar(50))"
        )
        bulk_insert("import_known", KNOWN_STAGE_COLUMNS, known_rows)
        analyse("import_known")
        cursor.execute(
            "SELECT p.id, "
            + ", ".join(f"p.{f}, s.{f}" for f in FILLABLE)
            + " FROM import_known s JOIN roster_person p ON p.id = s.person_id WHERE "
            + " OR ".join(
                f"(p.{f} IS NULL AND s.{f} IS NOT NULL)"
                if f == "village_id"
                else f"(p.{f} = '' AND s.{f} <> '')"
                for f in FILLABLE
            )
        )
        rows = cursor.fetchall()
        cursor.execute("DROP TABLE import_known")
    updates: dict[int, tuple[dict, dict]] = {}
    for row in rows:
        before, after = {}, {}
        for index, name in enumerate(FILLABLE):
            old, new = row[1 + 2 * index], row[2 + 2 * index]
            if old in ("", None) and new not in ("", None):
                before[name], after[name] = old, new
        updates[row[0]] = (before, after)
    if not updates:
        return 0
    persons = Person.objects.in_bulk(list(updates))
    changes = []
    for pk, (before, after) in updates.items():
        person = persons[pk]
        for name, value in after.items():
            setattr(person, name, value)
        person_derive(person)
        changes.append((person, before, after))
    Person.objects.bulk_update(
        [p for p, _, _ in changes], [*FILLABLE, "missing_bits", "walk_key"], batch_size=1000
    )
    audit_record_many(
        actor=source_list.imported_by,
        action="roster.person.updated",
        changes=changes,
        note=f"由名单补全：{source_list.source}",
    )
    return len(changes)
