"""Roster files for the people tests: CSV and XLSX bytes from rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

HEADER = ("房号", "手机号", "姓名", "已搬离")


def csv_bytes(rows: Iterable[Sequence[Any]], header: Sequence[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(rows: Iterable[Sequence[Any]], header: Sequence[str] = HEADER) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def phone(i: int) -> str:
    """A valid mainland mobile number, different for each ``i`` (< 100,000,000)."""
    return f"139{i:08d}"


def flat(i: int, per_entrance: int = 20) -> str:
    """Flat codes over buildings of 4 entrances × ``per_entrance`` flats."""
    building, rest = divmod(i, 4 * per_entrance)
    entrance, number = divmod(rest, per_entrance)
    return f"{building + 1}-{entrance + 1}-{(number // 2 + 1) * 100 + number % 2 + 1}"


def roster_rows(n: int, start: int = 0) -> list[tuple[str, str, str, str]]:
    return [(flat(i), phone(i), f"住户{i}", "") for i in range(start, start + n)]
