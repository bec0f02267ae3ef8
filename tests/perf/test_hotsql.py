"""The scan path's statements built once (jianjian/hotsql.py) store and read exactly what the
ORM would: the same columns, the same converted values, the same skipped duplicates."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.forms.models import model_to_dict

from jianjian import hotsql
from jianjian.communities.models import Resident
from jianjian.couriers.carriers import carrier
from jianjian.notify.models import Notification
from jianjian.parcels.models import CustodyEvent, EventKind, Method, Parcel, ParcelState
from tests.factories import World, tracking

pytestmark = pytest.mark.django_db


_codes = itertools.count(1)
NOW = dt.datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)


def _parcel(world: World) -> Parcel:
    resident = world.residents[0]
    return Parcel(
        community=world.community,
        tracking_number=tracking(),
        carrier=carrier("sf"),
        state=ParcelState.AT_POINT,  # a text choice: a str subclass
        point=world.counter,
        pickup_code=f"A1-1-{next(_codes):03d}",  # a live code is unique at its point
        recipient=resident,
        recipient_name=resident.name,
        recipient_phone=resident.phone,
        recipient_last4=resident.phone_last4,
        recipient_flat=resident.flat,
        intake_at=NOW,
        next_reminder_at=NOW + dt.timedelta(days=1),
        event_count=1,
    )


def _stored(parcel: Parcel) -> dict:  # type: ignore[type-arg]
    row = model_to_dict(Parcel.objects.get(pk=parcel.pk))
    for name in ("id", "tracking_number", "pickup_code", "created_at", "updated_at"):
        row.pop(name, None)
    return row


def test_an_insert_stores_what_save_stores(world):
    by_orm, by_hotsql = _parcel(world), _parcel(world)
    by_orm.save(force_insert=True)
    hotsql.insert(by_hotsql)
    assert by_hotsql.pk is not None and not by_hotsql._state.adding
    assert _stored(by_hotsql) == _stored(by_orm)
    stored = Parcel.objects.get(pk=by_hotsql.pk)
    assert stored.created_at is not None and stored.updated_at is not None  # auto_now(_add)


def test_several_rows_and_json_go_in_as_bulk_create_puts_them(world):
    parcels = [_parcel(world) for _ in range(3)]
    hotsql.insert_many(parcels)
    events = [
        CustodyEvent(
            community_id=p.community_id,
            parcel=p,
            seq=1,
            kind=EventKind.INTAKE,
            to_state=p.state,
            at=p.intake_at,
            actor_label="clerk",
            method=Method.API,
            point_id=p.point_id,
            pickup_code=p.pickup_code,
            data={"warnings": ["outside_hours"], "n": i},
        )
        for i, p in enumerate(parcels)
    ]
    hotsql.insert_many(events)
    # Ids come back in the rows' order.
    assert [
        e.parcel_id
        for e in CustodyEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("pk")
    ] == [p.pk for p in parcels]
    assert [CustodyEvent.objects.get(pk=e.pk).data["n"] for e in events] == [0, 1, 2]


def test_a_row_read_back_equals_the_orms(world):
    resident = world.residents[0]
    (read,) = hotsql.fetch_in(Resident, "id", [resident.pk])
    assert model_to_dict(read) == model_to_dict(Resident.objects.get(pk=resident.pk))
    assert hotsql.fetch_in(Resident, "id", []) == []


def test_ignore_conflicts_skips_a_key_already_queued(world):
    def message(body: str) -> Notification:
        return Notification(
            community=world.community,
            dedup_key="intake:1:1",
            cause="intake",
            channel="log",
            address="+8613812345678",
            body=body,
        )

    hotsql.insert_many([message("first")], ignore_conflicts=True)
    hotsql.insert_many([message("again")], ignore_conflicts=True)
    assert list(
        Notification.objects.filter(dedup_key="intake:1:1").values_list("body", flat=True)
    ) == ["first"]


def _fields(obj) -> dict:  # type: ignore[no-untyped-def]
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_a_new_instance_is_what_the_constructor_builds(world, django_assert_num_queries):
    resident = world.residents[0]
    given = dict(
        community=world.community,
        tracking_number="SF1234567890123",
        carrier=carrier("sf"),
        point=world.counter,
        recipient=resident,
        slot=None,
        intake_at=NOW,
    )
    built, constructed = hotsql.new(Parcel, **given), Parcel(**given)
    assert _fields(built) == _fields(constructed)
    assert built._state.adding and built._state.db is None
    with django_assert_num_queries(0):  # the related objects given are cached on it
        assert built.community is world.community and built.recipient is resident
        assert built.slot is None


def test_each_new_instance_gets_its_own_computed_defaults(world):
    first = hotsql.new(CustodyEvent, community=world.community, kind=EventKind.INTAKE)
    second = hotsql.new(CustodyEvent, community_id=world.community.pk, kind=EventKind.INTAKE)
    assert first.data == {} and second.data == {}
    first.data["n"] = 1
    assert second.data == {}  # JSONField(default=dict): never one dict shared
    assert _fields(second) == _fields(
        CustodyEvent(community_id=world.community.pk, kind=EventKind.INTAKE)
    )


def test_a_new_instance_refuses_a_name_the_model_lacks(world):
    with pytest.raises(TypeError, match="colour"):
        hotsql.new(Parcel, community=world.community, colour="red")


def test_a_model_with_its_own_init_is_built_by_it(world):
    from jianjian.points.models import CollectionPoint

    point = hotsql.new(
        CollectionPoint,
        community=world.community,
        code="Z",
        name="Z",
        opens_at=dt.time(9, 0),  # a keyword only CollectionPoint.__init__ knows
        closes_at=dt.time(18, 0),
    )
    assert (
        point.opening_hours
        == CollectionPoint(
            community=world.community, opens_at=dt.time(9, 0), closes_at=dt.time(18, 0)
        ).opening_hours
    )


def test_a_row_read_back_is_a_loaded_instance(world):
    resident = world.residents[0]
    (read,) = hotsql.fetch_in(Resident, "id", [resident.pk])
    assert not read._state.adding and read._state.db == "default"
    read.name = "改名"
    read.save()  # an UPDATE of the row read, not a second row
    assert Resident.objects.get(pk=resident.pk).name == "改名"
    assert Resident.objects.filter(phone=resident.phone).count() == 1


def test_many_values_are_asked_in_one_statement(world, django_assert_num_queries):
    ids = [r.pk for r in world.residents]
    asked = ids + list(range(10**9, 10**9 + 60))  # past psycopg's 50-parameter cache
    with django_assert_num_queries(1):
        read = hotsql.fetch_in(Resident, "id", asked)
    assert sorted(r.pk for r in read) == sorted(ids)
