from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from jianjian.communities.models import Community, Membership, StaffRole
from tests.factories import World, make_world


def make_staff(community: Community, role: str, name: str | None = None) -> Any:
    """A signed-up staff user with ``role`` in ``community``."""
    user = get_user_model().objects.create_user(
        name or f"{role}-{community.slug}", password="pw-for-tests"
    )
    Membership.objects.create(user=user, community=community, role=role)
    return user


@pytest.fixture
def admin_a(world: World) -> Any:
    return make_staff(world.community, StaffRole.ADMIN, "admin-a")


@pytest.fixture
def other_world(db) -> World:
    return make_world(slug="other")


@pytest.fixture
def admin_b(other_world: World) -> Any:
    return make_staff(other_world.community, StaffRole.ADMIN, "admin-b")


@pytest.fixture
def admin_client(client, admin_a):  # type: ignore[no-untyped-def]
    """The test client signed in as the admin of ``world``'s community, reading English."""
    client.force_login(admin_a)
    client.cookies["django_language"] = "en"
    return client
