"""The console's collection points: settings and weekly hours, closures, slots, distances."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from jianjian import clock
from jianjian.console.models import AuditEntry
from jianjian.couriers import allocation
from jianjian.couriers.models import PointDistance
from jianjian.notify.models import GroupRobot, Notification, RobotPurpose
from jianjian.parcels import services
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import Parcel
from jianjian.points.models import CollectionPoint, PointClosure, PointKind, Slot
from tests.factories import tracking

# A Tuesday, 10:00 in Shanghai: every test point is open.
NOW = dt.datetime(2026, 11, 3, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 3)


def url(name: str, world, *args) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"console:{name}", args=[world.community.slug, *args])


def point_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": PointKind.COUNTER,
        "name": "小卖部",
        "code": "C",
        "host_shop": "张记",
        "daily_capacity": 50,
        "building": "",
        "active": "on",
    }
    for i in range(7):
        data[f"d{i}_opens"] = "09:00"
        data[f"d{i}_closes"] = "20:30"
    data.update(overrides)
    return data


def test_admin_adds_a_counter_with_hours_per_weekday(admin_client, world):
    data = point_data(
        d5_opens="10:00", d5_closes="16:00", d6_closed="on", d6_opens="", d6_closes=""
    )
    response = admin_client.post(url("ops-point-add", world), data)
    assert response.status_code == 302
    point = CollectionPoint.objects.get(community=world.community, code="C")
    assert point.daily_capacity == 50 and point.host_shop == "张记"
    assert point.hours[0] == ["09:00", "20:30"] and point.hours[5] == ["10:00", "16:00"]
    assert point.hours[6] is None
    entry = AuditEntry.objects.get(community=world.community, action="create")
    assert entry.object_id == str(point.pk) and entry.username == "admin-a"
    page = admin_client.get(url("ops-points", world)).content.decode()
    assert "小卖部" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"daily_capacity": "-5"}, "greater than or equal to 0"),
        ({"daily_capacity": "99999999"}, "at most"),
        ({"d2_opens": "21:00", "d2_closes": "08:00"}, "closing time must come after"),
        ({"d3_opens": "", "d3_closes": ""}, "enter the opening and closing times"),
        ({"code": "A"}, "Another point of this community has the code A"),
        ({"code": "a1"}, "capital letters"),
        ({"name": ""}, "required"),
    ],
)
def test_bad_point_input_is_refused_and_nothing_is_written(admin_client, world, overrides, message):
    before = CollectionPoint.objects.count()
    response = admin_client.post(url("ops-point-add", world), point_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert CollectionPoint.objects.count() == before
    assert not AuditEntry.objects.exists()


def test_bad_input_is_explained_in_chinese(admin_client, world):
    admin_client.cookies["django_language"] = "zh-hans"
    response = admin_client.post(
        url("ops-point-add", world), point_data(d2_opens="21:00", d2_closes="08:00")
    )
    assert "关门时间必须晚于开门时间" in response.content.decode()


def test_editing_hours_and_capacity_is_audited_and_replans(
    admin_client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url("ops-point", world, world.counter.pk),
            point_data(code="A", name="我爱我家", daily_capacity=10, d0_opens="07:00"),
        )
    assert response.status_code == 302
    world.counter.refresh_from_db()
    assert world.counter.daily_capacity == 10 and world.counter.hours[0] == ["07:00", "20:30"]
    entry = AuditEntry.objects.get(action="update")
    assert entry.changes["daily_capacity"] == [50, 10]
    assert entry.changes["hours"] == ["09:00–20:00", "Mon 07:00–20:30; Tue–Sun 09:00–20:30"]
    assert not any(name.startswith("d0_") for name in entry.changes)


def announce(world, n: int) -> list[Parcel]:  # type: ignore[no-untyped-def]
    resident = world.residents[0]
    resident.preferred_point = world.counter
    resident.save()
    return [
        services.announce(
            world.community,
            tracking(),
            actor=world.clerk,
            recipient=RecipientInfo(resident=resident),
        )[0]
        for _ in range(n)
    ]


def test_a_closure_moves_the_planned_parcels_and_tells_the_couriers(admin_client, world):
    world.sf_courier.communities.add(world.community)
    robot = GroupRobot.objects.create(
        community=world.community,
        name="快递群",
        kind="wecom",
        webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        purpose=RobotPurpose.COURIERS,
    )
    with clock.at(NOW):
        parcels = announce(world, 3)
        allocation.reallocate(world.community)
        assert {Parcel.objects.get(pk=p.pk).planned_point_id for p in parcels} == {world.counter.pk}
        response = admin_client.post(
            url("ops-closures", world, world.counter.pk),
            {"starts_on": "2026-11-03", "ends_on": "2026-11-05", "reason": "店内装修"},
        )
    assert response.status_code == 302
    closure = PointClosure.objects.get(point=world.counter)
    assert (closure.starts_on, closure.ends_on, closure.reason) == (
        TODAY,
        dt.date(2026, 11, 5),
        "店内装修",
    )
    planned = {Parcel.objects.get(pk=p.pk).planned_point_id for p in parcels}
    assert world.counter.pk not in planned and planned <= {world.counter2.pk, world.locker.pk}
    to_courier = Notification.objects.get(cause="point_closure", address=world.sf_courier.phone)
    assert "2026-11-03" in to_courier.body and "2026-11-05" in to_courier.body
    assert "店内装修" in to_courier.body and world.counter.name in to_courier.body
    assert Notification.objects.filter(cause="point_closure", robot=robot).exists()
    assert AuditEntry.objects.filter(action="close", object_id=str(closure.pk)).exists()
    page = admin_client.get(url("ops-closures", world, world.counter.pk)).content.decode()
    assert "店内装修" in page


def test_ending_a_closure_early_reopens_the_point_and_replans(admin_client, world):
    with clock.at(NOW):
        parcels = announce(world, 1)
        admin_client.post(
            url("ops-closures", world, world.counter.pk),
            {"starts_on": "2026-11-02", "ends_on": "2026-11-09", "reason": "停电"},
        )
        assert Parcel.objects.get(pk=parcels[0].pk).planned_point_id != world.counter.pk
        closure = PointClosure.objects.get(point=world.counter)
        response = admin_client.post(url("ops-closure-end", world, world.counter.pk, closure.pk))
    assert response.status_code == 302
    closure.refresh_from_db()
    assert closure.reopened_on == TODAY
    assert Parcel.objects.get(pk=parcels[0].pk).planned_point_id == world.counter.pk
    assert AuditEntry.objects.filter(action="reopen").exists()


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        (("2026-11-06", "2026-11-04"), "must end on or after"),
        (("2026-11-04", "2026-11-04"), "already closed from 2026-11-03 to 2026-11-05"),
        (("2026-10-01", "2026-10-02"), "already over"),
        (("2026-11-10", "2028-01-01"), "at most a year"),
    ],
)
def test_bad_closures_are_refused(admin_client, world, dates, message):
    PointClosure.objects.create(
        community=world.community,
        point=world.counter,
        starts_on=TODAY,
        ends_on=dt.date(2026, 11, 5),
        reason="装修",
    )
    with clock.at(NOW):
        response = admin_client.post(
            url("ops-closures", world, world.counter.pk),
            {"starts_on": dates[0], "ends_on": dates[1], "reason": "再关"},
        )
    assert response.status_code == 200 and message in response.content.decode()
    assert PointClosure.objects.count() == 1
    assert not Notification.objects.exists() and not AuditEntry.objects.exists()


def slots_of(point: CollectionPoint) -> set[tuple[int, int]]:
    return set(Slot.objects.filter(point=point, active=True).values_list("shelf", "tier"))


def test_shelves_and_tiers_are_laid_out_and_counted(admin_client, world):
    response = admin_client.post(
        url("ops-slots", world, world.counter.pk), {"shelves": 10, "tiers": 5}
    )
    assert response.status_code == 302
    assert len(slots_of(world.counter)) == 50
    page = admin_client.get(url("ops-slots", world, world.counter.pk)).content.decode()
    assert "<strong>50</strong>" in page
    assert AuditEntry.objects.filter(action="slots", object_id=str(world.counter.pk)).exists()


def test_laying_out_again_never_removes_a_slot_that_holds_a_parcel(admin_client, world):
    slot = Slot.objects.get(point=world.counter, shelf=2, tier=3)
    services.intake(world.counter, tracking(), actor=world.clerk, phone="13812345678", slot=slot)
    response = admin_client.post(
        url("ops-slots", world, world.counter.pk), {"shelves": 1, "tiers": 3}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "2-3" in page and "still holds parcels" in page
    assert len(slots_of(world.counter)) == 6  # nothing changed
    assert not AuditEntry.objects.exists()


def test_a_slot_with_history_is_deactivated_and_an_unused_one_removed(admin_client, world):
    used = Slot.objects.get(point=world.counter, shelf=2, tier=1)
    parcel = services.intake(
        world.counter, tracking(), actor=world.clerk, phone="13812345678", slot=used
    ).parcel
    services.hand_over(world.counter, [parcel], actor=world.clerk)  # history, no longer there
    response = admin_client.post(
        url("ops-slots", world, world.counter.pk), {"shelves": 1, "tiers": 3}
    )
    assert response.status_code == 302
    used.refresh_from_db()
    assert not used.active
    assert not Slot.objects.filter(point=world.counter, shelf=2, tier=2).exists()
    assert slots_of(world.counter) == {(1, 1), (1, 2), (1, 3)}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"shelves": 10000, "tiers": 10000}, "10000 × 10000 is too many"),
        ({"shelves": 0, "tiers": 5}, "greater than or equal to 1"),
        ({"shelves": "x", "tiers": 5}, "whole number"),
    ],
)
def test_bad_shelf_layouts_are_refused(admin_client, world, data, message):
    response = admin_client.post(url("ops-slots", world, world.counter.pk), data)
    assert response.status_code == 200 and message in response.content.decode()
    assert len(slots_of(world.counter)) == 6


def test_locker_compartments_by_size(admin_client, world):
    response = admin_client.post(
        url("ops-slots", world, world.locker.pk), {"small": 20, "medium": 15, "large": 5}
    )
    assert response.status_code == 302
    rows = Slot.objects.filter(point=world.locker, active=True, is_compartment=True)
    assert {s: rows.filter(size=s).count() for s in "SML"} == {"S": 20, "M": 15, "L": 5}
    response = admin_client.post(
        url("ops-slots", world, world.locker.pk), {"small": 600, "medium": 0, "large": 0}
    )
    assert "Too many compartments" in response.content.decode()
    response = admin_client.post(
        url("ops-slots", world, world.locker.pk), {"small": -1, "medium": 0, "large": 0}
    )
    assert "greater than or equal to 0" in response.content.decode()
    assert rows.count() == 40


def test_distances_are_edited_per_point(admin_client, world):
    building = world.flats[0].building
    field = f"b{building.pk}"
    response = admin_client.post(url("ops-distances", world, world.counter.pk), {field: "120"})
    assert response.status_code == 302
    assert PointDistance.objects.get(point=world.counter, building=building).distance == 120
    response = admin_client.post(url("ops-distances", world, world.counter.pk), {field: "-3"})
    assert response.status_code == 200
    assert "greater than or equal to 0" in response.content.decode()
    assert PointDistance.objects.get(point=world.counter, building=building).distance == 120
    admin_client.post(url("ops-distances", world, world.counter.pk), {field: ""})
    assert not PointDistance.objects.filter(point=world.counter).exists()
    assert AuditEntry.objects.filter(action="distances").count() == 2
