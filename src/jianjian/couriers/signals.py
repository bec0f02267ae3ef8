"""Recompute the allocation when a point's capacity, opening hours or opening state change.

A temporary closure recomputes it itself (:mod:`jianjian.points.closures`), in the closure's
transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from jianjian.points.models import CollectionPoint

# The fields whose change moves parcels between points in today's plan.
WATCHED = ("daily_capacity", "hours", "active", "kind")


def remember_plan_fields(sender: type, instance: CollectionPoint, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    # Intake saves on_hand/code_seq on every scan: skip the extra read for those saves.
    if instance.pk is None or (update_fields and not set(update_fields) & set(WATCHED)):
        instance._plan_changed = False  # type: ignore[attr-defined]
        return
    old = CollectionPoint.objects.filter(pk=instance.pk).values(*WATCHED).first()
    instance._plan_changed = old is not None and any(  # type: ignore[attr-defined]
        old[name] != getattr(instance, name) for name in WATCHED
    )


def reallocate_after_change(sender: type, instance: CollectionPoint, **kwargs: Any) -> None:
    if not getattr(instance, "_plan_changed", False):
        return
    from jianjian.couriers.allocation import reallocate

    community = instance.community
    transaction.on_commit(lambda: reallocate(community))
