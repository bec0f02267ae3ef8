"""The lifecycle services: the one door through which a parcel's state changes.

This module only re-exports the verbs of :mod:`jianjian.parcels.lifecycle` (one module per verb
around a small custody kernel), so web views, the API, the CLI and the other apps import them
from one place. Every verb runs in one transaction that locks what it changes, checks the
transition, updates the parcel and the point's counts, appends one custody event per parcel and
runs the event's hooks (custody log, missing cases, outbox). Either all of it is written, or none.
"""

from __future__ import annotations

from jianjian import clock
from jianjian.parcels.lifecycle.announce import Announcement, announce, announce_many
from jianjian.parcels.lifecycle.batch import intake_many
from jianjian.parcels.lifecycle.ended import cancel_announced, delivered_elsewhere
from jianjian.parcels.lifecycle.expire import expire_announced
from jianjian.parcels.lifecycle.intake import intake
from jianjian.parcels.lifecycle.kernel import Actor, local_date
from jianjian.parcels.lifecycle.leave import hand_over, return_to_courier
from jianjian.parcels.lifecycle.missing import mark_found, mark_missing
from jianjian.parcels.lifecycle.move import move
from jianjian.parcels.lifecycle.recipient import assign_recipient
from jianjian.parcels.lifecycle.rules import remaining_capacity
from jianjian.parcels.lifecycle.scan import IntakeResult, Scan

__all__ = [
    "Actor",
    "Announcement",
    "IntakeResult",
    "Scan",
    "announce",
    "announce_many",
    "assign_recipient",
    "cancel_announced",
    "clock",
    "delivered_elsewhere",
    "expire_announced",
    "hand_over",
    "intake",
    "intake_many",
    "local_date",
    "mark_found",
    "mark_missing",
    "move",
    "remaining_capacity",
    "return_to_courier",
]
