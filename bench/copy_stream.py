"""Raw rows as CSV bytes for COPY: the floor's writer, shared by the import benchmarks.

Only the standard library, so a floor process pays nothing more than its own reading.
"""

import csv
import io
from collections.abc import Iterator
from itertools import islice


class CsvRows(io.RawIOBase):
    """Raw sheet rows as CSV bytes, produced as COPY reads them."""

    def __init__(self, rows: Iterator[list]):
        self._rows = rows
        self._text = io.StringIO()
        self._writer = csv.writer(self._text, lineterminator="\n")
        self._pending = b""
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._pending) < size:
            batch = list(islice(self._rows, 2000))
            if not batch:
                break
            self._text.seek(0)
            self._text.truncate()
            self._writer.writerows(batch)
            self._pending += self._text.getvalue().encode()
            self.count += len(batch)
        size = len(self._pending) if size < 0 else size
        chunk, self._pending = self._pending[:size], self._pending[size:]
        return chunk
