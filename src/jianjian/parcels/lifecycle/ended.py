"""Pre-advice that ends without the parcel reaching a point: the courier (or the carrier's
system) cancels it, or records it delivered elsewhere — to the door, or to a neighbour (who)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from jianjian import clock
from jianjian.notify import outbox
from jianjian.parcels.errors import InvalidInput
from jianjian.parcels.lifecycle.kernel import Actor, lock_parcel, record, require
from jianjian.parcels.models import EventKind, Method, Parcel, ParcelState

# Where a parcel went instead of a point; a neighbour must be named.
PLACES = ("door", "neighbour")


@transaction.atomic
def cancel_announced(
    parcel: Parcel, *, actor: Actor, reason: str = "", method: str = Method.API
) -> Parcel:
    """The parcel will not come (sent back by the sender, lost in transit, a wrong manifest)."""
    parcel = lock_parcel(parcel)
    require(parcel, EventKind.CANCEL)
    now = clock.now()
    parcel.state = ParcelState.CANCELLED
    parcel.closed_at = now
    reason = reason.strip()
    event = record(parcel, EventKind.CANCEL, actor, method, now, data={"reason": reason[:200]})
    # The resident saw it "on its way" on their page: tell them it will not come (here rather
    # than in the kernel's hooks, which are being rewritten apart; same transaction either way).
    outbox.preadvice_ended(parcel, event)
    return parcel


@transaction.atomic
def delivered_elsewhere(
    parcel: Parcel,
    *,
    actor: Actor,
    place: str,
    holder: str = "",
    method: str = Method.API,
) -> Parcel:
    """The courier handed the parcel over outside the points: at the door, or to ``holder``."""
    holder = holder.strip()
    if place not in PLACES:
        raise InvalidInput(
            _("Say where it was delivered: at the door or to a neighbour."), code="place_invalid"
        )
    if place == "neighbour" and not holder:
        raise InvalidInput(_("Name the neighbour who took the parcel."), code="holder_needed")
    parcel = lock_parcel(parcel)
    require(parcel, EventKind.ELSEWHERE)
    now = clock.now()
    who = holder if place == "neighbour" else _("at the door")
    parcel.state = ParcelState.ELSEWHERE
    parcel.closed_at = now
    parcel.collected_by = who[:100]
    event = record(
        parcel,
        EventKind.ELSEWHERE,
        actor,
        method,
        now,
        holder=who[:100],
        data={"place": place},
    )
    # "At your door" / "with neighbour X": what the resident most wants to hear.
    outbox.preadvice_ended(parcel, event)
    return parcel
