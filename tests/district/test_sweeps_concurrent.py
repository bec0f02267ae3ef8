"""Two workers run the time-based sweeps at the same moment: each due parcel is reminded once, each
dead parcel announced once, each committee robot gets one digest for the day, and each missed
disinfection is reported once.

Runs on whichever database the suite runs on (CI: SQLite and PostgreSQL). On PostgreSQL it is
the row locks and conditional updates that keep the second worker off, not luck: the two sweeps
are released together by a barrier, and how many times each item was acted on is counted.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from jianjian.communities.models import Membership, StaffRole
from jianjian.notify import outbox, sweeps
from jianjian.notify.models import GroupRobot, Notification, RobotKind, RobotPurpose
from jianjian.parcels.models import Parcel
from jianjian.points.models import DisinfectionTask
from tests.factories import World, make_world

pytestmark = pytest.mark.django_db(transaction=True)

REMINDED, DEAD, FRESH = 6, 3, 2


def _parcels(world: World, now: dt.datetime) -> tuple[list[int], list[int]]:
    """Parcels whose first reminder is due, parcels past the hold period, and fresh ones."""
    carrier = world.sf_courier.carrier
    rows = []
    ages = [dt.timedelta(hours=25)] * REMINDED + [dt.timedelta(days=30)] * DEAD
    ages += [dt.timedelta(minutes=5)] * FRESH
    for i, age in enumerate(ages):
        rows.append(
            Parcel(
                community=world.community,
                tracking_number=f"SF{3000000000000 + i}",
                carrier=carrier,
                state="at_point",
                point=world.counter,
                pickup_code=f"C{i}",
                recipient_phone="+8613812345678",
                intake_at=now - age,
                next_reminder_at=now - dt.timedelta(minutes=1) if age > dt.timedelta(hours=1)
                else now + dt.timedelta(hours=20),
            )
        )  # fmt: skip
    made = Parcel.objects.bulk_create(rows)
    return [p.pk for p in made[:REMINDED]], [p.pk for p in made[REMINDED : REMINDED + DEAD]]


def _committee_robot(world: World, now: dt.datetime) -> GroupRobot:
    robot = GroupRobot.objects.create(
        community=world.community,
        name="业委会群",
        kind=RobotKind.WECOM,
        webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        purpose=RobotPurpose.COMMITTEE,
    )
    GroupRobot.objects.filter(pk=robot.pk).update(next_digest_at=now - dt.timedelta(minutes=1))
    return robot


def _overdue_disinfection(world: World, now: dt.datetime) -> DisinfectionTask:
    admin = get_user_model().objects.create_user("sweep-admin", email="admin@example.org")
    Membership.objects.create(user=admin, community=world.community, role=StaffRole.ADMIN)
    return DisinfectionTask.objects.create(
        community=world.community,
        point=world.counter,
        name="快递柜触摸屏",
        interval_hours=4,
        next_due_at=now - dt.timedelta(hours=1),
    )


class Acts:
    """How often each sweep acted on each item, counted in every thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: Counter[tuple[str, int]] = Counter()
        self.lock = threading.Lock()
        self._wrap(monkeypatch, outbox, "parcel_reminder", "reminder", lambda a: a[0].pk)
        self._wrap(monkeypatch, outbox, "parcel_dead", "dead", lambda a: a[0].pk)
        self._wrap(monkeypatch, sweeps, "queue_digest", "digest", lambda a: a[0].pk)

    def _wrap(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str, kind: str,
              key: Callable[[tuple[Any, ...]], int]) -> None:  # fmt: skip
        real = getattr(module, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.counts[(kind, key(args))] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)

    def of(self, kind: str) -> Counter[int]:
        return Counter({pk: n for (k, pk), n in self.counts.items() if k == kind})


def _two_workers_at_once(now: dt.datetime) -> list[object]:
    barrier = threading.Barrier(2)
    results: list[object] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(sweeps.run_sweeps(now))
        except Exception as exc:  # a deadlock or lock timeout would land here
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.parametrize("attempt", range(3))
def test_two_concurrent_sweeps_act_once_on_each_parcel_robot_and_task(monkeypatch, attempt):
    world = make_world()
    now = timezone.now()
    reminded, dead = _parcels(world, now)
    robot = _committee_robot(world, now)
    _overdue_disinfection(world, now)
    acts = Acts(monkeypatch)

    results = _two_workers_at_once(now)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert acts.of("reminder") == Counter({pk: 1 for pk in reminded})
    assert acts.of("dead") == Counter({pk: 1 for pk in dead})
    assert acts.of("digest") == Counter({robot.pk: 1})
    rows = Counter(Notification.objects.values_list("cause", flat=True))
    assert rows["reminder"] == REMINDED  # one channel (the log) per resident
    assert rows["dead"] == DEAD
    assert rows["digest"] >= 1
    assert rows["disinfection_overdue"] == 1
    # Each item moved on once: nothing is due any more at this moment, so a third sweep is idle.
    assert not Parcel.objects.filter(next_reminder_at__lte=now).exists()
    before = Notification.objects.count()
    assert _two_workers_at_once(now) == [0, 0]
    assert Notification.objects.count() == before


def test_one_digest_a_day_even_when_the_sweeps_race_at_the_digest_hour(monkeypatch):
    world = make_world()
    now = timezone.now()
    _parcels(world, now)  # the dead ones are overdue: the digest has something to say
    robot = _committee_robot(world, now)
    acts = Acts(monkeypatch)
    for _ in range(3):
        _two_workers_at_once(now)
    assert acts.of("digest") == Counter({robot.pk: 1})
    robot.refresh_from_db()
    assert robot.next_digest_at is not None and robot.next_digest_at > now
    digests = Notification.objects.filter(cause="digest").values_list("dedup_key", flat=True)
    assert len(set(digests)) == len(list(digests)) >= 1


STALE, OVERFLOWED = 4, 3


@pytest.mark.parametrize("attempt", range(2))
def test_two_concurrent_rounds_expire_replan_and_release_once(monkeypatch, attempt):
    from jianjian.couriers import allocation
    from jianjian.couriers.models import Overflow
    from jianjian.notify.models import BoardPost
    from jianjian.notify.sweeps import ROUND
    from jianjian.parcels import services
    from jianjian.parcels.fold import check
    from jianjian.parcels.matching import RecipientInfo
    from jianjian.parcels.models import CustodyEvent
    from tests.factories import tracking

    world = make_world()
    for point in world.points:
        point.daily_capacity = 0
        point.save()
    now = timezone.now()

    def announce() -> int:
        parcel, _created = services.announce(
            world.community,
            tracking(),
            actor=world.clerk,
            recipient=RecipientInfo(resident=world.residents[0]),
            courier=world.sf_courier,
        )
        return parcel.pk

    stale = [announce() for _ in range(STALE)]
    Parcel.objects.filter(pk__in=stale).update(announced_at=now - dt.timedelta(days=8))
    overflowed = [announce() for _ in range(OVERFLOWED)]
    allocation.reallocate(world.community, now)
    Overflow.objects.filter(parcel_id__in=overflowed).update(
        computed_at=now - dt.timedelta(days=10)
    )
    replans: Counter[int] = Counter()
    real = allocation.reallocate

    def counted(community, *args, **kwargs):  # type: ignore[no-untyped-def]
        replans[community.pk] += 1
        return real(community, *args, **kwargs)

    monkeypatch.setattr(allocation, "reallocate", counted)

    results = _two_workers_at_once(now)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert replans == Counter({world.community.pk: 1})
    assert BoardPost.objects.filter(community=world.community, kind=ROUND).count() == 1
    ended = Counter(
        CustodyEvent.objects.filter(kind="expire").values_list("parcel_id", "data__reason")
    )
    assert ended == Counter(
        {(pk, "age"): 1 for pk in stale} | {(pk, "overflow"): 1 for pk in overflowed}
    )
    rows = Counter(Notification.objects.values_list("cause", flat=True))
    assert rows["expired"] == STALE and rows["released"] == OVERFLOWED
    assert rows["preadvice_ended_courier"] == 1
    assert check(world.community.pk).ok
    assert _two_workers_at_once(now) == [0, 0]
