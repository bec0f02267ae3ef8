"""Stocktake (盘点): scan everything physically at a point, see the discrepancies live, and
settle each one on record.

Every change of custody goes through :mod:`jianjian.parcels.services` (mark missing, move here,
take in, found); this module only keeps the session, its scans, how each discrepancy was settled
and the final report. So whatever a stocktake does, ``jianjian check`` still agrees.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from jianjian import clock
from jianjian.communities.models import Community
from jianjian.couriers.recognition import normalize_tracking, recognize
from jianjian.parcels import services
from jianjian.parcels.errors import InvalidInput, InvalidTransition, NotFound
from jianjian.parcels.lifecycle.rules import carrier_label
from jianjian.parcels.models import Method, Parcel, ParcelState
from jianjian.parcels.policy import overdue_after
from jianjian.points.models import CollectionPoint
from jianjian.stocktake.models import (
    ResolutionAction,
    Stocktake,
    StocktakeResolution,
    StocktakeScan,
    StocktakeStatus,
)

S = ParcelState
A = ResolutionAction
STALE_AFTER = dt.timedelta(days=7)


class Kind:
    """Why a parcel is a discrepancy (or not)."""

    FOUND = "found"  # expected here and scanned
    MISSING = "missing"  # expected here, not scanned
    ELSEWHERE = "elsewhere"  # scanned; on record at another point
    MISSING_ON_RECORD = "missing_on_record"  # scanned; recorded missing
    LEFT = "left"  # scanned; already handed over or returned
    NOT_TAKEN_IN = "not_taken_in"  # scanned; pre-advised, never taken in
    UNKNOWN = "unknown"  # scanned; the system has never seen it


KIND_LABELS = {
    Kind.FOUND: pgettext_lazy("stocktake", "found"),
    Kind.MISSING: gettext_lazy("expected here, not scanned"),
    Kind.ELSEWHERE: gettext_lazy("on record at another point"),
    Kind.MISSING_ON_RECORD: gettext_lazy("recorded missing"),
    Kind.LEFT: gettext_lazy("already handed over or returned"),
    Kind.NOT_TAKEN_IN: gettext_lazy("pre-advised, never taken in"),
    Kind.UNKNOWN: gettext_lazy("unknown to the system"),
}

# What a clerk may do about each kind of discrepancy.
ALLOWED: dict[str, tuple[str, ...]] = {
    Kind.MISSING: (A.MARK_MISSING,),
    Kind.ELSEWHERE: (A.MOVE_HERE, A.HAND_TO_ADMIN),
    Kind.MISSING_ON_RECORD: (A.FOUND, A.HAND_TO_ADMIN),
    Kind.LEFT: (A.TAKE_IN, A.HAND_TO_ADMIN),
    Kind.NOT_TAKEN_IN: (A.TAKE_IN, A.HAND_TO_ADMIN),
    Kind.UNKNOWN: (A.TAKE_IN, A.HAND_TO_ADMIN),
}


@dataclass
class Line:
    number: str
    kind: str
    parcel: Parcel | None = None
    resolution: StocktakeResolution | None = None

    @property
    def label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    @property
    def carrier_choices(self) -> list[tuple[str, str]]:
        """For a number never on record that fits several carriers: the carriers it may be, so
        taking it in names one (the label on the parcel says which)."""
        if self.parcel is not None:
            return []
        try:
            found = recognize(self.number)
        except ValidationError:
            return []
        if not found.ambiguous:
            return []
        return [(code, carrier_label(code)) for code in found.candidates]

    @property
    def actions(self) -> tuple[str, ...]:
        if self.resolution is not None:
            return ()
        allowed = ALLOWED.get(self.kind, ())
        if self.kind == Kind.LEFT and self.parcel and self.parcel.state == S.PICKED_UP:
            # A collected parcel cannot come back on record by a scan; the admin sorts it out.
            return (A.HAND_TO_ADMIN,)
        return allowed


@dataclass
class Overview:
    stocktake: Stocktake
    expected: int = 0
    scanned: int = 0
    found: list[Line] = field(default_factory=list)
    missing: list[Line] = field(default_factory=list)
    unexpected: list[Line] = field(default_factory=list)
    resolved: list[Line] = field(default_factory=list)

    @property
    def open_discrepancies(self) -> int:
        return len(self.missing) + len(self.unexpected)


# --- the session -------------------------------------------------------------------------------


def live_for(point: CollectionPoint) -> Stocktake | None:
    return Stocktake.objects.filter(point=point, status__in=["open", "paused"]).first()


def start(point: CollectionPoint, *, actor: services.Actor) -> Stocktake:
    """Start a stocktake at ``point``, or return the one already under way (resumed)."""
    existing = live_for(point)
    if existing is not None:
        return resume(existing, actor=actor)
    try:
        with transaction.atomic():
            return Stocktake.objects.create(
                community_id=point.community_id,
                point=point,
                started_at=clock.now(),
                started_by=actor.user,
                started_by_label=actor.label[:100],
            )
    except IntegrityError:
        # Another clerk started one a moment ago: join it.
        live = live_for(point)
        assert live is not None
        return live


def _lock(stocktake: Stocktake) -> Stocktake:
    return Stocktake.objects.select_for_update().select_related("point").get(pk=stocktake.pk)


def _require_open(stocktake: Stocktake) -> None:
    if stocktake.status == StocktakeStatus.PAUSED:
        raise InvalidInput(_("The stocktake is paused; resume it first."), code="paused")
    if stocktake.status == StocktakeStatus.FINISHED:
        raise InvalidInput(_("The stocktake is already finished."), code="finished")


@transaction.atomic
def pause(stocktake: Stocktake, *, actor: services.Actor) -> Stocktake:
    stocktake = _lock(stocktake)
    _require_open(stocktake)
    stocktake.status = StocktakeStatus.PAUSED
    stocktake.save(update_fields=["status"])
    return stocktake


@transaction.atomic
def resume(stocktake: Stocktake, *, actor: services.Actor) -> Stocktake:
    stocktake = _lock(stocktake)
    if stocktake.status == StocktakeStatus.FINISHED:
        raise InvalidInput(_("The stocktake is already finished."), code="finished")
    if stocktake.status == StocktakeStatus.PAUSED:
        stocktake.status = StocktakeStatus.OPEN
        stocktake.save(update_fields=["status"])
    return stocktake


def _normalize(raw: str) -> str:
    try:
        return normalize_tracking(raw)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code="tracking_invalid") from None


@transaction.atomic
def scan(stocktake: Stocktake, raw: str, *, actor: services.Actor) -> Line:
    """Record one number as physically present. Re-scanning it changes nothing."""
    stocktake = _lock(stocktake)
    _require_open(stocktake)
    number = _normalize(raw)
    parcel = Parcel.objects.filter(community_id=stocktake.community_id, tracking_number=number)
    StocktakeScan.objects.get_or_create(
        stocktake=stocktake,
        tracking_number=number,
        defaults={
            "parcel": parcel.first(),
            "scanned_at": clock.now(),
            "scanned_by_label": actor.label[:100],
        },
    )
    return _line(stocktake, number)


# --- what the shelves say against what the record says ----------------------------------------


def _classify(point_id: int, parcel: Parcel | None, scanned: bool) -> str:
    if parcel is None:
        return Kind.UNKNOWN
    here = parcel.state == S.AT_POINT and parcel.point_id == point_id
    if here:
        return Kind.FOUND if scanned else Kind.MISSING
    return {
        S.AT_POINT: Kind.ELSEWHERE,
        S.MISSING: Kind.MISSING_ON_RECORD,
        S.PICKED_UP: Kind.LEFT,
        S.RETURNED: Kind.LEFT,
        S.ANNOUNCED: Kind.NOT_TAKEN_IN,
    }[S(parcel.state)]


def scanned_line(stocktake: Stocktake, number: str) -> Line | None:
    """The line of a number scanned in this stocktake, as :func:`scan` answered it; None for
    one it never scanned (so a page asked about any other number shows nothing)."""
    if not number or not stocktake.scans.filter(tracking_number=number).exists():
        return None
    return _line(stocktake, number)


def _line(stocktake: Stocktake, number: str) -> Line:
    for line in _all_lines(stocktake):
        if line.number == number:
            return line
    raise NotFound(_("%(number)s is not part of this stocktake.") % {"number": number})


def _all_lines(stocktake: Stocktake) -> list[Line]:
    point_id = stocktake.point_id
    resolutions = {r.tracking_number: r for r in stocktake.resolutions.all()}
    scanned = {s.tracking_number for s in stocktake.scans.all()}
    expected = {
        p.tracking_number: p
        for p in Parcel.objects.filter(point_id=point_id, state=S.AT_POINT).select_related("slot")
    }
    others = {
        p.tracking_number: p
        for p in Parcel.objects.filter(
            community_id=stocktake.community_id,
            tracking_number__in=(scanned | set(resolutions)) - set(expected),
        ).select_related("point", "slot")
    }
    lines = []
    for number in sorted(set(expected) | scanned | set(resolutions)):
        parcel = expected.get(number) or others.get(number)
        kind = _classify(point_id, parcel, number in scanned)
        lines.append(Line(number, kind, parcel, resolutions.get(number)))
    return lines


def overview(stocktake: Stocktake) -> Overview:
    ov = Overview(stocktake)
    lines = _all_lines(stocktake)
    ov.scanned = stocktake.scans.count()
    for line in lines:
        if line.parcel is not None and line.kind in (Kind.FOUND, Kind.MISSING):
            ov.expected += 1
        if line.resolution is not None:
            ov.resolved.append(line)
        elif line.kind == Kind.FOUND:
            ov.found.append(line)
        elif line.kind == Kind.MISSING:
            ov.missing.append(line)
        else:
            ov.unexpected.append(line)
    return ov


# --- settling a discrepancy ------------------------------------------------------------------


def resolve(
    stocktake: Stocktake,
    number: str,
    action: str,
    *,
    actor: services.Actor,
    note: str = "",
    phone: str = "",
    phone_last4: str = "",
    flat: str = "",
    carrier: str = "",
) -> StocktakeResolution:
    """Settle one discrepancy. The custody change and its resolution row commit together."""
    with transaction.atomic():
        stocktake = _lock(stocktake)
        _require_open(stocktake)
        line = _line(stocktake, _normalize(number))
        if action not in line.actions:
            raise InvalidTransition(
                _("%(number)s cannot be %(action)s now.")
                % {"number": line.number, "action": _action_label(action)},
                code="resolution_not_allowed",
            )
        typed = services.Scan(
            line.number, phone=phone, phone_last4=phone_last4, flat=flat, carrier=carrier
        )
        parcel = _apply(stocktake, line, action, actor, note, typed)
        return StocktakeResolution.objects.create(
            stocktake=stocktake,
            tracking_number=line.number,
            parcel=parcel,
            discrepancy=line.kind,
            action=action,
            at=clock.now(),
            by_label=actor.label[:100],
            note=note.strip()[:500],
        )


def _action_label(action: str) -> str:
    try:
        return str(A(action).label)
    except ValueError:
        return action


def _apply(
    stocktake: Stocktake,
    line: Line,
    action: str,
    actor: services.Actor,
    note: str,
    typed: services.Scan,
) -> Parcel | None:
    point = stocktake.point
    method = Method.STOCKTAKE
    if action == A.MARK_MISSING:
        assert line.parcel is not None
        reason = note.strip() or _("not found at stocktake")
        return services.mark_missing(line.parcel, actor=actor, note=reason, method=method)
    if action == A.MOVE_HERE:
        assert line.parcel is not None
        reason = _("found here at stocktake")
        return services.move(line.parcel, to_point=point, actor=actor, method=method, reason=reason)
    if action == A.FOUND:
        assert line.parcel is not None
        return services.mark_found(line.parcel, point=point, actor=actor, method=method)
    if action == A.TAKE_IN:
        # It is already on the shelf: the day's capacity cannot refuse it.
        scan = replace(typed, override_reason=_("found on the shelf at stocktake"))
        result = services.intake(point, scan, actor=actor, method=method)
        return result.parcel
    return line.parcel  # handed to the admin: recorded on the resolution only


# --- finishing and the kept report -------------------------------------------------------------


@transaction.atomic
def finish(stocktake: Stocktake, *, actor: services.Actor) -> Stocktake:
    """Close the stocktake and keep its report (unsettled discrepancies stay listed in it)."""
    stocktake = _lock(stocktake)
    if stocktake.status == StocktakeStatus.FINISHED:
        return stocktake
    ov = overview(stocktake)
    stocktake.status = StocktakeStatus.FINISHED
    stocktake.finished_at = clock.now()
    stocktake.finished_by_label = actor.label[:100]
    stocktake.report = _report(ov)
    stocktake.save()
    return stocktake


def _entry(line: Line) -> dict[str, Any]:
    entry: dict[str, Any] = {"number": line.number, "kind": line.kind}
    if line.resolution is not None:
        entry["kind"] = line.resolution.discrepancy
        entry["resolution"] = line.resolution.action
        entry["by"] = line.resolution.by_label
        entry["note"] = line.resolution.note
    return entry


def _report(ov: Overview) -> dict[str, Any]:
    return {
        "expected": ov.expected,
        "scanned": ov.scanned,
        "found": len(ov.found),
        "missing": [_entry(line) for line in ov.missing],
        "unexpected": [_entry(line) for line in ov.unexpected],
        "resolved": [_entry(line) for line in ov.resolved],
    }


# --- which points are due a stocktake ----------------------------------------------------------


def points_due(community: Community, now: dt.datetime | None = None) -> QuerySet[CollectionPoint]:
    """Active points holding aged (overdue) parcels with no stocktake finished in 7 days."""
    now = now or clock.now()
    aged = Parcel.objects.filter(
        point=OuterRef("pk"),
        state=S.AT_POINT,
        intake_at__lte=now - overdue_after(community),
    )
    recent = Stocktake.objects.filter(point=OuterRef("pk"), finished_at__gte=now - STALE_AFTER)
    return (
        CollectionPoint.objects.filter(community=community, active=True)
        .filter(Exists(aged))
        .exclude(Exists(recent))
        .annotate(last_stocktake=Max("stocktakes__finished_at"))
        .order_by("code")
    )
