"""Temporary closures of a point: saving one re-plans today's drops and tells the couriers.

Both happen in the closure's own transaction: the allocation moves the announced parcels planned
to the point away from it for the closed days (:func:`jianjian.couriers.allocation.reallocate`
asks :meth:`CollectionPoint.hours_on`, which knows the closures), and one message per courier
serving the community and per couriers' group robot is queued in the outbox.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jianjian.points.models import CollectionPoint, PointClosure

# The longest closure one form may declare: longer than that, deactivate the point instead.
MAX_CLOSURE_DAYS = 366

CLOSED_TEXT = _(
    "[%(community)s] Collection point %(point)s is closed from %(first)s to %(last)s "
    "(%(reason)s). Parcels planned for it are being moved to other points; please do not "
    "drop parcels there on those days."
)
REOPENED_TEXT = _(
    "[%(community)s] Collection point %(point)s is open again from %(day)s; the closure "
    "(%(reason)s) ended early."
)


def overlapping(point: CollectionPoint, first: dt.date, last: dt.date) -> PointClosure | None:
    """A closure of ``point`` that already covers one of the days ``first``…``last``."""
    for closure in PointClosure.objects.filter(
        point=point, starts_on__lte=last, ends_on__gte=first
    ):
        start, end = closure.span()
        if start <= end and start <= last and end >= first:
            return closure
    return None


def check(point: CollectionPoint, first: dt.date, last: dt.date, today: dt.date) -> None:
    """Raise ValidationError (in the user's language) for dates a closure cannot have."""
    if last < first:
        raise ValidationError({"ends_on": gettext("The closure must end on or after it starts.")})
    if last < today:
        raise ValidationError({"ends_on": gettext("That closure is already over.")})
    if (last - first).days + 1 > MAX_CLOSURE_DAYS:
        raise ValidationError(
            {"ends_on": gettext("A closure lasts at most a year; deactivate the point instead.")}
        )
    clash = overlapping(point, first, last)
    if clash is not None:
        start, end = clash.span()
        raise ValidationError(
            gettext("The point is already closed from %(first)s to %(last)s.")
            % {"first": start.isoformat(), "last": end.isoformat()}
        )


def _tell_couriers(point: CollectionPoint, key: str, text: Promise, values: dict[str, str]) -> int:
    """Queue ``text`` to each active courier serving the point's community and to its
    couriers' group robots; return how many messages were queued."""
    from jianjian.couriers.models import Courier
    from jianjian.notify import outbox

    community = point.community
    values = {"community": community.name, "point": str(point), **values}
    with translation.override(settings.LANGUAGE_CODE):
        body = str(text) % values
    queued = 0
    couriers = Courier.objects.filter(communities=community, active=True).order_by("pk")
    for courier in couriers:
        row = outbox.enqueue(
            parcel=None,
            community_id=community.pk,
            cause="point_closure",
            dedup_key=f"{key}:courier:{courier.pk}",
            address=courier.phone,
            body=body,
            params=values,
            quiet=outbox.community_quiet(community),
            time_zone=community.time_zone,
        )
        queued += row is not None
    for robot in outbox.robots(community.pk, "couriers"):
        queued += outbox.to_robot(robot, "point_closure", f"{key}:robot:{robot.pk}", body)
    return queued


def _replan(point: CollectionPoint) -> None:
    from jianjian.couriers.allocation import reallocate

    reallocate(point.community)


@transaction.atomic
def close(
    point: CollectionPoint, first: dt.date, last: dt.date, reason: str, today: dt.date
) -> PointClosure:
    """Close ``point`` on the local days ``first``…``last``, re-plan, tell the couriers."""
    # Lock the point: two admins closing it at once must not both pass the overlap check.
    CollectionPoint.objects.select_for_update().filter(pk=point.pk).first()
    check(point, first, last, today)
    closure = PointClosure.objects.create(
        community_id=point.community_id,
        point=point,
        starts_on=first,
        ends_on=last,
        reason=reason.strip()[:200],
    )
    _replan(point)
    _tell_couriers(
        point,
        f"closure:{closure.pk}",
        CLOSED_TEXT,
        {"first": first.isoformat(), "last": last.isoformat(), "reason": closure.reason},
    )
    return closure


@transaction.atomic
def end_early(closure: PointClosure, today: dt.date) -> bool:
    """Open the point again from ``today``; False when the closure is already over."""
    closure = PointClosure.objects.select_for_update().get(pk=closure.pk)
    first, last = closure.span()
    if last < today or first > last:
        return False
    closure.reopened_on = max(today, first)
    closure.save(update_fields=["reopened_on"])
    point = closure.point
    _replan(point)
    _tell_couriers(
        point,
        f"reopened:{closure.pk}",
        REOPENED_TEXT,
        {"day": closure.reopened_on.isoformat(), "reason": closure.reason},
    )
    return True
