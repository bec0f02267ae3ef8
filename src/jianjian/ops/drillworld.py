"""The small community that reliability drills (bench/chaos.py, the fault tests) work in.

Created on demand, idempotent: community ``drill`` with one counter ``A`` that never fills up and
an SF courier to take returns.
"""

from __future__ import annotations

from django.db import transaction

from jianjian.communities.models import Community
from jianjian.couriers.models import Carrier, Courier
from jianjian.points.models import CollectionPoint, PointKind, Slot

SLUG = "drill"


@transaction.atomic
def ensure() -> dict[str, int | str]:
    community, _c = Community.objects.get_or_create(slug=SLUG, defaults={"name": "演练社区"})
    point, created = CollectionPoint.objects.get_or_create(
        community=community,
        code="A",
        defaults={"name": "演练代收点", "kind": PointKind.COUNTER, "daily_capacity": 10**7},
    )
    if created:
        Slot.objects.bulk_create(
            Slot(community=community, point=point, shelf=s, tier=t)
            for s in range(1, 6)
            for t in range(1, 6)
        )
    courier = Courier.objects.filter(name="演练顺丰").first() or Courier.objects.create(
        carrier=Carrier.objects.get(code="sf"), name="演练顺丰", phone="13700009999"
    )
    return {"community": SLUG, "point": "A", "courier": courier.pk}
