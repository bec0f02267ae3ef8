"""Which counters a person may work is read from the staff directory, and the points are then
read with their communities named: a clerk of one community who administers another works
exactly their own point in the first and every point of the second."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from jianjian import access
from jianjian.communities.models import Membership, StaffRole
from jianjian.points.models import CollectionPoint
from tests.factories import make_world

pytestmark = pytest.mark.django_db


def _fresh(user):  # type: ignore[no-untyped-def]
    """The user as the next request loads it (nothing remembered from this one)."""
    return get_user_model().objects.get(pk=user.pk)


def test_a_clerk_here_and_an_admin_there_works_exactly_those_counters():
    here, there, elsewhere = make_world(), make_world(), make_world()
    user = get_user_model().objects.create_user("two-hats")
    Membership.objects.create(user=user, community=here.community, role=StaffRole.CLERK).points.add(
        here.counter
    )
    Membership.objects.create(user=user, community=there.community, role=StaffRole.ADMIN)

    allowed = set(access.clerk_points(_fresh(user)).values_list("pk", flat=True))

    assert allowed == {here.counter.pk} | {p.pk for p in there.points}
    assert access.point_for(_fresh(user), there.locker.pk) == there.locker
    for refused in (here.counter2.pk, elsewhere.counter.pk, "nonsense"):
        with pytest.raises(Http404):
            access.point_for(_fresh(user), refused)


def test_a_closed_point_and_a_person_without_memberships_get_nothing():
    world = make_world()
    clerk = get_user_model().objects.create_user("clerk")
    Membership.objects.create(
        user=clerk, community=world.community, role=StaffRole.CLERK
    ).points.add(world.counter)
    world.counter.active = False
    world.counter.save()
    stranger = get_user_model().objects.create_user("stranger")

    assert not access.clerk_points(_fresh(clerk)).exists()
    assert not access.clerk_points(_fresh(stranger)).exists()


def test_the_directory_is_read_once_per_request_and_the_point_names_its_community():
    """After the first request, every read of the point names its community."""
    world = make_world()
    clerk = get_user_model().objects.create_user("clerk")
    Membership.objects.create(
        user=clerk, community=world.community, role=StaffRole.CLERK
    ).points.add(world.counter)
    # A process learns a point's community once (the first request naming the point).
    access.point_for(_fresh(clerk), world.counter.pk)
    user = _fresh(clerk)
    with CaptureQueriesContext(connection) as queries:
        access.point_for(user, world.counter.pk)
        access.role_of(user)
        access.clerk_points(user).count()

    sqls = [q["sql"] for q in queries]
    directory = [sql for sql in sqls if sql.startswith('SELECT "communities_membership"')]
    points = [sql for sql in sqls if 'FROM "points_collectionpoint"' in sql]
    assert len(directory) == 1
    assert points and all(
        re.search(r'WHERE .*"community_id" (IN|= %s|= \d)', sql) for sql in points
    ), points


def test_a_point_remembered_in_another_community_is_read_anew():
    here, there = make_world(), make_world()
    admin = get_user_model().objects.create_user("admin-there")
    Membership.objects.create(user=admin, community=there.community, role=StaffRole.ADMIN)
    access.point_for(get_user_model().objects.create_superuser("root"), here.counter.pk)
    # Moved by hand in the Django admin after this process remembered where it was.
    CollectionPoint.objects.filter(pk=here.counter.pk).update(community=there.community, code="Z")

    assert access.point_for(_fresh(admin), here.counter.pk).community == there.community


def test_a_refused_point_is_not_read_twice():
    world = make_world()
    stranger = get_user_model().objects.create_user("stranger")
    with CaptureQueriesContext(connection) as queries, pytest.raises(Http404):
        access.point_for(stranger, world.counter.pk)
    # Its community (learned now) and the check: a point just read needs no second try.
    assert len(queries) == 2
