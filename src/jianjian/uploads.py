"""Reading an uploaded spreadsheet (CSV or XLSX) into rows, within bounds.

Every upload of the product (courier manifests, the console's rosters) goes through here, so a
hostile or careless file is refused the same way everywhere and at once: rows are counted blank
ones included, cells are counted, an XLSX's uncompressed size is checked before anything is
unpacked, and reading stops when its time is up. Rows are read in streaming mode (openpyxl's
read-only workbook, the csv module over the decoded text).

openpyxl needs a few hundred microseconds per row even for an empty one, so an XLSX is first
scanned as raw XML (:func:`_prescan`): its rows, cells and shared strings are counted while the
sheet is unzipped in chunks, and a workbook past a bound is refused before openpyxl parses it.
"""

from __future__ import annotations

import csv
import io
import re
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _

# A header must be in a file's first bytes: garbage is refused without reading it all.
MAX_HEADER_BYTES = 4096

Record = tuple[int, dict[str, str]]  # (line in the file, {column: text})


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row of an upload, for the person who sent it."""

    line: int
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "code": self.code, "message": self.message}


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
    cells: int = 2_000_000  # XML cells (and shared strings) of an XLSX, empty styled ones too
    uncompressed_bytes: int = 200 * 1024 * 1024
    seconds: float = 60.0
    blank_slack: int = 1000


@dataclass(frozen=True)
class Columns:
    """The columns a file must (``required``) or may carry, and the header spellings of each
    (``aliases``: normalised header text → column name)."""

    aliases: Mapping[str, str]
    required: Sequence[str]
    hint: str | Promise  # how to write the header, shown when a required column is missing


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
            raise _too_many_rows(self.limits)
        self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise UploadRefused(
                _("The file took too long to read; split it into smaller files."),
                code="too_slow",
            )


def records(
    rows: Iterator[Sequence[Any]], columns: Columns, limits: Limits, budget: _Budget | None = None
) -> list[Record]:
    """Pair each data row with its line number (the header is line 1); blank rows are skipped
    but counted against the bounds."""
    budget = budget or _Budget(limits)
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
        raise _too_many_rows(limits)
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
    # Every line is a row, blank ones too: a file of a million empty lines is refused unread.
    if data.count(b"\n") > limits.rows + limits.blank_slack + 1:
        raise _too_many_rows(limits)
    try:
        return records(iter(csv.reader(io.StringIO(_decode(data)))), columns, limits)
    except csv.Error:  # a field over csv's size limit (128 KB), or a broken quote
        raise UploadRefused(
            _("The file is not a valid CSV file (a cell is too long or a quote is not closed)."),
            code="not_text",
        ) from None


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


# An element of the sheet's XML, with or without a namespace prefix (``<row``, ``<x:row``).
_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,20}:)?row[\s/>]")
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,20}:)?c[\s/>]")
_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,20}:)?si[\s/>]")
_CHUNK = 1024 * 1024


def _count(
    archive: zipfile.ZipFile, member: str, pattern: re.Pattern[bytes], most: int, budget: _Budget
) -> int:
    """How many times ``pattern`` (a tag: ``<`` then no other ``<``) occurs in ``member``,
    unzipped in chunks; stops counting past ``most`` (the caller refuses the file then)."""
    found, buf = 0, b""
    with archive.open(member) as stream:
        while found <= most:
            chunk = stream.read(_CHUNK)
            buf += chunk
            if not chunk:
                return found + len(pattern.findall(buf))
            # Cut at the last "<": no match runs across it, so each is counted exactly once.
            cut = buf.rfind(b"<")
            if cut <= 0:
                cut = len(buf)
            found += len(pattern.findall(buf, 0, cut))
            buf = buf[cut:]
            budget.check_time()
    return found


def _too_many_rows(limits: Limits) -> UploadRefused:
    return UploadRefused(
        _("A file holds at most %(max)s rows (blank rows count too).") % {"max": limits.rows},
        code="too_many",
    )


def _too_many_cells(limits: Limits) -> UploadRefused:
    return UploadRefused(
        _("A file holds at most %(max)s cells; split it into smaller files.")
        % {"max": limits.cells},
        code="too_many_cells",
    )


def _prescan(data: bytes, limits: Limits, budget: _Budget) -> None:
    """Count every sheet's rows (blank ones too) and cells, and the shared strings, in the raw
    XML before openpyxl touches it: opening a workbook already parses a sheet without a
    dimension record to its end, and loads the shared strings whole. Every sheet counts, not
    only the first: the bounds are the file's."""
    most_rows = limits.rows + limits.blank_slack
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            lower = name.lower()
            if lower.endswith("sharedstrings.xml"):
                if _count(archive, name, _STRING, limits.cells, budget) > limits.cells:
                    raise _too_many_cells(limits)
            elif lower.startswith("xl/worksheets/") and lower.endswith(".xml"):
                if _count(archive, name, _ROW, most_rows, budget) > most_rows:
                    raise _too_many_rows(limits)
                if _count(archive, name, _CELL, limits.cells, budget) > limits.cells:
                    raise _too_many_cells(limits)


def read_xlsx(data: bytes, columns: Columns, limits: Limits) -> list[Record]:
    from openpyxl import load_workbook

    if not data:
        raise UploadRefused(_("The file is empty."), code="empty")
    _check_zip(data, limits)
    budget = _Budget(limits)
    try:
        _prescan(data, limits, budget)
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, zlib.error):
        raise UploadRefused(
            _("The file is not an Excel (.xlsx) workbook."), code="not_xlsx"
        ) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise UploadRefused(_("The file is empty."), code="empty")
        # max_col keeps a row of 16,384 styled empty cells from being materialised.
        rows = sheet.iter_rows(values_only=True, max_col=limits.columns + 1)
        return records(rows, columns, limits, budget)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error):
        raise UploadRefused(
            _("The file is not an Excel (.xlsx) workbook."), code="not_xlsx"
        ) from None
    finally:
        book.close()


def read_file(name: str, data: bytes, columns: Columns, limits: Limits) -> list[Record]:
    """CSV or XLSX, told apart by the name or the zip signature."""
    if name.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return read_xlsx(data, columns, limits)
    return read_csv(data, columns, limits)
