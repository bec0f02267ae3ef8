"""The API's answer to a number that fits several carriers: 422, the code and the candidates."""

from __future__ import annotations

from jianjian.parcels.models import Parcel
from tests.api.conftest import Tokens
from tests.parcels.test_scan_carrier import both_sto_and_yunda


def test_one_scan_of_an_ambiguous_number_is_answered_with_its_candidates(api: Tokens):
    w, number = api.world, both_sto_and_yunda()
    body = {"point_id": w.counter.pk, "tracking_number": number, "phone": "13812345678"}
    response = api.clerk.post("/parcels/intake", body)
    assert response.status_code == 422, response.content
    answer = response.json()
    assert answer["code"] == "carrier_ambiguous"
    assert answer["candidates"] == ["sto", "yunda"]
    assert not Parcel.objects.filter(tracking_number=number).exists()
    again = api.clerk.post("/parcels/intake", {**body, "carrier": "yunda"})
    assert again.status_code == 200, again.content
    assert Parcel.objects.get(tracking_number=number).carrier.code == "yunda"


def test_a_batch_answers_each_ambiguous_scan_with_its_candidates(api: Tokens):
    w, number = api.world, both_sto_and_yunda()
    response = api.clerk.post(
        "/parcels/intake/batch",
        {
            "point_id": w.counter.pk,
            "scans": [
                {"tracking_number": number, "phone": "13812345678"},
                {"tracking_number": both_sto_and_yunda(), "phone": "13812345678", "carrier": "sto"},
            ],
        },
    )
    assert response.status_code == 200, response.content
    first, second = response.json()["results"]
    assert (first["ok"], first["code"], first["candidates"]) == (
        False,
        "carrier_ambiguous",
        ["sto", "yunda"],
    )
    assert second["ok"] and second["candidates"] is None
