"""The agency's CSV files on disk, read as a stream (``CsvFile``), and their memory twin.

Bytes are decoded line by line with replacement: a line that is not UTF-8 becomes a row with a
replacement character, which the row rules refuse (``not UTF-8``) without losing the rest of
the file. The byte count read so far drives the progress bar.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from rempart.intake.model import ImportFile

MAX_FIELD = 10_000  # characters per field: a longer one is a broken file, not a name


class CsvFile:
    """Implements ``RowSource`` on one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        self._consumed = 0
        self._header: list[str] | None = None
        self._lines: Iterator[str] | None = None
        self._reader: Iterator[list[str]] | None = None

    def _decoded(self) -> Iterator[str]:
        with self.path.open("rb") as raw:
            for line in raw:
                self._consumed += len(line)
                yield line.decode("utf-8", errors="replace")

    def _open(self) -> Iterator[list[str]]:
        if self._reader is None:
            csv.field_size_limit(MAX_FIELD)
            self._csv = csv.reader(self._decoded(), strict=False)
            self._reader = self._csv
        return self._reader

    def header(self) -> list[str] | None:
        """The header row, or None for an empty file."""
        if self._header is None:
            try:
                self._header = next(self._open())
            except StopIteration:
                return None
            except csv.Error:
                return None
        return self._header

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Every row after the header, with its line number."""
        if self.header() is None:
            return
        reader = self._open()
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error:
                # A broken quote or an overlong field: one refused row, then carry on.
                yield self._csv.line_num, ["\ufffd"]
                continue
            if not fields:
                continue  # a blank line
            yield self._csv.line_num, fields

    def size(self) -> int:
        """Bytes in the file."""
        return self.path.stat().st_size

    def consumed(self) -> int:
        """Bytes read so far."""
        return self._consumed


def csv_directory(directory: Path) -> dict[ImportFile, CsvFile]:
    """The contract's files present in ``directory`` (none when it cannot be read)."""
    if not directory.is_dir():
        return {}
    return {f: CsvFile(directory / f.value) for f in ImportFile if (directory / f.value).is_file()}


class MemoryRows:
    """Implements ``RowSource`` on lines of text (unit tests)."""

    def __init__(self, name: str, lines: list[str]) -> None:
        self.name = name
        self._rows = list(csv.reader(lines))
        self._size = sum(len(line) for line in lines)

    def header(self) -> list[str] | None:
        """The first row."""
        return self._rows[0] if self._rows else None

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """The others, numbered from line 2."""
        for n, fields in enumerate(self._rows[1:], start=2):
            if fields:
                yield n, fields

    def size(self) -> int:
        """Characters in the lines."""
        return self._size

    def consumed(self) -> int:
        """Everything, once asked."""
        return self._size
