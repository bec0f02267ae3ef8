"""The report figures, per point and local day, computed with aggregate queries.

One function, :func:`compute`, serves the dashboard, the ``jianjian report`` command and the
tests, so the three always agree. Definitions:

- intake / handovers / returns: custody events of that kind at the point on that day;
- on hand: at the end of the day, from the events (intake + found + moved in − handed over −
  returned − marked missing − moved out), starting from the count before the range;
- capacity used: the day's intakes against the point's daily limit;
- dwell: time from intake to handover of the parcels handed over that day (median and p90,
  linear interpolation between ranks like PostgreSQL's ``percentile_cont``);
- overdue / dead: parcels waiting at the point at the end of the day (or now, for today) taken
  in longer ago than the first reminder age / the hold period (:mod:`jianjian.parcels.policy`);
- notification delivery: of the messages about the point's parcels queued that day, the share
  sent;
- disinfection on time: of the tasks logged that day, the share done by their due time.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncDate

from jianjian import clock
from jianjian.communities.models import Community
from jianjian.notify.models import Notification, Status
from jianjian.parcels.models import CustodyEvent, EventKind
from jianjian.parcels.policy import dead_cutoff, overdue_after
from jianjian.points.models import CollectionPoint, DisinfectionLog

K = EventKind
ENTERING = (K.INTAKE, K.FOUND, K.MOVE)
LEAVING = (K.HAND_OVER, K.RETURN, K.MISSING)
MAX_DAYS = 366


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p`` quantile (0–1) of ``values`` by linear interpolation; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = p * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Figures:
    """One row of the report: a point (or the community, ``point`` None) over a day (or range)."""

    point: CollectionPoint | None
    day: dt.date | None
    capacity: int = 0
    intake: int = 0
    handovers: int = 0
    returns: int = 0
    on_hand: int = 0
    overdue: int = 0
    dead: int = 0
    notifications: int = 0
    notifications_sent: int = 0
    disinfections: int = 0
    disinfections_on_time: int = 0
    dwell_hours: list[float] = field(default_factory=list, repr=False)

    @property
    def capacity_used(self) -> float | None:
        return self.intake / self.capacity if self.capacity else None

    @property
    def dwell_median(self) -> float | None:
        return percentile(self.dwell_hours, 0.5)

    @property
    def dwell_p90(self) -> float | None:
        return percentile(self.dwell_hours, 0.9)

    @property
    def delivery_rate(self) -> float | None:
        return self.notifications_sent / self.notifications if self.notifications else None

    @property
    def disinfection_on_time(self) -> float | None:
        if not self.disinfections:
            return None
        return self.disinfections_on_time / self.disinfections

    def add(self, other: Figures) -> None:
        """Sum ``other`` into this row (counts add; dwell samples pool)."""
        for name in (
            "capacity",
            "intake",
            "handovers",
            "returns",
            "on_hand",
            "overdue",
            "dead",
            "notifications",
            "notifications_sent",
            "disinfections",
            "disinfections_on_time",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.dwell_hours.extend(other.dwell_hours)


@dataclass
class Report:
    community: Community
    start: dt.date
    end: dt.date  # inclusive
    points: list[CollectionPoint]
    days: list[dt.date]
    # (point id or None for the whole community, day) → figures
    rows: dict[tuple[int | None, dt.date], Figures]
    # point id or None → figures over the whole range (on hand, overdue, dead: at its end)
    totals: dict[int | None, Figures]

    def series(self, point_id: int | None) -> list[Figures]:
        return [self.rows[(point_id, day)] for day in self.days]


class RangeError(ValueError):
    pass


def compute(
    community: Community,
    start: dt.date,
    end: dt.date,
    points: Iterable[CollectionPoint] | None = None,
) -> Report:
    """Figures for every point of ``community`` (or those given) and day from start to end."""
    if end < start:
        raise RangeError("end before start")
    if (end - start).days + 1 > MAX_DAYS:
        raise RangeError("range too long")
    tz = ZoneInfo(community.time_zone)
    chosen = list(
        points
        if points is not None
        else CollectionPoint.objects.filter(community=community).order_by("code")
    )
    ids = [p.pk for p in chosen]
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    lo = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    rows = {
        (p.pk, d): Figures(point=p, day=d, capacity=p.daily_capacity) for p in chosen for d in days
    }
    events = CustodyEvent.objects.filter(community=community, at__gte=lo, at__lt=hi)
    _event_counts(rows, events, ids, tz)
    _on_hand(rows, community, ids, days, lo, events, tz)
    _dwell(rows, events, ids, tz)
    _overdue_dead(rows, community, ids, days, lo, tz)
    _notifications(rows, community, ids, lo, hi, tz)
    _disinfection(rows, community, ids, lo, hi, tz)
    return _with_totals(community, start, end, chosen, days, rows)


def _day(qs, field_name: str, tz: ZoneInfo):  # type: ignore[no-untyped-def]
    return qs.annotate(day=TruncDate(field_name, tzinfo=tz))


def _event_counts(rows, events, ids, tz) -> None:  # type: ignore[no-untyped-def]
    counted = {K.INTAKE: "intake", K.HAND_OVER: "handovers", K.RETURN: "returns"}
    qs = (
        _day(events.filter(point_id__in=ids, kind__in=list(counted)), "at", tz)
        .values("point_id", "day", "kind")
        .annotate(n=Count("id"))
    )
    for row in qs:
        figures = rows[(row["point_id"], row["day"])]
        setattr(figures, counted[row["kind"]], row["n"])


def _deltas(events, tz, by_day: bool) -> dict[tuple[int, dt.date | None], int]:  # type: ignore[no-untyped-def]
    """Net change of on-hand per point (and day): entering events minus leaving ones, a move
    counting out of the point it left (``data.from_point``) and into the one it reached."""
    out: dict[tuple[int, dt.date | None], int] = defaultdict(int)
    qs = _day(events, "at", tz) if by_day else events
    keys = ["point_id", "day"] if by_day else ["point_id"]
    for kinds, sign in ((ENTERING, 1), (LEAVING, -1)):
        for row in qs.filter(kind__in=kinds).values(*keys).annotate(n=Count("id")):
            out[(row["point_id"], row.get("day"))] += sign * row["n"]
    moves = qs.filter(kind=K.MOVE).annotate(source=F("data__from_point"))
    source_keys = ["source", "day"] if by_day else ["source"]
    for row in moves.values(*source_keys).annotate(n=Count("id")):
        if row["source"] is not None:
            out[(int(row["source"]), row.get("day"))] -= row["n"]
    return out


def _on_hand(rows, community, ids, days, lo, events, tz) -> None:  # type: ignore[no-untyped-def]
    before = CustodyEvent.objects.filter(community=community, at__lt=lo)
    base = _deltas(before, tz, by_day=False)
    daily = _deltas(events, tz, by_day=True)
    for pid in ids:
        level = base.get((pid, None), 0)
        for day in days:
            level += daily.get((pid, day), 0)
            rows[(pid, day)].on_hand = level


def _dwell(rows, events, ids, tz) -> None:  # type: ignore[no-untyped-def]
    handovers = _day(events.filter(kind=K.HAND_OVER, point_id__in=ids), "at", tz).annotate(
        dwell=ExpressionWrapper(F("at") - F("parcel__intake_at"), output_field=DurationField())
    )
    for pid, day, dwell in handovers.values_list("point_id", "day", "dwell"):
        if dwell is not None:
            rows[(pid, day)].dwell_hours.append(dwell.total_seconds() / 3600)


def _overdue_dead(rows, community, ids, days, lo, tz) -> None:  # type: ignore[no-untyped-def]
    """Parcels waiting at each point at each day's end (or now, for today) past the first
    reminder age / the hold period.

    The same event arithmetic as on-hand, restricted per day to parcels taken in long enough
    before that moment: a few grouped queries with two filtered counts per day, however long the
    history. Parcels closed before the range add nothing (they came and went), so only events of
    parcels still open at its start are read.
    """
    now = clock.now()
    moments = [
        min(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz), now)
        for day in days
    ]
    # The parcels joined in are named by their community too: without it the database reads
    # every community's parcels to find the few still open (bench/district.py).
    live = CustodyEvent.objects.filter(
        community=community, parcel__community=community, at__lt=max(moments)
    ).filter(Q(parcel__closed_at__isnull=True) | Q(parcel__closed_at__gte=lo))
    overdue_age = overdue_after(community)
    points = list(CollectionPoint.objects.filter(community=community))
    for point in points:
        point.community = community
    # Dead at m: taken in before the point's cutoff (policy.dead_cutoff: its closing time on the
    # hold period's last day); the point is the one the event is counted at.
    cutoffs = [{p.pk: dead_cutoff(p, m) for p in points} for m in moments]

    def dead(i: int, key: str) -> Q:
        q = Q(pk__in=[])
        for pid, cutoff in cutoffs[i].items():
            q |= Q(**{key: pid}, parcel__intake_at__lt=cutoff)
        return q

    def aggregates(name: str, key: str) -> dict[str, Count]:
        def past(i: int, m: dt.datetime) -> Q:
            return Q(parcel__intake_at__lte=m - overdue_age) if name == "overdue" else dead(i, key)

        return {
            f"n{i}": Count("id", filter=Q(at__lt=m) & past(i, m)) for i, m in enumerate(moments)
        }

    for name in ("overdue", "dead"):
        level: dict[tuple[int, int], int] = defaultdict(int)
        for kinds, sign in ((ENTERING, 1), (LEAVING, -1)):
            counts = aggregates(name, "point_id")
            for row in live.filter(kind__in=kinds).values("point_id").annotate(**counts):
                for i in range(len(days)):
                    level[(row["point_id"], i)] += sign * row[f"n{i}"]
        moves = live.filter(kind=K.MOVE).annotate(source=F("data__from_point"))
        for row in moves.values("source").annotate(**aggregates(name, "data__from_point")):
            if row["source"] is not None:
                for i in range(len(days)):
                    level[(int(row["source"]), i)] -= row[f"n{i}"]
        for pid in ids:
            for i, day in enumerate(days):
                setattr(rows[(pid, day)], name, level.get((pid, i), 0))


def _notifications(rows, community, ids, lo, hi, tz) -> None:  # type: ignore[no-untyped-def]
    qs = _day(
        Notification.objects.filter(
            community=community, parcel__point_id__in=ids, created_at__gte=lo, created_at__lt=hi
        ),
        "created_at",
        tz,
    )
    counted = qs.values("parcel__point_id", "day").annotate(
        n=Count("id"), sent=Count("id", filter=Q(status=Status.SENT))
    )
    for row in counted:
        figures = rows[(row["parcel__point_id"], row["day"])]
        figures.notifications, figures.notifications_sent = row["n"], row["sent"]


def _disinfection(rows, community, ids, lo, hi, tz) -> None:  # type: ignore[no-untyped-def]
    qs = _day(
        DisinfectionLog.objects.filter(
            community=community, point_id__in=ids, done_at__gte=lo, done_at__lt=hi
        ),
        "done_at",
        tz,
    )
    counted = qs.values("point_id", "day").annotate(
        n=Count("id"), on_time=Count("id", filter=Q(on_time=True))
    )
    for row in counted:
        figures = rows[(row["point_id"], row["day"])]
        figures.disinfections, figures.disinfections_on_time = row["n"], row["on_time"]


_STOCK = ("on_hand", "overdue", "dead")  # levels, not flows: a range total takes the last day


def _with_totals(community, start, end, chosen, days, rows) -> Report:  # type: ignore[no-untyped-def]
    for day in days:
        whole = Figures(point=None, day=day)
        for p in chosen:
            whole.add(rows[(p.pk, day)])
        rows[(None, day)] = whole
    totals: dict[int | None, Figures] = {}
    for pid, point in [(p.pk, p) for p in chosen] + [(None, None)]:
        total = Figures(point=point, day=None)
        for day in days:
            total.add(rows[(pid, day)])
        last = rows[(pid, days[-1])]
        for name in _STOCK:
            setattr(total, name, getattr(last, name))
        totals[pid] = total
    return Report(community, start, end, chosen, days, rows, totals)
