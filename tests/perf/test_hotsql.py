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
