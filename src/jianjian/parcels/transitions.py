"""The parcel state machine, as data. Both the services and the fold read this one table."""

from __future__ import annotations

from jianjian.parcels.models import EventKind, ParcelState

S = ParcelState
NEW = None  # the parcel does not exist yet

# event kind → (states it may start from, state it leads to; None keeps the state)
TRANSITIONS: dict[str, tuple[frozenset[str | None], str | None]] = {
    EventKind.ANNOUNCE: (frozenset({NEW}), S.ANNOUNCED),
    # A cancelled or expired pre-advice does not stop the parcel being taken in if it comes
    # after all.
    EventKind.INTAKE: (
        frozenset({NEW, S.ANNOUNCED, S.RETURNED, S.CANCELLED, S.EXPIRED}),
        S.AT_POINT,
    ),
    EventKind.HAND_OVER: (frozenset({S.AT_POINT}), S.PICKED_UP),
    EventKind.MOVE: (frozenset({S.AT_POINT}), S.AT_POINT),
    EventKind.RETURN: (frozenset({S.AT_POINT}), S.RETURNED),
    EventKind.MISSING: (frozenset({S.AT_POINT}), S.MISSING),
    EventKind.FOUND: (frozenset({S.MISSING}), S.AT_POINT),
    # Pre-advice that ends: the courier cancels it, or delivers the parcel elsewhere (the door,
    # a neighbour) instead of to a point.
    EventKind.CANCEL: (frozenset({S.ANNOUNCED}), S.CANCELLED),
    EventKind.ELSEWHERE: (frozenset({S.ANNOUNCED}), S.ELSEWHERE),
    # … or it ends by itself: too old, or overflow nobody found room for (the event's data says
    # which: {"reason": "age"} or {"reason": "overflow"}).
    EventKind.EXPIRE: (frozenset({S.ANNOUNCED}), S.EXPIRED),
    EventKind.RECIPIENT: (
        frozenset({S.ANNOUNCED, S.AT_POINT, S.MISSING, S.PICKED_UP, S.RETURNED}),
        None,
    ),
}


def next_state(current: str | None, kind: str) -> str | None:
    """The state after ``kind`` from ``current``, or ``False``-y sentinel via exception."""
    allowed, target = TRANSITIONS[kind]
    if current not in allowed:
        raise ValueError(f"{kind} is not allowed from {current}")
    return current if target is None else target


def is_allowed(current: str | None, kind: str) -> bool:
    return current in TRANSITIONS[kind][0]
