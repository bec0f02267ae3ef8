from __future__ import annotations

import pytest

from jianjian.communities.models import Membership, StaffRole
from tests.factories import World


def make_clerk(world: World, *points):  # type: ignore[no-untyped-def]
    """The world's clerk user as a clerk of ``points`` (default: the first counter)."""
    user = world.clerk.user
    membership, _ = Membership.objects.get_or_create(
        user=user, community=world.community, defaults={"role": StaffRole.CLERK}
    )
    membership.points.set(points or [world.counter])
    return user


@pytest.fixture
def clerk_client(client, world):  # type: ignore[no-untyped-def]
    client.force_login(make_clerk(world))
    return client
