"""Every query the hot paths send to a community's tables filters by ``community_id``.

That is the condition for distributing the tables by community later (Citus's tenant key): a
query that names its community goes to one shard; one that does not goes to all of them. The
hot paths — a scan at the counter, the pickup lookup, a hand-over, the time-based sweeps and one
community's dashboard — run here with their SQL captured, and each statement that reads, changes
or deletes rows of a tenant table must say ``community_id`` in its WHERE clause.

Tenant tables are those holding one community's rows (a ``community_id`` column). Reference
tables — carriers, couriers (they serve several communities), users, the staff directory
(memberships: read by user on every staff request, a handful of rows per community), sessions,
API tokens, idempotency keys, the sign-in throttles — are kept whole on every node and are not
checked.

Statements sent from the lifecycle services (``parcels/lifecycle/``) and from the permission
lookups (``access.py``) are checked apart, so a failure says whose statement it is.
"""

from __future__ import annotations

import datetime as dt
import re
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from jianjian.communities.models import Membership, StaffRole
from jianjian.couriers.models import Overflow
from jianjian.couriers.tokens import create_token
from jianjian.notify.models import GroupRobot, RobotKind, RobotPurpose
from jianjian.notify.sweeps import run_sweeps
from jianjian.parcels import services
from jianjian.parcels.models import Parcel
from jianjian.points.models import DisinfectionTask
from jianjian.reports.figures import compute
from tests.factories import World, make_world, tracking

pytestmark = pytest.mark.django_db

TENANT_TABLES = {
    "communities_building",
    "communities_flat",
    "communities_pickupproxy",
    "communities_resident",
    "console_auditentry",
    "couriers_manifest",
    "couriers_overflow",
    "couriers_pointdistance",
    "notify_grouprobot",
    "notify_notification",
    "parcels_custodyevent",
    "parcels_parcel",
    "points_collectionpoint",
    "points_disinfectionlog",
    "points_disinfectiontask",
    "points_pointday",
    "points_slot",
    "residents_case",
    "stocktake_missingcase",
    "stocktake_stocktake",
}
# The deliberate fan-outs: the worker's reads of what is due, across every community, once a
# tick (a sharded database runs each on all shards at once). What they then act on is named by
# its community. Keyed by (module, function) of the statement's origin.
FAN_OUT = {
    ("notify/sweeps.py", "sweep_parcels"),
    ("notify/sweeps.py", "sweep_digests"),
    ("points/disinfection.py", "alert_overdue"),
    ("notify/board.py", "sweep_boards"),
    # The daily round: the communities' time zones and the round claims of the last days.
    ("notify/sweeps.py", "sweep_rounds"),
}
SRC = str(Path(__file__).resolve().parents[2] / "src" / "jianjian")
LIFECYCLE = ("parcels/services.py", "parcels/lifecycle/")
WRITES_OR_READS = re.compile(r"^\s*(SELECT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)


@dataclass
class Capture:
    statements: list[tuple[str, str]] = field(default_factory=list)  # (sql, where from)

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.statements.append((sql, _origin()))
        return execute(sql, params, many, context)

    def misses(self) -> list[tuple[str, str]]:
        """Statements on a tenant table that do not filter by community_id."""
        return [
            (sql, origin)
            for sql, origin in self.statements
            if _misses_tenant(sql) and not _fan_out(origin)
        ]


def _origin() -> str:
    """The innermost frame of jianjian's own code that sent the statement."""
    for frame in reversed(traceback.extract_stack()):
        if frame.filename.startswith(SRC):
            return f"{frame.filename[len(SRC) + 1 :]}:{frame.lineno} {frame.name}"
    return "?"


def _fan_out(origin: str) -> bool:
    path, _, function = origin.partition(" ")
    return (path.split(":")[0], function) in FAN_OUT


def _tables(sql: str) -> set[str]:
    return {name for name in re.findall(r'"(\w+)"', sql) if name in TENANT_TABLES}


def _misses_tenant(sql: str) -> bool:
    if not WRITES_OR_READS.match(sql) or not _tables(sql):
        return False
    where = sql.split(" WHERE ", 1)[1] if " WHERE " in sql else ""
    return "community_id" not in where


@contextmanager
def captured() -> Iterator[Capture]:
    capture = Capture()
    with connection.execute_wrapper(capture):
        yield capture


# --- the hot paths -------------------------------------------------------------------------------


def _clerk(world: World):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(f"clerk-{world.community.slug}")
    Membership.objects.create(
        user=user, community=world.community, role=StaffRole.CLERK
    ).points.add(world.counter)
    return user


def _api(world: World) -> Callable[[str, dict], dict]:
    _token, raw = create_token("counter-app", role="clerk", user=_clerk(world))
    client = Client()

    def post(path: str, body: dict) -> dict:
        response = client.post(
            path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
        )
        assert response.status_code == 200, response.content
        return dict(response.json())

    return post


def _intake(post: Callable[[str, dict], dict], world: World) -> dict:
    body = {"point_id": world.counter.pk, "tracking_number": tracking(), "phone": "13812345678"}
    return post("/api/v1/parcels/intake", body)


def scan(world: World) -> Capture:
    post = _api(world)
    _intake(post, world)  # the first scan of the day warms what is per day
    with captured() as capture:
        _intake(post, world)
    return capture


def hand_over(world: World) -> Capture:
    post = _api(world)
    parcel = _intake(post, world)["parcel"]
    with captured() as capture:
        post(f"/api/v1/parcels/{parcel['id']}/hand-over", {"method": "code"})
    return capture


def lookup(world: World) -> Capture:
    post = _api(world)
    parcel = _intake(post, world)["parcel"]
    client = Client()
    client.force_login(get_user_model().objects.get(username=f"clerk-{world.community.slug}"))
    with captured() as capture:
        response = client.post(
            f"/counter/{world.counter.pk}/pickup/lookup/", {"q": parcel["pickup_code"]}
        )
    assert response.status_code == 200
    return capture


def sweeps(world: World) -> Capture:
    post = _api(world)
    now = timezone.now()
    for _ in range(2):
        pk = _intake(post, world)["parcel"]["id"]
        Parcel.objects.filter(pk=pk).update(
            intake_at=now - dt.timedelta(days=30), next_reminder_at=now - dt.timedelta(minutes=1)
        )
    robot = GroupRobot.objects.create(
        community=world.community,
        name="业委会群",
        kind=RobotKind.WECOM,
        webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        purpose=RobotPurpose.COMMITTEE,
    )
    GroupRobot.objects.filter(pk=robot.pk).update(next_digest_at=now - dt.timedelta(minutes=1))
    DisinfectionTask.objects.create(
        community=world.community,
        point=world.counter,
        name="快递柜触摸屏",
        interval_hours=4,
        next_due_at=now - dt.timedelta(hours=1),
    )
    # The daily round: one stale pre-advice to expire, one overflow parcel to release.
    stale, _new = services.announce(world.community, tracking(), actor=world.clerk)
    Parcel.objects.filter(pk=stale.pk).update(announced_at=now - dt.timedelta(days=30))
    unplaced, _new = services.announce(world.community, tracking(), actor=world.clerk)
    Overflow.objects.create(
        community=world.community,
        parcel=unplaced,
        reasons="no_capacity",
        computed_at=now - dt.timedelta(days=30),
    )
    world.counter.daily_capacity = 2  # today's two scans fill it: the overflow stays unplaced
    world.counter.save()
    for point in (world.counter2, world.locker):
        point.daily_capacity = 0
        point.save()
    with captured() as capture:
        assert run_sweeps(now) > 0
    assert set(
        Parcel.objects.filter(pk__in=[stale.pk, unplaced.pk]).values_list("state", flat=True)
    ) == {"expired"}
    return capture


def dashboard(world: World) -> Capture:
    post = _api(world)
    _intake(post, world)
    today = timezone.localdate()
    with captured() as capture:
        compute(world.community, today - dt.timedelta(days=6), today)
    return capture


HOT_PATHS = {
    "scan": scan,
    "lookup": lookup,
    "hand_over": hand_over,
    "sweeps": sweeps,
    "dashboard": dashboard,
}


# Paths whose statements still miss the community, by the part that sends them: each would be an
# xfail(strict=True) with its reason, so it fails the day the statements name their community.
GAPS: dict[str, dict[str, str]] = {}


def _cases(part: str) -> list:  # type: ignore[type-arg]
    return [
        pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=GAPS[part][p]))
        if p in GAPS.get(part, {})
        else p
        for p in HOT_PATHS
    ]


def _misses_of(path: str) -> dict[str, list[str]]:
    world = make_world(capacity=1000)
    make_world()  # a second community, so an unfiltered query would have something to find
    capture = HOT_PATHS[path](world)
    assert capture.statements, "nothing was captured: the path did not run"
    parts: dict[str, list[str]] = {"lifecycle": [], "access": [], "rest": []}
    for sql, origin in capture.misses():
        part = (
            "lifecycle"
            if origin.startswith(LIFECYCLE)
            else "access"
            if origin.startswith("access.py")
            else "rest"
        )
        parts[part].append(f"{origin}: {sql[:200]}")
    return parts


@pytest.mark.parametrize("path", _cases("rest"))
def test_hot_path_queries_filter_by_community(path):
    assert _misses_of(path)["rest"] == []


@pytest.mark.parametrize("path", _cases("lifecycle"))
def test_hot_path_queries_of_the_lifecycle_services_filter_by_community(path):
    assert _misses_of(path)["lifecycle"] == []


@pytest.mark.parametrize("path", _cases("access"))
def test_hot_path_permission_lookups_filter_by_community(path):
    assert _misses_of(path)["access"] == []


def test_only_the_sweeps_reads_of_what_is_due_fan_out():
    world = make_world(capacity=1000)
    capture = sweeps(world)
    fanned = {o.split(" ")[1] for s, o in capture.statements if _misses_tenant(s) and _fan_out(o)}
    assert fanned <= {
        "sweep_parcels",
        "sweep_digests",
        "alert_overdue",
        "sweep_boards",
        "sweep_rounds",
    }
    acting = [s for s, o in capture.statements if _tables(s) and not _fan_out(o)]
    assert acting, "the sweeps acted on something, each statement naming its community"


def test_the_check_itself_sees_a_query_without_community():
    world = make_world()
    with captured() as capture:
        list(Parcel.objects.filter(pk=1))
        list(Parcel.objects.filter(community=world.community, pk=1))
    assert len(capture.misses()) == 1
