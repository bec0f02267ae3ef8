"""A small, fully known community for tests: two counters, a locker bank, residents, couriers."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model

from jianjian.communities.models import Building, Community, Flat, Membership, Resident, StaffRole
from jianjian.couriers.models import Carrier, Courier
from jianjian.parcels import services
from jianjian.points.models import CollectionPoint, PointKind, Slot, SlotSize

_counter = itertools.count(1)


@dataclass
class World:
    community: Community
    counter: CollectionPoint
    counter2: CollectionPoint
    locker: CollectionPoint
    residents: list[Resident]
    sf_courier: Courier
    zto_courier: Courier
    clerk: services.Actor
    flats: list[Flat] = field(default_factory=list)

    @property
    def points(self) -> list[CollectionPoint]:
        return [self.counter, self.counter2, self.locker]


def tracking(carrier: str = "sf") -> str:
    """A fresh number in the carrier's real format."""
    n = next(_counter)
    return {
        "sf": f"SF{1000000000000 + n}",
        "zto": f"73{100000000000 + n}",
        "unknown": f"X{900000 + n}",
    }[carrier]


def make_world(capacity: int = 50, slug: str | None = None) -> World:
    n = next(_counter)
    community = Community.objects.create(name=f"测试社区{n}", slug=slug or f"test-{n}")
    building = Building.objects.create(community=community, number="3")
    flats = [
        Flat.objects.create(community=community, building=building, entrance="2", number=num)
        for num in ("501", "502", "601")
    ]
    counter = CollectionPoint.objects.create(
        community=community,
        code="A",
        name="我爱我家",
        kind=PointKind.COUNTER,
        daily_capacity=capacity,
        opens_at=dt.time(9),
        closes_at=dt.time(20),
    )
    counter2 = CollectionPoint.objects.create(
        community=community,
        code="B",
        name="链家",
        kind=PointKind.COUNTER,
        daily_capacity=capacity,
    )
    locker = CollectionPoint.objects.create(
        community=community,
        code="L",
        name="快递柜",
        kind=PointKind.LOCKER,
        daily_capacity=capacity,
    )
    for point in (counter, counter2):
        Slot.objects.bulk_create(
            Slot(community=community, point=point, shelf=s, tier=t)
            for s in (1, 2)
            for t in (1, 2, 3)
        )
    Slot.objects.bulk_create(
        Slot(community=community, point=locker, shelf=1, tier=tier, is_compartment=True, size=size)
        for tier, size in enumerate((SlotSize.S, SlotSize.M, SlotSize.L), start=1)
    )
    residents = [
        Resident.objects.create(
            community=community, flat=flats[0], name="张三", phone="13812345678"
        ),
        Resident.objects.create(
            community=community, flat=flats[1], name="李四", phone="13912345678"
        ),
        Resident.objects.create(
            community=community,
            flat=flats[2],
            name="王五",
            phone="+86 186 0000 1111",
            locker_consent=False,
        ),
    ]
    sf = Courier.objects.create(
        carrier=Carrier.objects.get(code="sf"), name="顺丰小哥", phone="13700000001"
    )
    zto = Courier.objects.create(
        carrier=Carrier.objects.get(code="zto"), name="中通小哥", phone="13700000002"
    )
    user = get_user_model().objects.create_user(f"clerk{n}", password="x" * 10)
    return World(
        community=community,
        counter=counter,
        counter2=counter2,
        locker=locker,
        residents=residents,
        sf_courier=sf,
        zto_courier=zto,
        clerk=services.Actor.of(user),
        flats=flats,
    )


CLERK_PASSWORD = "counter-password"


def make_clerk(world: World, *points: CollectionPoint) -> Any:
    """The world's user as a clerk of ``points`` (the first counter by default) who can sign in
    with CLERK_PASSWORD."""
    user = world.clerk.user
    user.set_password(CLERK_PASSWORD)
    user.save()
    membership = Membership.objects.create(
        user=user, community=world.community, role=StaffRole.CLERK
    )
    membership.points.set(points or [world.counter])
    return user
