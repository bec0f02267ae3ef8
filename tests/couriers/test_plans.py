"""The drop plan a courier reads (couriers/plans.py), on a day bigger than the points."""

from __future__ import annotations

import pytest

from jianjian.couriers import allocation, plans
from jianjian.parcels import services
from jianjian.parcels.models import Parcel
from jianjian.points.models import CollectionPoint
from tests.factories import tracking


@pytest.mark.django_db
def test_every_overflow_parcel_of_a_big_day_keeps_its_reason(world):
    """More overflow than fits in one IN list (5,001 parcels, every point full): each parcel
    still shows why it fits nowhere, none a bare "not_planned"."""
    CollectionPoint.objects.filter(community=world.community).update(daily_capacity=0)
    resident = world.residents[0]
    rows = [
        services.Announcement(tracking(), "sf", phone=resident.phone, resident_id=resident.pk)
        for _ in range(5001)
    ]
    created, _known = services.announce_many(
        world.community, rows, actor=services.Actor.system("test")
    )
    assert created == 5001
    allocation.reallocate(world.community)
    plan = plans.drop_plan(world.community, Parcel.objects.all())
    assert plan.stops == []
    assert len(plan.overflow) == 5001
    assert {tuple(reasons) for _parcel, reasons in plan.overflow} == {("no_capacity",)}
