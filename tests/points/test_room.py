"""A point's room today: capacity left, and for a locker also its free compartments by size."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from jianjian.communities.models import Membership, StaffRole
from jianjian.couriers import allocation
from jianjian.couriers.tokens import create_token
from jianjian.parcels import services
from jianjian.points.models import PointDay, Slot
from jianjian.points.room import Room, room_today, rooms
from tests.factories import tracking

pytestmark = pytest.mark.django_db


def _fill(world, point, n: int) -> None:
    """Take ``n`` parcels in at ``point`` for the first resident (who allows lockers)."""
    for _ in range(n):
        services.intake(point, tracking(), actor=world.clerk, phone=world.residents[0].phone)


def test_a_counters_room_is_its_capacity_left_today(world):
    assert room_today(world.counter) == 50
    _fill(world, world.counter, 2)
    assert room_today(world.counter) == 48
    assert room_today(world.counter, size="L") == 48  # shelves take any size


def test_a_lockers_room_is_bounded_by_its_free_compartments(world):
    # Capacity 50, but only three compartments (S, M, L).
    assert room_today(world.locker) == 3
    assert room_today(world.locker, size="M") == 2  # the M and the L fit a medium parcel
    assert room_today(world.locker, size="L") == 1
    _fill(world, world.locker, 1)
    assert room_today(world.locker) == 2
    assert PointDay.objects.get(point=world.locker).intakes == 1


def test_a_locker_without_a_big_enough_compartment_has_no_room_for_that_size(world):
    _fill(world, world.locker, 2)  # medium parcels: the M and then the L compartment
    assert room_today(world.locker, size="M") == 0
    assert room_today(world.locker) == room_today(world.locker, size="S") == 1


def test_capacity_left_bounds_a_locker_with_free_compartments(world):
    world.locker.daily_capacity = 1
    world.locker.save()
    assert room_today(world.locker) == 1


def test_an_inactive_compartment_is_no_room(world):
    Slot.objects.filter(point=world.locker, size="L").update(active=False)
    assert room_today(world.locker, size="L") == 0
    assert room_today(world.locker) == 2


def test_rooms_reads_many_points_in_a_few_queries(world, django_assert_max_num_queries):
    points = [world.counter, world.counter2, world.locker]
    with django_assert_max_num_queries(3):
        found = rooms(points)
    assert found[world.locker.pk] == Room(
        world.locker.pk, 50, is_locker=True, compartments={"S": 1, "M": 1, "L": 1}
    )


def test_the_drop_plan_reads_the_same_room(world):
    _fill(world, world.locker, 2)
    info = {p.id: p for p in allocation.point_infos(world.community)}[world.locker.pk]
    room = rooms([world.locker])[world.locker.pk]
    assert (info.remaining, dict(info.compartments)) == (room.capacity_left, room.compartments)


def _admin_api(world) -> tuple[Client, dict[str, str]]:
    user = get_user_model().objects.create_user("room-admin")
    Membership.objects.create(user=user, community=world.community, role=StaffRole.ADMIN)
    _token, raw = create_token("room", role="admin", user=user)
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_api_points_shows_a_lockers_room_not_its_capacity(world):
    _fill(world, world.locker, 2)
    client, headers = _admin_api(world)
    answer = client.get("/api/v1/points", **headers)
    assert answer.status_code == 200
    body = answer.json()
    items = body["items"] if isinstance(body, dict) else body
    by_code = {p["code"]: p for p in items}
    assert by_code["L"]["remaining_today"] == 1  # capacity 50 left 48, one compartment free
    assert by_code["A"]["remaining_today"] == 50


def test_the_counter_shows_the_lockers_room(client, world):
    from tests.web.conftest import make_clerk

    client.force_login(make_clerk(world, world.locker))
    _fill(world, world.locker, 1)
    page = client.get(reverse("counter:intake", args=[world.locker.pk])).content.decode()
    assert "今日剩余 2 / 50" in page
