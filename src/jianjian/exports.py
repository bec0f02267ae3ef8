"""Helpers for every CSV/XLSX export: neutralise spreadsheet formula injection.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula
by Excel, LibreOffice and WPS (``=cmd|' /C calc'!A0``). Data that came from outside (a manifest,
a resident's name) must never reach an export unescaped: pass every cell through
:func:`safe_cell`, which prefixes such text with an apostrophe (OWASP's advice), so the
spreadsheet shows it as text. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> Any:
    """``value`` as it may be written to a CSV or XLSX cell without being run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    if text.startswith(_TRIGGERS):
        return "'" + text
    return text


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    """Rows as CSV text (UTF-8 with a BOM, so Excel reads Chinese), every cell made safe."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()
