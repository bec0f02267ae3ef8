"""A file of scans (CSV or XLSX) read into :class:`Scan` values: a station's log taken in later.

A handheld scanner at a station with no network, or a locker's own log, keeps what it scanned as
a spreadsheet; ``jianjian intake`` takes it in through the same verbs as the counter and the API.
Each row is bounded as the API bounds a scan, and a bad row is reported with its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jianjian import uploads
from jianjian.couriers.manifests import COLUMNS as MANIFEST_COLUMNS
from jianjian.parcels.lifecycle.scan import Scan

# A manifest's headers (运单号, 手机号, 房号, 姓名, 尺寸, 快递公司 …), and the phone tail a
# station types when the label shows only that.
COLUMNS = {
    **MANIFEST_COLUMNS,
    "phone_last4": "phone_last4",
    "尾号": "phone_last4",
    "手机尾号": "phone_last4",
}
SPEC = uploads.Columns(
    aliases=COLUMNS,
    required=("tracking_number",),
    hint=gettext_lazy(
        "Expected tracking_number and any of phone, phone_last4, flat, name, size, carrier "
        "(or 运单号, 手机号, 尾号, 房号, 姓名)."
    ),
)
LIMITS = uploads.Limits(rows=20_000, columns=20)
# The same bounds as a scan sent to the API (api/schemas.py ScanIn).
MAX_LENGTH = {
    "tracking_number": 60,
    "phone": 30,
    "phone_last4": 4,
    "flat": 30,
    "name": 50,
    "carrier": 20,
}
SIZES = ("", "S", "M", "L")


@dataclass
class ScanFile:
    scans: list[tuple[int, Scan]] = field(default_factory=list)  # (line, scan)
    errors: list[uploads.RowError] = field(default_factory=list)


def read_scans(name: str, data: bytes) -> ScanFile:
    """The file's good rows as scans, and each bad row's line and reason.

    Raises :class:`uploads.UploadRefused` when the file as a whole cannot be read."""
    out = ScanFile()
    for line, row in uploads.read_file(name, data, SPEC, LIMITS):
        error = _row_error(line, row)
        if error is not None:
            out.errors.append(error)
            continue
        out.scans.append(
            (
                line,
                Scan(
                    tracking_number=row["tracking_number"],
                    phone=row.get("phone", ""),
                    phone_last4=row.get("phone_last4", ""),
                    flat=row.get("flat", ""),
                    name=row.get("name", ""),
                    size=row.get("size", "").upper(),
                    carrier=row.get("carrier", "").lower(),
                ),
            )
        )
    return out


def _row_error(line: int, row: dict[str, str]) -> uploads.RowError | None:
    if not row.get("tracking_number"):
        return uploads.RowError(
            line, "tracking_number", "required", _("The tracking number is missing.")
        )
    for column, limit in MAX_LENGTH.items():
        if len(row.get(column, "")) > limit:
            return uploads.RowError(
                line,
                column,
                "too_long",
                _("Longer than %(limit)d characters.") % {"limit": limit},
            )
    if row.get("size", "").upper() not in SIZES:
        return uploads.RowError(line, "size", "size_invalid", _("Size must be S, M or L."))
    return None
