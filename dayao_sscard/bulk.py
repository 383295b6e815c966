"""Fast bulk inserts: COPY on PostgreSQL, batched executemany elsewhere.

Used for the 1,000,000-row imports, where per-row ``save()`` (or even
``bulk_create``) would spend its time building model instances.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice

from django.db import DatabaseError, connection, transaction

BATCH = 5000
COPY_CHUNK = 2000


def bulk_insert(
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence],
    *,
    constants: dict[str, object] | None = None,
) -> int:
    """Insert plain tuples into ``table``; returns the number of rows written.

    ``constants`` are columns with the same value in every row, given once. An empty
    value (None or "") is NULL, except in text columns, where it is the empty string
    (Django never stores NULL in a CharField).
    """
    constants = constants or {}
    if connection.vendor == "postgresql":
        return _copy(table, columns, rows, constants)
    return _executemany(table, columns, rows, constants)


class _CsvStream(io.RawIOBase):
    """A read-only file over CSV-encoded rows, produced on demand for COPY.

    COPY reads from it while the rows are still being produced, so PostgreSQL writes
    the table on its own core while Python reads and checks the next rows.
    """

    def __init__(self, rows: Iterable[Sequence], width: int, suffix: str = ""):
        self._rows = iter(rows)  # islice below must resume, not restart, a list
        self._width = width
        self._end = suffix + "\n"
        self._buffer = b""
        self.count = 0
        self.error: Exception | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while len(self._buffer) < len(target):
            try:
                chunk = self._next_chunk()
            except Exception as exc:
                # psycopg2 reports it only as a cancelled COPY; _copy raises it again.
                self.error = exc
                raise
            if not chunk:
                break
            self._buffer += chunk
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size

    def _next_chunk(self) -> bytes:
        rows = list(islice(self._rows, COPY_CHUNK))
        if not rows:
            return b""
        self.count += len(rows)
        commas = self._width - 1
        # Nearly every row is plain text and numbers: joined as is, it already is CSV, as
        # fast as csv.writer, and the constant columns can follow as one encoded suffix
        # (csv.writer would re-encode them on every row: 5.6 against 3.4 µs for a person).
        lines = [",".join(map(str, row)) for row in rows]
        plain = "\n".join(lines)
        # Whether a row needs quoting, holds None or a comma is asked of the whole chunk at
        # once; only in a chunk that has such a row is each row asked, and sent through csv.
        if (
            plain.count(",") != commas * len(rows)
            or plain.count("\n") != len(rows) - 1
            or '"' in plain
            or "\r" in plain
            or "None" in plain
        ):
            lines = [
                line if _plain(line, commas) else _csv_line(row)
                for line, row in zip(lines, rows, strict=True)
            ]
        elif self._end == "\n":
            return (plain + "\n").encode()
        return (self._end.join(lines) + self._end).encode()


def _plain(line: str, commas: int) -> bool:
    """The row joined with commas is already its CSV line: no quoting, None or extra comma."""
    return not (
        line.count(",") != commas or '"' in line or "\n" in line or "\r" in line or "None" in line
    )


def _csv_line(values: Sequence) -> str:
    """The values as one CSV line, without its end.

    None and "" become an empty unquoted field: COPY reads it as NULL, and FORCE_NOT_NULL
    turns it back into "" for the text columns. Both characters of the terminator count
    as special, so csv quotes values holding either; it is cut off again here.
    """
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerow(values)
    return text.getvalue()[:-2]


def _copy(table: str, columns: Sequence[str], rows: Iterable[Sequence], constants: dict) -> int:
    quote = connection.ops.quote_name
    suffix = ""
    if constants:
        # Encoded once for all rows; the values are the same in each.
        suffix = "," + _csv_line(list(constants.values()))
    stream = _CsvStream(rows, len(columns), suffix)
    every = [*columns, *constants]
    text = _text_columns(table)
    text_columns = [c for c in every if c in text]
    options = "FORMAT csv"
    if text_columns:
        options += f", FORCE_NOT_NULL ({', '.join(quote(c) for c in text_columns)})"
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in every)}) FROM STDIN WITH ({options})"
    with connection.cursor() as cursor:
        try:
            cursor.cursor.copy_expert(sql, io.BufferedReader(stream, buffer_size=1 << 20))
        except Exception:
            # The rows' own error (a TableError in Chinese, say) is the one to show.
            if stream.error is not None:
                raise stream.error from None
            raise
    return stream.count


def _text_columns(table: str) -> set[str]:
    """The table's text columns (CharField, TextField and the like), on either database."""
    introspection = connection.introspection
    with connection.cursor() as cursor:
        return {
            column.name
            for column in introspection.get_table_description(cursor, table)
            if introspection.get_field_type(column.type_code, column) in ("CharField", "TextField")
        }


def _executemany(
    table: str, columns: Sequence[str], rows: Iterable[Sequence], constants: dict
) -> int:
    every = [*columns, *constants]
    quoted = ", ".join(connection.ops.quote_name(c) for c in every)
    placeholders = ", ".join(["%s"] * len(every))
    sql = f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({placeholders})"
    text_columns = _text_columns(table)
    text = {i for i, column in enumerate(every) if column in text_columns}
    fixed = tuple(constants.values())
    rows = iter(rows)
    written = 0
    with connection.cursor() as cursor:
        while batch := list(islice(rows, BATCH)):
            cursor.executemany(sql, [_empty_values(tuple(row) + fixed, text) for row in batch])
            written += len(batch)
    return written


def _empty_values(row: tuple, text: set[int]) -> tuple:
    """The same rule as COPY: empty is "" in text columns and NULL elsewhere."""
    if None not in row and "" not in row:
        return row
    return tuple(
        ("" if i in text else None) if (value is None or value == "") else value
        for i, value in enumerate(row)
    )


def reserve_ids(table: str, count: int) -> Sequence[int]:
    """``count`` primary keys for rows the caller will insert into ``table`` itself.

    Taken from the table's own sequence, so the ORM never hands out the same key. The
    import needs them before writing: persons are streamed by COPY, and their list
    entries refer to them.
    """
    if count <= 0:
        return range(0)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Resolved once: inside the series it would be looked up for every key (7× slower).
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, 'id')", [connection.ops.quote_name(table)]
            )
            sequence = cursor.fetchone()[0]
            series = "SELECT nextval(%s::regclass) AS v FROM generate_series(1, %s)"
            cursor.execute(f"SELECT MIN(v), MAX(v), COUNT(*) FROM ({series}) s", [sequence, count])
            low, high, _ = cursor.fetchone()
            # Each call of nextval hands out the next key, so the block is contiguous unless
            # another session drew keys at the same moment; then take the ones we got.
            # That second query draws a fresh block: the first one's keys are simply unused.
            if high - low + 1 == count:
                return range(low, high + 1)
            cursor.execute(series, [sequence, count])
            return [v for (v,) in cursor.fetchall()]
        # SQLite: the caller holds the write lock (it is inside a transaction that has
        # written), and AUTOINCREMENT never reuses a key, so start past the highest ever.
        cursor.execute(
            f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
            f"COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 0))",
            [table],
        )
        start = cursor.fetchone()[0] + 1
        # Move the table's counter past the block, so the ORM's next insert skips it too.
        cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
        cursor.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, start + count - 1]
        )
        return range(start, start + count)


def analyse(table: str) -> None:
    """Give PostgreSQL statistics for a freshly filled table.

    It never analyses temporary tables by itself, and without statistics it plans
    million-row joins as if the table were empty.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


@contextmanager
def indexes_built_after(*tables: str, foreign_keys_to: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """Fill empty tables without their secondary indexes; build those once at the end.

    PostgreSQL's advice for populating a table ("Populating a Database": remove indexes):
    one sort of a million keys costs a fraction of a million scattered B-tree inserts, and
    writes far less WAL. Only tables still empty qualify (a county's first list), so no
    reader loses an index it was using; the primary key stays. Yields the tables it took.

    Must run inside the caller's transaction: the DROP is undone with it on any error, and
    the ACCESS EXCLUSIVE lock it needs is held to COMMIT, when the indexes are back. When
    the lock is not free within a few seconds, the import simply keeps the indexes.

    Their foreign keys to the tables in ``foreign_keys_to`` go too, and come back last:
    adding one checks every row in one join, where each row inserted would have queued a
    check of its own. Dropping one locks the table it refers to as well (ACCESS EXCLUSIVE,
    to COMMIT), so only small tables, or those being filled, belong there.
    """
    taken: list[tuple[str, list[tuple[str, str]]]] = []
    if connection.vendor == "postgresql":
        for table in tables:
            definitions = _drop_secondary_indexes_if_empty(table, foreign_keys_to)
            if definitions:
                taken.append((table, definitions))
    yield [table for table, _ in taken]
    if taken:
        with connection.cursor() as cursor:
            # PostgreSQL builds no index on a table with foreign-key checks still pending:
            # they run now (as they would at COMMIT), then are deferred again as Django
            # declares every one of them.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            creates = [create for _, definitions in taken for _, create in definitions]
            # Indexes first: a foreign key needs the unique key it refers to.
            for create in sorted(creates, key=lambda sql: " FOREIGN KEY " in sql):
                cursor.execute(create)


class _KeepIndexes(Exception):
    pass


def _drop_secondary_indexes_if_empty(
    table: str, foreign_keys_to: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """Drop the table's unique constraints, plain indexes and foreign keys to
    ``foreign_keys_to`` if it is empty; return (drop, create) statements for each, or []
    when it keeps them."""
    quote = connection.ops.quote_name
    empty = f"SELECT NOT EXISTS (SELECT 1 FROM {quote(table)})"
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(empty)
            if not cursor.fetchone()[0]:
                raise _KeepIndexes
            cursor.execute("SET LOCAL lock_timeout = '3s'")
            cursor.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")
            cursor.execute(empty)  # again: a row may have come before the lock
            if not cursor.fetchone()[0]:
                raise _KeepIndexes
            definitions = _secondary_index_statements(cursor, table)
            definitions += _foreign_key_statements(cursor, table, foreign_keys_to)
            for drop, _ in definitions:
                cursor.execute(drop)
            cursor.execute("SET LOCAL lock_timeout = DEFAULT")
            return definitions
    except (_KeepIndexes, DatabaseError):
        # Not empty, lock not granted in time, or an index something else depends on: the
        # savepoint is rolled back with its lock, and the import takes the ordinary way.
        return []


def _foreign_key_statements(cursor, table: str, to: tuple[str, ...]) -> list[tuple[str, str]]:
    """(drop, create) for each foreign key of ``table`` to one of the tables ``to``."""
    if not to:
        return []
    quote = connection.ops.quote_name
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid = %s::regclass AND confrelid::regclass::text = ANY(%s)",
        [quote(table), list(to)],
    )
    alter = f"ALTER TABLE {quote(table)}"
    return [
        (
            f"{alter} DROP CONSTRAINT {quote(name)}",
            f"{alter} ADD CONSTRAINT {quote(name)} {definition}",
        )
        for name, definition in cursor.fetchall()
    ]


def _secondary_index_statements(cursor, table: str) -> list[tuple[str, str]]:
    """(drop, create) for each index but the primary key, from PostgreSQL's own catalogue.

    An index behind a unique constraint is dropped and re-added as that constraint, so
    Django's migrations still find it by name.
    """
    quote = connection.ops.quote_name
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), "
        "c.conname, pg_get_constraintdef(c.oid) "
        "FROM pg_index i LEFT JOIN pg_constraint c "
        "ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('u', 'x') "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
        [quote(table)],
    )
    statements = []
    alter = f"ALTER TABLE {quote(table)}"
    for index, index_sql, constraint, constraint_sql in cursor.fetchall():
        if constraint:
            statements.append(
                (
                    f"{alter} DROP CONSTRAINT {quote(constraint)}",
                    f"{alter} ADD CONSTRAINT {quote(constraint)} {constraint_sql}",
                )
            )
        else:
            statements.append((f"DROP INDEX {index}", index_sql))
    return statements


class CompiledForIds:
    """A query over a few ids (``build(ids)`` gives its queryset), compiled once per size.

    Asked on every save of a card or a person, building an ORM query of a dozen joins and
    subqueries took longer in Python (about 20 ms on a loaded machine) than the database
    took to answer it (under 1 ms). It is compiled for a size (the ids rounded up to one
    of ``SIZES``, the list padded with its last id) with stand-in ids, whose places among
    the parameters are noted, as ``roster.progress`` compiles its recount.
    """

    SIZES = (1, 2, 8, 64, 512)
    STAND_IN = -7_100_000_000

    def __init__(self, build, *, sizes: tuple[int, ...] = SIZES):
        self.build = build
        self.sizes = sizes
        self.compiled: dict[tuple, tuple[str, list, list[int]]] = {}

    def __call__(self, ids: list[int], *, variant: tuple = ()) -> tuple[str, list]:
        """The SQL and params for ``ids`` (at most the largest size); ``variant``: what else
        the built query depends on, compiled once per value."""
        size = next(size for size in self.sizes if size >= len(ids))
        key = (connection.vendor, size, variant)
        if key not in self.compiled:
            stand_ins = [self.STAND_IN - i for i in range(size)]
            sql, params = self.build(stand_ins).query.sql_with_params()
            params = list(params)
            self.compiled[key] = (sql, params, [params.index(pk) for pk in stand_ins])
        sql, params, slots = self.compiled[key]
        params = list(params)
        for slot, pk in zip(slots, ids + [ids[-1]] * (size - len(ids)), strict=True):
            params[slot] = pk
        return sql, params
