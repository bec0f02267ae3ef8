"""Reading an uploaded spreadsheet (CSV or XLSX) into rows, within bounds.

Every upload of the product (courier manifests, the console's rosters) goes through here, so a
hostile or careless file is refused the same way everywhere and at once: rows are counted blank
ones included, cells are counted, an XLSX's uncompressed size is checked before anything is
unpacked, and reading stops when its time is up. Rows are read in streaming mode (openpyxl's
read-only workbook, the csv module over the decoded text).
"""

from __future__ import annotations

import csv
import io
import time
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

# A header must be in a file's first bytes: garbage is refused without reading it all.
MAX_HEADER_BYTES = 4096

Record = tuple[int, dict[str, str]]  # (line in the file, {column: text})


class UploadRefused(Exception):
    """The whole file is unusable: empty, not CSV/XLSX, wrong columns, or past a bound."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Limits:
    """Bounds of one kind of upload. ``rows`` counts data rows; blank rows count too (up to
    ``blank_slack`` more, so a sheet of a million empty rows is refused quickly)."""

    rows: int
    columns: int = 50
    uncompressed_bytes: int = 200 * 1024 * 1024
    seconds: float = 60.0
    blank_slack: int = 1000


@dataclass(frozen=True)
class Columns:
    """The columns a file must (``required``) or may carry, and the header spellings of each
    (``aliases``: normalised header text → column name)."""

    aliases: Mapping[str, str]
    required: Sequence[str]
    hint: str  # how to write the header, shown when a required column is missing


def normalise_header(cell: Any) -> str:
    return unicodedata.normalize("NFKC", str(cell or "")).strip().lower().replace(" ", "_")


def _header(cells: Iterable[Any], columns: Columns) -> list[str]:
    names = [columns.aliases.get(normalise_header(cell), "") for cell in cells]
    missing = [c for c in columns.required if c not in names]
    if missing:
        raise UploadRefused(
            _("The first row must name the columns; missing: %(missing)s. %(hint)s")
            % {"missing": ", ".join(missing), "hint": columns.hint},
            code="wrong_columns",
        )
    return names


class _Budget:
    """Counts rows and time as a file is read, and refuses it the moment it goes past a bound."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.seen = 0

    def tick(self, data_rows: int) -> None:
        self.seen += 1
        if data_rows > self.limits.rows or self.seen > self.limits.rows + self.limits.blank_slack:
            raise UploadRefused(
                _("A file holds at most %(max)s rows (blank rows count too).")
                % {"max": self.limits.rows},
                code="too_many",
            )
        if self.seen % 500 == 0 and time.monotonic() > self.deadline:
            raise UploadRefused(
                _("The file took too long to read; split it into smaller files."),
                code="too_slow",
            )


def records(rows: Iterator[Sequence[Any]], columns: Columns, limits: Limits) -> list[Record]:
    """Pair each data row with its line number (the header is line 1); blank rows are skipped
    but counted against the bounds."""
    budget = _Budget(limits)
    try:
        header = next(rows)
    except StopIteration:
        raise UploadRefused(_("The file is empty."), code="empty") from None
    if len(header) > limits.columns:
        header = list(header)[: limits.columns]
    names = _header(header, columns)
    out: list[Record] = []
    for line, row in enumerate(rows, start=2):
        budget.tick(len(out))
        if len(row) > limits.columns and any(
            str(c or "").strip() for c in list(row)[limits.columns :]
        ):
            raise UploadRefused(
                _("Line %(line)s has more than %(max)s columns.")
                % {"line": line, "max": limits.columns},
                code="too_wide",
            )
        if not any(str(c or "").strip() for c in row):
            continue  # blank lines are not rows
        out.append(
            (
                line,
                {
                    name: "" if cell is None else str(cell).strip()
                    for name, cell in zip(names, row, strict=False)
                    if name
                },
            )
        )
    if len(out) > limits.rows:
        raise UploadRefused(
            _("A file holds at most %(max)s rows (blank rows count too).") % {"max": limits.rows},
            code="too_many",
        )
    return out


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UploadRefused(_("The file is not a CSV text file (UTF-8 or GB18030)."), code="not_text")


def read_csv(data: bytes, columns: Columns, limits: Limits) -> list[Record]:
    if not data.strip():
        raise UploadRefused(_("The file is empty."), code="empty")
    if b"\n" not in data[:MAX_HEADER_BYTES] and len(data) > MAX_HEADER_BYTES:
        raise UploadRefused(
            _("The first row must name the columns; this file has no readable header."),
            code="wrong_columns",
        )
    # A NUL byte anywhere: no text has one, and PostgreSQL cannot store one.
    if b"\x00" in data:
        raise UploadRefused(_("The file is not a CSV text file."), code="not_text")
    return records(iter(csv.reader(io.StringIO(_decode(data)))), columns, limits)


def _check_zip(data: bytes, limits: Limits) -> None:
    """Refuse a zip bomb before openpyxl unpacks anything: the sum of the members' sizes."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UploadRefused(
            _("The file is not an Excel (.xlsx) workbook."), code="not_xlsx"
        ) from None
    if total > limits.uncompressed_bytes:
        raise UploadRefused(
            _("The workbook unpacks to more than %(mb)s MB; split it into smaller files.")
            % {"mb": limits.uncompressed_bytes // (1024 * 1024)},
            code="too_large",
        )


def read_xlsx(data: bytes, columns: Columns, limits: Limits) -> list[Record]:
    from openpyxl import load_workbook

    if not data:
        raise UploadRefused(_("The file is empty."), code="empty")
    _check_zip(data, limits)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise UploadRefused(
            _("The file is not an Excel (.xlsx) workbook."), code="not_xlsx"
        ) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise UploadRefused(_("The file is empty."), code="empty")
        # max_col keeps a row of 16,384 styled empty cells from being materialised.
        rows = sheet.iter_rows(values_only=True, max_col=limits.columns + 1)
        return records(rows, columns, limits)
    finally:
        book.close()


def read_file(name: str, data: bytes, columns: Columns, limits: Limits) -> list[Record]:
    """CSV or XLSX, told apart by the name or the zip signature."""
    if name.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return read_xlsx(data, columns, limits)
    return read_csv(data, columns, limits)
