"""Couriers and carrier systems end their own pre-advice through the API; nobody else does."""

from __future__ import annotations

from jianjian.parcels import services
from jianjian.parcels.models import Parcel
from tests.api.conftest import Tokens
from tests.factories import tracking


def _announced(api: Tokens, carrier: str = "sf") -> Parcel:
    parcel, _created = services.announce(
        api.world.community, tracking(carrier), actor=services.Actor.system("t")
    )
    return parcel


def test_the_carriers_courier_cancels_and_its_system_records_a_neighbour(api: Tokens):
    first, second = _announced(api), _announced(api)
    answer = api.sf.post(f"/parcels/{first.pk}/cancel", {"reason": "sender recalled it"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == "cancelled"
    answer = api.integration.post(
        f"/parcels/{second.pk}/delivered-elsewhere", {"place": "neighbour", "holder": "李四"}
    )
    assert answer.status_code == 200, answer.content
    second.refresh_from_db()
    assert (second.state, second.collected_by) == ("elsewhere", "李四")


def test_another_carrier_sees_no_such_parcel_and_a_clerk_may_not(api: Tokens):
    parcel = _announced(api)
    assert api.zto.post(f"/parcels/{parcel.pk}/cancel", {}).status_code == 404
    assert api.clerk.post(f"/parcels/{parcel.pk}/cancel", {}).status_code == 403
    bad = api.sf.post(f"/parcels/{parcel.pk}/delivered-elsewhere", {"place": "neighbour"})
    assert (bad.status_code, bad.json()["code"]) == (422, "holder_needed")
    parcel.refresh_from_db()
    assert parcel.state == "announced"
