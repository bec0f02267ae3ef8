"""What follows a custody event, called by the kernel itself in the event's transaction.

Custody events have no model signals: every writer of events (the kernel's :func:`record`, the
batch intake's bulk insert) calls :func:`recorded` with what it wrote, so the custody log, the
missing-parcel cases and the outbox see bulk-written events exactly like single ones. Events of
a bulk pre-advice (a manifest's 100,000 announcements) cause none of these but one summary log
line (:func:`jianjian.ops.logs.log_bulk_custody`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jianjian.notify import outbox
from jianjian.ops.logs import log_custody
from jianjian.parcels.models import CustodyEvent, EventKind, Parcel, ParcelState
from jianjian.stocktake import cases

Recorded = Sequence[tuple[Parcel, CustodyEvent]]


def _recipient_matched(parcel: Parcel, event: CustodyEvent) -> None:
    # A resident matched while the parcel waits is told it is here (as at intake).
    if parcel.state == ParcelState.AT_POINT:
        outbox.parcel_arrived(parcel, event)


# What each kind of event tells the resident; kinds not named tell nobody.
_MESSAGES: dict[str, Callable[[Parcel, CustodyEvent], None]] = {
    EventKind.FOUND: outbox.parcel_arrived,
    EventKind.MOVE: outbox.parcel_moved,
    EventKind.HAND_OVER: outbox.parcel_collected,
    EventKind.RETURN: outbox.parcel_returned,
    EventKind.RECIPIENT: _recipient_matched,
}


def recorded(pairs: Recorded) -> None:
    """Run the hooks of events just inserted (in their transaction, in their order)."""
    if not pairs:
        return
    events = [event for _parcel, event in pairs]
    log_custody(events)
    cases.follow(events)
    intakes = [(p, e) for p, e in pairs if e.kind == EventKind.INTAKE]
    if intakes:
        # One read of preferences and one insert that skips a key already queued (no savepoint
        # per row), whether one scan or a batch.
        outbox.parcels_arrived(intakes)
    for parcel, event in pairs:
        if event.kind == EventKind.INTAKE:
            continue
        message = _MESSAGES.get(event.kind)
        if message is not None:
            message(parcel, event)
