"""Importing a community's roster (flat, phone, name, optional "moved out") from CSV or XLSX.

Three steps, with the manifests' habits:

1. :func:`read_upload` reads the file through :mod:`jianjian.uploads` (bounded), checks every
   row (:func:`check_rows`, pure) and keeps the normalised good rows and the bad ones with their
   line and reason server-side in a :class:`RosterUpload`, keyed by the file's digest.
2. :func:`make_plan` compares those rows with the community's residents (one read) and says what
   an import would add, change and deactivate; the preview shows it.
3. :func:`apply` re-plans against the database as it is now and writes the plan in one
   transaction with one audit entry: buildings and flats named by the rows are created, residents
   added or updated in bulk. Importing the same file again finds nothing to change.

A resident who is not in the file is left alone (a file may cover one building); a row marked
moved out deactivates its resident, who is never deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils.translation import gettext as _

from jianjian import bulk, clock, uploads
from jianjian.communities.models import (
    Building,
    Community,
    Flat,
    Resident,
    RosterUpload,
    normalize_flat_code,
)
from jianjian.communities.phones import last4, normalize_phone
from jianjian.uploads import RowError

LIMITS = uploads.Limits(rows=20_000, seconds=60.0)
MAX_BYTES = 20 * 1024 * 1024
NAME_MAX = 50
# A confirmed-or-not upload is kept this long; older ones are dropped at the next upload.
KEEP_UPLOADS = dt.timedelta(days=1)

_ALIASES = {
    "flat": "flat",
    "房号": "flat",
    "房间号": "flat",
    "门牌号": "flat",
    "phone": "phone",
    "mobile": "phone",
    "手机号": "phone",
    "手机": "phone",
    "电话": "phone",
    "name": "name",
    "姓名": "name",
    "moved_out": "moved_out",
    "moved-out": "moved_out",
    "已搬离": "moved_out",
    "搬离": "moved_out",
}
_YES = frozenset({"1", "y", "yes", "true", "x", "✓", "√", "是", "已搬离", "搬离", "moved out"})
_NO = frozenset({"", "0", "n", "no", "false", "否"})


def columns() -> uploads.Columns:
    return uploads.Columns(
        aliases=_ALIASES,
        required=("flat", "phone", "name"),
        hint=_("Expected flat, phone, name, moved_out (or 房号, 手机号, 姓名, 已搬离)."),
    )


@dataclass(frozen=True)
class Row:
    """One good row, normalised: flat code ``3-2-501``, phone in E.164."""

    line: int
    flat: str
    phone: str
    name: str
    moved_out: bool

    def as_list(self) -> list[Any]:
        return [self.line, self.flat, self.phone, self.name, self.moved_out]


class RosterRefused(Exception):
    """The import cannot go ahead (bad rows without "import the good rows", a conflict)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# --- checking rows (pure) --------------------------------------------------------------------


def _clean_name(raw: str) -> str:
    """The name as text: control characters dropped, full-width spaces folded. A name that
    looks like a formula (``=1+1``) stays text; exports escape it (``jianjian.exports``)."""
    text = "".join(ch for ch in raw if unicodedata.category(ch) != "Cc")
    return " ".join(text.replace("\u3000", " ").split())


class _Checker:
    """Checks rows one by one, remembering the phones seen earlier in the file; each spelling
    of a flat or a phone is normalised once (a roster repeats them)."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.flats: dict[str, str | ValidationError] = {}
        self.phones: dict[str, str | ValidationError] = {}

    def _flat(self, raw: str) -> str | ValidationError:
        if raw not in self.flats:
            try:
                self.flats[raw] = normalize_flat_code(raw)
            except ValidationError as exc:
                self.flats[raw] = exc
        return self.flats[raw]

    def _phone(self, raw: str) -> str | ValidationError:
        if raw not in self.phones:
            try:
                self.phones[raw] = _plain_national(raw) or normalize_phone(raw)
            except ValidationError as exc:
                self.phones[raw] = exc
        return self.phones[raw]

    def check(self, line: int, record: dict[str, str]) -> Row | RowError:
        def bad(field_name: str, exc_or_code: ValidationError | str, message: str = "") -> RowError:
            if isinstance(exc_or_code, ValidationError):
                code = exc_or_code.code or f"{field_name}_invalid"
                return RowError(line, field_name, code, " ".join(exc_or_code.messages))
            return RowError(line, field_name, exc_or_code, message)

        flat = self._flat(record.get("flat", ""))
        if isinstance(flat, ValidationError):
            return bad("flat", flat)
        phone = self._phone(record.get("phone", ""))
        if isinstance(phone, ValidationError):
            return bad("phone", phone)
        name = _clean_name(record.get("name", ""))
        if not name:
            return bad("name", "name_missing", _("The name is missing."))
        if len(name) > NAME_MAX:
            return bad(
                "name",
                "name_too_long",
                _("The name is longer than %(max)s characters.") % {"max": NAME_MAX},
            )
        moved = unicodedata.normalize("NFKC", record.get("moved_out", "")).strip().lower()
        if moved not in _YES and moved not in _NO:
            return bad(
                "moved_out",
                "moved_out_invalid",
                _("“%(value)s”: write 是/yes when the resident moved out, or leave it empty.")
                % {"value": record.get("moved_out", "")},
            )
        if phone in self.seen:
            return bad(
                "phone",
                "duplicate_in_file",
                _("This phone is already on line %(line)s of this file.")
                % {"line": self.seen[phone]},
            )
        self.seen[phone] = line
        return Row(line, flat, phone, name, moved in _YES)


def _plain_national(raw: str) -> str | None:
    """A roster's usual phone — national digits, no trunk prefix, e.g. ``13812345678`` — in
    E.164 when it is valid in the configured region, without phonenumbers' text parser (its
    slowest step; the validity check is the same one :func:`normalize_phone` makes). ``None``
    for anything else, which then takes the full parse."""
    if not (raw.isascii() and raw.isdigit()) or raw.startswith("0") or len(raw) > 15:
        return None
    code = _country_code()
    number = phonenumbers.PhoneNumber(country_code=code, national_number=int(raw))
    if not phonenumbers.is_valid_number_for_region(number, settings.PHONE_REGION):
        return None
    return f"+{code}{raw}"


def _country_code() -> int:
    return int(phonenumbers.country_code_for_region(settings.PHONE_REGION))


def check_rows(records: Iterable[uploads.Record]) -> tuple[list[Row], list[RowError]]:
    """Each record a good :class:`Row` or a :class:`RowError` with its line and reason."""
    checker = _Checker()
    good: list[Row] = []
    errors: list[RowError] = []
    for line, record in records:
        result = checker.check(line, record)
        (errors if isinstance(result, RowError) else good).append(result)  # type: ignore[arg-type]
    return good, errors


# --- the upload, kept between preview and confirmation ---------------------------------------


def read_upload(community: Community, filename: str, data: bytes, user: Any) -> RosterUpload:
    """Read and check a roster file; raise :class:`uploads.UploadRefused` for an unusable one.
    Uploading the same file again refreshes the same :class:`RosterUpload`."""
    if len(data) > MAX_BYTES:
        raise uploads.UploadRefused(
            _("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // (1024 * 1024)},
            code="too_large",
        )
    records = uploads.read_file(filename, data, columns(), LIMITS)
    good, errors = check_rows(records)
    now = clock.now()
    RosterUpload.objects.filter(community=community, created_at__lt=now - KEEP_UPLOADS).delete()
    upload, _created = RosterUpload.objects.update_or_create(
        community=community,
        digest=hashlib.sha256(data).hexdigest(),
        defaults={
            "filename": filename[:200],
            "rows": [r.as_list() for r in good],
            "errors": [e.as_dict() for e in errors],
            "created_by": user.get_username()[:150] if getattr(user, "pk", None) else "",
            "created_at": now,
            "applied_at": None,
        },
    )
    return upload


def rows_of(upload: RosterUpload) -> list[Row]:
    return [Row(int(r[0]), str(r[1]), str(r[2]), str(r[3]), bool(r[4])) for r in upload.rows]


def errors_of(upload: RosterUpload) -> list[RowError]:
    return [RowError(**e) for e in upload.errors]


# --- planning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Existing:
    pk: int
    flat: str
    name: str
    active: bool


@dataclass
class Plan:
    """What importing the rows would do to the community, as it is now."""

    add: list[Row] = field(default_factory=list)
    change: list[tuple[Row, Existing]] = field(default_factory=list)
    deactivate: list[tuple[Row, Existing]] = field(default_factory=list)
    unchanged: int = 0
    new_flats: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.add or self.change or self.deactivate)


def _existing(community: Community) -> dict[str, Existing]:
    rows = Resident.objects.filter(community=community).values_list(
        "phone", "pk", "flat__code", "name", "active"
    )
    return {phone: Existing(pk, flat, name, active) for phone, pk, flat, name, active in rows}


def make_plan(community: Community, rows: list[Row]) -> Plan:
    """Compare the rows with the community's residents (one read of each table)."""
    existing = _existing(community)
    known_flats = set(Flat.objects.filter(community=community).values_list("code", flat=True))
    plan = Plan()
    new_flats: dict[str, None] = {}
    for row in rows:
        old = existing.get(row.phone)
        if row.moved_out:
            if old is not None and old.active:
                plan.deactivate.append((row, old))
            else:
                plan.unchanged += 1
            continue
        if row.flat not in known_flats:
            new_flats[row.flat] = None
        if old is None:
            plan.add.append(row)
        elif old.flat != row.flat or old.name != row.name or not old.active:
            plan.change.append((row, old))
        else:
            plan.unchanged += 1
    plan.new_flats = list(new_flats)
    return plan


# --- applying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    added: int
    changed: int
    deactivated: int
    unchanged: int
    flats_created: int
    skipped_rows: int


def _insert(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (each ``attname → value``, all with the same keys). Why not
    ``bulk_create``: for a roster of thousands it spends seconds building model instances and
    preparing each value, the database a fraction of that. PostgreSQL gets COPY
    (:func:`jianjian.bulk.copy_insert`); SQLite multi-row ``INSERT … VALUES``. Neither runs
    ``save()`` or signals (``bulk_create`` does not either)."""
    if not rows:
        return
    if bulk.available():
        bulk.copy_insert(model, rows)
        return
    meta, quote = model._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in rows[0]]
    columns = ", ".join(quote(str(f.column)) for f in fields)  # type: ignore[union-attr]
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per = max(1, min(500, connection.ops.bulk_batch_size(list(rows[0]), rows)))  # type: ignore[arg-type]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per):
            batch = rows[start : start + per]
            params = [
                v if v is None or isinstance(v, str | int) else f.get_db_prep_save(v, connection)  # type: ignore[union-attr]
                for row in batch
                for f, v in zip(fields, row.values(), strict=True)
            ]
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "
                + ", ".join([one] * len(batch)),
                params,
            )


def _ensure_flats(community: Community, codes: list[str]) -> dict[str, int]:
    """Create the buildings and flats named by ``codes``; return every flat's id by code."""
    if codes:
        numbers = {code.split("-")[0] for code in codes}
        have = set(
            Building.objects.filter(community=community, number__in=numbers).values_list(
                "number", flat=True
            )
        )
        Building.objects.bulk_create(
            [Building(community=community, number=n) for n in sorted(numbers - have)]
        )
        buildings = dict(
            Building.objects.filter(community=community, number__in=numbers).values_list(
                "number", "pk"
            )
        )
        rows = []
        for code in codes:
            number, entrance, flat = code.split("-")
            rows.append(
                {
                    "community_id": community.pk,
                    "building_id": buildings[number],
                    "entrance": entrance,
                    "number": flat,
                    "code": code,  # what Flat.save() would derive
                }
            )
        _insert(Flat, rows)
    return dict(Flat.objects.filter(community=community).values_list("code", "pk"))


def _write(community: Community, plan: Plan, now: dt.datetime) -> None:
    flat_ids = _ensure_flats(community, plan.new_flats)
    _insert(
        Resident,
        [
            # Every column a plain INSERT would miss: the model's defaults, and phone_last4,
            # which Resident.save() derives.
            {
                "community_id": community.pk,
                "flat_id": flat_ids[row.flat],
                "name": row.name,
                "phone": row.phone,
                "phone_last4": last4(row.phone),
                "locker_consent": True,
                "active": True,
                "created_at": now,
            }
            for row in plan.add
        ],
    )
    updates = [
        Resident(
            pk=old.pk, flat_id=flat_ids[row.flat], name=row.name, active=True, moved_out_at=None
        )
        for row, old in plan.change
    ]
    Resident.objects.bulk_update(
        updates, ["flat", "name", "active", "moved_out_at"], batch_size=1000
    )
    gone = [Resident(pk=old.pk, active=False, moved_out_at=now) for _row, old in plan.deactivate]
    Resident.objects.bulk_update(gone, ["active", "moved_out_at"], batch_size=1000)


def apply(upload: RosterUpload, user: Any, *, import_good_rows: bool = False) -> Outcome:
    """Import a checked upload in one transaction (all of it or nothing), with its audit entry.

    Bad rows refuse the whole import unless ``import_good_rows``; the plan is made again from
    the database as it is now, so confirming twice, or importing the same file again, changes
    nothing the second time.
    """
    from jianjian.console import audit

    errors = errors_of(upload)
    if errors and not import_good_rows:
        raise RosterRefused(
            _("Some rows are wrong. Fix them, or tick “import the good rows”."), code="bad_rows"
        )
    community = upload.community
    now = clock.now()
    try:
        with transaction.atomic():
            plan = make_plan(community, rows_of(upload))
            _write(community, plan, now)
            outcome = Outcome(
                added=len(plan.add),
                changed=len(plan.change),
                deactivated=len(plan.deactivate),
                unchanged=plan.unchanged,
                flats_created=len(plan.new_flats),
                skipped_rows=len(errors),
            )
            RosterUpload.objects.filter(pk=upload.pk).update(applied_at=now)
            audit.record(
                user,
                community,
                "import",
                _(
                    "Roster %(file)s imported: %(added)s added, %(changed)s changed, "
                    "%(gone)s moved out, %(flats)s flats created, %(bad)s bad rows skipped."
                )
                % {
                    "file": upload.filename,
                    "added": outcome.added,
                    "changed": outcome.changed,
                    "gone": outcome.deactivated,
                    "flats": outcome.flats_created,
                    "bad": outcome.skipped_rows,
                },
                upload,
                changes={
                    "added": [None, outcome.added],
                    "changed": [None, outcome.changed],
                    "deactivated": [None, outcome.deactivated],
                    "flats_created": [None, outcome.flats_created],
                },
            )
    except IntegrityError:
        # Someone changed the same residents or flats at the same moment: nothing was written.
        raise RosterRefused(
            _("The residents changed while importing; nothing was imported. Try again."),
            code="conflict",
        ) from None
    return outcome
