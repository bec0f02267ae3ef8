"""Pre-advice manifests: read (JSON rows, CSV, XLSX), validate every row, import, allocate.

A manifest with any bad row imports nothing unless the sender asks to import the good rows; the
answer lists each bad row with its line number, field and a translated reason. Re-sending the same
manifest changes nothing (the content's digest identifies it, and announce is idempotent).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jianjian import bulk, uploads
from jianjian.communities.models import Community, Flat, Resident, normalize_flat_code
from jianjian.communities.phones import normalize_phone
from jianjian.couriers.models import Carrier, Courier, Manifest
from jianjian.couriers.recognition import UNKNOWN, Recognition, recognize
from jianjian.parcels import services
from jianjian.parcels.models import Method, Parcel
from jianjian.points.models import SlotSize
from jianjian.uploads import RowError

# Column names accepted in a file's header row (English or Chinese), mapped to our field names.
COLUMNS: dict[str, str] = {
    "tracking_number": "tracking_number",
    "tracking": "tracking_number",
    "运单号": "tracking_number",
    "快递单号": "tracking_number",
    "phone": "phone",
    "手机号": "phone",
    "电话": "phone",
    "flat": "flat",
    "address": "flat",
    "房号": "flat",
    "地址": "flat",
    "name": "name",
    "姓名": "name",
    "收件人": "name",
    "size": "size",
    "尺寸": "size",
    "carrier": "carrier",
    "快递公司": "carrier",
}
REQUIRED = ("tracking_number", "phone")
SIZES = frozenset(SlotSize.values)  # the property builds a new list on every read
MAX_ROWS = 200_000


class ManifestError(Exception):
    """The whole file is unusable (empty, not CSV/XLSX, wrong columns, too many rows)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Report:
    """What became of a manifest."""

    rows: int = 0
    imported: int = 0
    already_known: int = 0
    errors: list[RowError] = field(default_factory=list)
    manifest: Manifest | None = None
    replayed: bool = False  # the same manifest had been imported before: nothing changed
    planned: int = 0
    overflow: int = 0

    @property
    def accepted(self) -> bool:
        return self.manifest is not None


# --- reading -------------------------------------------------------------------------------
# Files are read by :mod:`jianjian.uploads`, the bounded streaming reader of every upload; a file
# it refuses becomes a ManifestError with the same code and message.

COLUMN_SPEC = uploads.Columns(
    aliases=COLUMNS,
    required=REQUIRED,
    hint=gettext_lazy(
        "Expected tracking_number, phone, flat, name (or 运单号, 手机号, 房号, 姓名)."
    ),
)
LIMITS = uploads.Limits(rows=MAX_ROWS, columns=50)

Rows = list[uploads.Record]


def _read(reader: Callable[[], Rows]) -> Rows:
    try:
        return reader()
    except uploads.UploadRefused as exc:
        raise ManifestError(exc.message, exc.code) from None


def read_csv(data: bytes) -> Rows:
    return _read(lambda: uploads.read_csv(data, COLUMN_SPEC, LIMITS))


def read_xlsx(data: bytes) -> Rows:
    return _read(lambda: uploads.read_xlsx(data, COLUMN_SPEC, LIMITS))


def read_file(name: str, data: bytes) -> Rows:
    """CSV or XLSX, told apart by the name or the zip signature."""
    return _read(lambda: uploads.read_file(name, data, COLUMN_SPEC, LIMITS))


def read_json(items: Iterable[Mapping[str, Any]]) -> list[tuple[int, dict[str, str]]]:
    """JSON rows from the API: ``line`` is the 1-based position in the list."""
    out = []
    for line, item in enumerate(items, start=1):
        out.append((line, {k: "" if v is None else str(v).strip() for k, v in item.items()}))
    if not out:
        raise ManifestError(_("The manifest has no parcels."), code="empty")
    return out


# --- validating ----------------------------------------------------------------------------


@dataclass
class _Lookups:
    flats: dict[str, int]
    residents: dict[str, int]  # E.164 phone → resident id
    known: dict[str, str]  # tracking number → recipient phone of the existing parcel


def _lookups(community: Community, numbers: list[str]) -> _Lookups:
    flats = dict(Flat.objects.filter(community=community).values_list("code", "pk"))
    residents = dict(
        Resident.objects.filter(community=community, active=True).values_list("phone", "pk")
    )
    known: dict[str, str] = {}
    for where in bulk.in_filters("tracking_number", numbers):
        known.update(
            Parcel.objects.filter(where, community=community).values_list(
                "tracking_number", "recipient_phone"
            )
        )
    return _Lookups(flats=flats, residents=residents, known=known)


def _recognize(record: dict[str, str]) -> Recognition | ValidationError:
    """The row's tracking number recognised, or why it is no tracking number."""
    try:
        return recognize(record.get("tracking_number", ""))
    except ValidationError as exc:
        return exc


class _RowChecker:
    """Validates rows one by one, remembering the numbers seen earlier in the file."""

    def __init__(self, lookups: _Lookups, carrier: Carrier | None) -> None:
        self.lookups = lookups
        self.carrier = carrier
        self.seen: dict[str, int] = {}
        self.phones: dict[str, str] = {}  # phone parsing is the slow part: parse each once
        # A file names the same few thousand flats again and again: normalise each spelling once.
        self.flat_codes: dict[str, str] = {}

    def phone(self, raw: str) -> str:
        if raw not in self.phones:
            self.phones[raw] = normalize_phone(raw)
        return self.phones[raw]

    def flat_code(self, raw: str) -> str:
        if raw not in self.flat_codes:
            self.flat_codes[raw] = normalize_flat_code(raw)
        return self.flat_codes[raw]

    def check(
        self, line: int, record: dict[str, str], rec: Recognition | ValidationError
    ) -> services.Announcement | RowError:
        """Check one row; ``rec`` is :func:`_recognize` of it (done once, before the lookups)."""

        def bad(field_name: str, code: str, message: str) -> RowError:
            return RowError(line, field_name, code, message)

        if isinstance(rec, ValidationError):
            return bad("tracking_number", rec.code or "tracking_invalid", " ".join(rec.messages))
        number = rec.number
        if number in self.seen:
            return bad(
                "tracking_number",
                "duplicate_in_file",
                _("%(number)s is already on line %(line)s of this file.")
                % {"number": number, "line": self.seen[number]},
            )
        self.seen[number] = line
        carrier_code = rec.carrier
        if self.carrier is not None:
            if rec.candidates and self.carrier.code not in rec.candidates:
                return bad(
                    "tracking_number",
                    "wrong_carrier",
                    _("%(number)s is not a %(carrier)s number.")
                    % {"number": number, "carrier": self.carrier.name},
                )
            carrier_code = self.carrier.code
        elif record.get("carrier"):
            carrier_code = record["carrier"].strip().lower()
        try:
            phone = self.phone(record.get("phone", ""))
        except ValidationError as exc:
            return bad("phone", exc.code or "phone_invalid", " ".join(exc.messages))
        known_phone = self.lookups.known.get(number)
        if known_phone is not None and known_phone and known_phone != phone:
            return bad(
                "tracking_number",
                "duplicate_number",
                _("%(number)s was already announced for another recipient.") % {"number": number},
            )
        flat_id = None
        if record.get("flat"):
            try:
                flat_code = self.flat_code(record["flat"])
            except ValidationError as exc:
                return bad("flat", exc.code or "flat_invalid", " ".join(exc.messages))
            flat_id = self.lookups.flats.get(flat_code)
            if flat_id is None:
                return bad(
                    "flat",
                    "flat_unknown",
                    _("There is no flat %(flat)s in this community.") % {"flat": flat_code},
                )
        size = (record.get("size") or SlotSize.M).upper()
        if size not in SIZES:
            return bad("size", "size_invalid", _("Size must be S, M or L."))
        return services.Announcement(
            tracking_number=number,
            carrier_code=carrier_code or UNKNOWN,
            name=record.get("name", "")[:50],
            phone=phone,
            resident_id=self.lookups.residents.get(phone),
            flat_id=flat_id,
            size=size,
        )


def validate(
    community: Community,
    rows: list[tuple[int, dict[str, str]]],
    carrier: Carrier | None = None,
) -> tuple[list[services.Announcement], list[RowError]]:
    recognized = [_recognize(record) for _line, record in rows]
    numbers = [rec.number for rec in recognized if not isinstance(rec, ValidationError)]
    checker = _RowChecker(_lookups(community, numbers), carrier)
    good: list[services.Announcement] = []
    errors: list[RowError] = []
    for (line, record), rec in zip(rows, recognized, strict=True):
        result = checker.check(line, record, rec)
        if isinstance(result, RowError):
            errors.append(result)
        else:
            good.append(result)
    return good, errors


def digest(rows: list[tuple[int, dict[str, str]]], carrier: Carrier | None) -> str:
    """The manifest's identity: its rows' content (whatever the file format) and carrier."""
    h = hashlib.sha256((carrier.code if carrier else "").encode())
    for _line, record in rows:
        h.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


# --- importing -----------------------------------------------------------------------------


def import_rows(
    community: Community,
    rows: list[tuple[int, dict[str, str]]],
    *,
    actor: services.Actor,
    source: str,
    courier: Courier | None = None,
    carrier: Carrier | None = None,
    filename: str = "",
    import_good_rows: bool = False,
    allocate: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Validate ``rows`` and, if acceptable, announce them and recompute the allocation."""
    carrier = carrier or (courier.carrier if courier else None)
    report = Report(rows=len(rows))
    key = digest(rows, carrier)
    previous = Manifest.objects.filter(community=community, digest=key).first()
    if previous is not None:
        return _replay(report, previous)
    good, errors = validate(community, rows, carrier)
    report.errors = errors
    if errors and not import_good_rows:
        return report  # nothing written
    if not good:
        return report
    with transaction.atomic():
        created, _known_now = services.announce_many(
            community,
            good,
            actor=actor,
            method=_method(source),
            courier=courier,
            progress=progress,
        )
        try:
            with transaction.atomic():
                report.manifest = Manifest.objects.create(
                    community=community,
                    courier=courier,
                    carrier=carrier,
                    source=source,
                    filename=filename[:200],
                    digest=key,
                    rows=len(rows),
                    imported=created,
                    already_known=len(good) - created,
                    rejected=len(errors),
                    errors=[e.as_dict() for e in errors[:1000]],
                    created_by=actor.label[:100],
                )
        except IntegrityError:
            # The same manifest was imported concurrently; its rows are all known now.
            return _replay(report, Manifest.objects.get(community=community, digest=key))
    report.imported = created
    report.already_known = len(good) - created
    if allocate:
        from jianjian.couriers.allocation import reallocate

        result = reallocate(community)
        report.planned, report.overflow = len(result.assigned), len(result.overflow)
    return report


def _replay(report: Report, manifest: Manifest) -> Report:
    report.manifest = manifest
    report.replayed = True
    report.imported = 0
    report.already_known = manifest.imported + manifest.already_known
    report.errors = [RowError(**e) for e in manifest.errors]
    return report


def _method(source: str) -> str:
    return Method.API if source == "json" else Method.MANIFEST
