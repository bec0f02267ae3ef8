"""CSV and XLSX exports of parcels, custody events, stocktakes and disinfection logs.

Streamed: rows come from the database in chunks (``iterator(chunk_size=…)``) and leave as they
are produced, so a year of a busy community never sits in memory. CSV goes straight to the
response; XLSX is written by openpyxl's write-only mode row by row into a temporary file, which
is then streamed. Every cell passes :func:`jianjian.exports.safe_cell` (formula injection), and
phone numbers are masked as everywhere else in staff views.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from jianjian.communities.models import Community
from jianjian.communities.phones import mask_name, mask_phone
from jianjian.exports import safe_cell
from jianjian.parcels.models import CustodyEvent, Parcel
from jianjian.points.models import DisinfectionLog
from jianjian.stocktake.models import Stocktake

CHUNK = 2000


@dataclass(frozen=True)
class Dataset:
    header: tuple[Any, ...]
    rows: Callable[[Community, dt.datetime, dt.datetime, ZoneInfo], Iterator[tuple[Any, ...]]]
    title: Any
    # For readers who see figures and masked lists only (the committee): these columns' pickup
    # codes are left empty and these columns' names masked.
    code_columns: tuple[int, ...] = ()
    name_columns: tuple[int, ...] = ()

    def masked(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        cells = list(row)
        for i in self.code_columns:
            cells[i] = ""
        for i in self.name_columns:
            cells[i] = mask_name(str(cells[i] or ""))
        return tuple(cells)


def _t(value: dt.datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _parcels(community: Community, lo: dt.datetime, hi: dt.datetime, tz: ZoneInfo):  # type: ignore[no-untyped-def]
    qs: QuerySet[Parcel] = (
        Parcel.objects.filter(community=community)
        .filter(
            Q(intake_at__gte=lo, intake_at__lt=hi)
            | Q(intake_at__isnull=True, announced_at__gte=lo, announced_at__lt=hi)
        )
        .order_by("pk")
    )
    fields = (
        "tracking_number", "carrier__name", "state", "point__code", "slot__shelf", "slot__tier",
        "pickup_code", "recipient_name", "recipient_phone", "recipient_flat__code",
        "announced_at", "intake_at", "closed_at", "collected_by",
    )  # fmt: skip
    for row in qs.values_list(*fields).iterator(chunk_size=CHUNK):
        (number, carrier, state, point, shelf, tier, code, name, phone, flat, ann, took, closed,
         holder) = row  # fmt: skip
        slot = f"{shelf}-{tier}" if shelf is not None else ""
        yield (number, carrier, state, point or "", slot, code, name, mask_phone(phone),
               flat or "", _t(ann, tz), _t(took, tz), _t(closed, tz), holder)  # fmt: skip


def _events(community: Community, lo: dt.datetime, hi: dt.datetime, tz: ZoneInfo):  # type: ignore[no-untyped-def]
    qs = CustodyEvent.objects.filter(community=community, at__gte=lo, at__lt=hi).order_by(
        "at", "pk"
    )
    fields = (
        "at", "parcel__tracking_number", "seq", "kind", "to_state", "point__code", "slot__shelf",
        "slot__tier", "pickup_code", "actor_label", "method", "courier__name", "holder", "data",
    )  # fmt: skip
    for row in qs.values_list(*fields).iterator(chunk_size=CHUNK):
        at, number, seq, kind, state, point, shelf, tier, code, who, how, courier, holder, data = (
            row
        )
        slot = f"{shelf}-{tier}" if shelf is not None else ""
        details = json.dumps(data, ensure_ascii=False, sort_keys=True) if data else ""
        yield (_t(at, tz), number, seq, kind, state, point or "", slot, code, who, how,
               courier or "", holder, details)  # fmt: skip


def _stocktakes(community: Community, lo: dt.datetime, hi: dt.datetime, tz: ZoneInfo):  # type: ignore[no-untyped-def]
    qs = (
        Stocktake.objects.filter(community=community, started_at__gte=lo, started_at__lt=hi)
        .select_related("point")
        .order_by("started_at")
    )
    for take in qs.iterator(chunk_size=CHUNK):
        report = take.report or {}
        yield (take.pk, take.point.code, take.status, _t(take.started_at, tz),
               take.started_by_label, _t(take.finished_at, tz), report.get("expected", ""),
               report.get("scanned", ""), report.get("found", ""),
               len(report.get("missing", [])), len(report.get("unexpected", [])),
               len(report.get("resolved", [])))  # fmt: skip


def _disinfection(community: Community, lo: dt.datetime, hi: dt.datetime, tz: ZoneInfo):  # type: ignore[no-untyped-def]
    qs = DisinfectionLog.objects.filter(community=community, done_at__gte=lo, done_at__lt=hi)
    fields = ("done_at", "point__code", "task__name", "done_by_label", "agent", "due_at",
              "on_time", "photo")  # fmt: skip
    for done, point, task, who, agent, due, on_time, photo in (
        qs.order_by("done_at").values_list(*fields).iterator(chunk_size=CHUNK)
    ):
        yield (_t(done, tz), point, task, who, agent, _t(due, tz), on_time, bool(photo))


DATASETS: dict[str, Dataset] = {
    "parcels": Dataset(
        (
            _("tracking number"),
            _("carrier"),
            _("state"),
            _("point"),
            _("slot"),
            _("pickup code"),
            _("recipient name"),
            _("recipient phone"),
            _("flat"),
            _("announced"),
            _("taken in"),
            _("closed"),
            _("collected by"),
        ),
        _parcels,
        _("parcels"),
        code_columns=(5,),
        name_columns=(6, 12),
    ),
    "events": Dataset(
        (
            _("when"),
            _("tracking number"),
            _("sequence"),
            _("what"),
            _("state after"),
            _("where"),
            _("slot"),
            _("pickup code"),
            _("who"),
            _("how"),
            _("courier"),
            _("holder"),
            _("details"),
        ),
        _events,
        _("custody events"),
        code_columns=(7,),
        name_columns=(11,),
    ),
    "stocktakes": Dataset(
        (
            _("stocktake"),
            _("point"),
            _("status"),
            _("started"),
            _("started by"),
            _("finished"),
            _("expected"),
            _("scanned"),
            _("found"),
            _("missing"),
            _("unexpected"),
            _("resolved"),
        ),
        _stocktakes,
        _("stocktakes"),
    ),
    "disinfection": Dataset(
        (
            _("done at"),
            _("point"),
            _("task"),
            _("done by"),
            _("agent"),
            _("was due"),
            _("on time"),
            _("photo"),
        ),
        _disinfection,
        _("disinfection logs"),
    ),
}


def bounds(
    community: Community, start: dt.date, end: dt.date
) -> tuple[dt.datetime, dt.datetime, ZoneInfo]:
    tz = ZoneInfo(community.time_zone)
    lo = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return lo, hi, tz


def rows(
    name: str, community: Community, start: dt.date, end: dt.date, *, masked: bool = False
) -> Iterator[tuple[Any, ...]]:
    """The header, then every row of dataset ``name``, cells made safe; ``masked`` leaves out
    pickup codes and masks names (see :func:`jianjian.access.sees_private_details`)."""
    dataset = DATASETS[name]
    lo, hi, tz = bounds(community, start, end)
    yield tuple(safe_cell(str(h)) for h in dataset.header)
    for row in dataset.rows(community, lo, hi, tz):
        yield tuple(safe_cell(v) for v in (dataset.masked(row) if masked else row))


class _Echo:
    """csv.writer writes into this and gets the line back, so each row is yielded at once."""

    def write(self, value: str) -> str:
        return value


def csv_stream(all_rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so Excel opens UTF-8 Chinese text correctly
    for row in all_rows:
        yield writer.writerow(row)


def xlsx_file(all_rows: Iterable[tuple[Any, ...]], title: str) -> IO[bytes]:
    """Write the rows into an XLSX in a temporary file (write-only mode: constant memory)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "export")
    for row in all_rows:
        sheet.append(list(row))
    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed by the response
    workbook.save(out)
    out.seek(0)
    return out
