"""Fast bulk inserts: COPY on PostgreSQL, batched executemany elsewhere.

Used for the 1,000,000-row imports, where per-row ``save()`` (or even
``bulk_create``) would spend its time building model instances.
"""

import csv
import io
from collections.abc import Iterable, Sequence

from django.db import connection

BATCH = 5000


def bulk_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert plain tuples into ``table``; returns the number of rows written."""
    if connection.vendor == "postgresql":
        return _copy(table, columns, rows)
    return _executemany(table, columns, rows)


class _CsvStream(io.RawIOBase):
    """A read-only file over CSV-encoded rows, produced on demand for COPY."""

    def __init__(self, rows: Iterable[Sequence]):
        self._rows = iter(rows)
        self._buffer = b""
        self._text = io.StringIO()
        self._writer = csv.writer(self._text, lineterminator="\n")
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while len(self._buffer) < len(target):
            chunk = self._next_chunk()
            if not chunk:
                break
            self._buffer += chunk
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size

    def _next_chunk(self) -> bytes:
        self._text.seek(0)
        self._text.truncate()
        for _ in range(1000):
            row = next(self._rows, None)
            if row is None:
                break
            self._writer.writerow(["\\N" if v is None else v for v in row])
            self.count += 1
        return self._text.getvalue().encode()


def _copy(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    stream = _CsvStream(rows)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(sql, io.BufferedReader(stream, buffer_size=1 << 20))
    return stream.count


def _executemany(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({placeholders})"
    written = 0
    batch: list[Sequence] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                written += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def analyse(table: str) -> None:
    """Give PostgreSQL statistics for a freshly filled table.

    It never analyses temporary tables by itself, and without statistics it plans
    million-row joins as if the table were empty.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
