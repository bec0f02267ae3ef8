"""Fold custody events into a parcel's state and place, and compare with what is stored.

This is the one definition of "what the record says". ``jianjian check`` and the tests' invariant
checks both use it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from jianjian.parcels.models import CustodyEvent, EventKind, Parcel, ParcelState
from jianjian.parcels.transitions import TRANSITIONS
from jianjian.points.models import CollectionPoint

_LEAVING = {EventKind.HAND_OVER, EventKind.RETURN}


@dataclass
class Folded:
    state: str | None = None
    point_id: int | None = None
    slot_id: int | None = None
    pickup_code: str = ""
    returned_to_id: int | None = None
    collected_by: str = ""
    events: int = 0
    problems: list[str] = field(default_factory=list)


def fold(events: Iterable[CustodyEvent]) -> Folded:
    """Replay events in order through the state machine."""
    f = Folded()
    for ev in events:
        f.events += 1
        if ev.seq != f.events:
            f.problems.append(f"event #{ev.seq} found where #{f.events} was expected")
        allowed, target = TRANSITIONS[ev.kind]
        if f.state not in allowed:
            f.problems.append(f"event #{ev.seq} {ev.kind} is illegal from state {f.state}")
        expected = f.state if target is None else target
        if ev.to_state != expected:
            f.problems.append(f"event #{ev.seq} says {ev.to_state}, the machine says {expected}")
        f.state = ev.to_state
        if ev.kind in (EventKind.INTAKE, EventKind.MOVE, EventKind.FOUND):
            f.point_id, f.slot_id, f.pickup_code = ev.point_id, ev.slot_id, ev.pickup_code
            f.returned_to_id, f.collected_by = None, ""
        elif ev.kind == EventKind.ANNOUNCE:
            f.point_id, f.slot_id, f.pickup_code = None, None, ""
        elif ev.kind in _LEAVING:
            f.point_id, f.slot_id, f.pickup_code = ev.point_id, None, ""
            f.collected_by = ev.holder if ev.kind == EventKind.HAND_OVER else ""
            f.returned_to_id = ev.courier_id if ev.kind == EventKind.RETURN else None
        elif ev.kind == EventKind.ELSEWHERE:
            f.collected_by = ev.holder
        # CANCEL and EXPIRE end a pre-advice: the parcel was never at a point, so its place
        # (none) stays as the announcement left it; only the state moves on.
    return f


def differences(parcel: Parcel, f: Folded) -> list[str]:
    """What the stored parcel says that its events do not."""
    out = list(f.problems)
    pairs = (
        ("state", parcel.state, f.state),
        ("point", parcel.point_id, f.point_id),
        ("slot", parcel.slot_id, f.slot_id),
        ("pickup code", parcel.pickup_code, f.pickup_code),
        ("returned to", parcel.returned_to_id, f.returned_to_id),
        ("collected by", parcel.collected_by, f.collected_by),
        ("event count", parcel.event_count, f.events),
    )
    for name, stored, folded in pairs:
        if stored != folded:
            out.append(f"{name}: stored {stored!r}, events say {folded!r}")
    return out


@dataclass
class CheckReport:
    parcels: int = 0
    events: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _grouped_events(community_id: int | None) -> Iterator[tuple[int, list[CustodyEvent]]]:
    qs = CustodyEvent.objects.order_by("parcel_id", "seq")
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    current: int | None = None
    batch: list[CustodyEvent] = []
    for ev in qs.iterator(chunk_size=5000):
        if ev.parcel_id != current:
            if current is not None:
                yield current, batch
            current, batch = ev.parcel_id, []
        batch.append(ev)
    if current is not None:
        yield current, batch


def check(community_id: int | None = None) -> CheckReport:
    """Fold every parcel (streaming, in id order) and every point's on-hand count."""
    report = CheckReport()
    parcels = Parcel.objects.order_by("id")
    points = CollectionPoint.objects.all()
    if community_id is not None:
        parcels = parcels.filter(community_id=community_id)
        points = points.filter(community_id=community_id)
    on_hand: Counter[int] = Counter()
    events = _grouped_events(community_id)
    pending = next(events, None)
    for parcel in parcels.iterator(chunk_size=5000):
        report.parcels += 1
        batch: list[CustodyEvent] = []
        while pending is not None and pending[0] < parcel.pk:
            report.problems.append(f"events of unknown parcel id {pending[0]}")
            pending = next(events, None)
        if pending is not None and pending[0] == parcel.pk:
            batch = pending[1]
            pending = next(events, None)
        report.events += len(batch)
        folded = fold(batch)
        if folded.state == ParcelState.AT_POINT and folded.point_id is not None:
            on_hand[folded.point_id] += 1
        for problem in differences(parcel, folded):
            report.problems.append(f"parcel {parcel.tracking_number} (id {parcel.pk}): {problem}")
    for point in points:
        if point.on_hand != on_hand[point.pk]:
            report.problems.append(
                f"point {point.code} {point.name}: on hand stored {point.on_hand}, "
                f"events say {on_hand[point.pk]}"
            )
    return report
