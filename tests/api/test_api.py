"""The open API: scoping by role (404 across carriers), writes by role, errors, idempotency."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from jianjian.couriers.models import Manifest
from jianjian.parcels import services
from jianjian.parcels.models import CustodyEvent, Parcel
from tests.api.conftest import Tokens
from tests.factories import tracking

pytestmark = pytest.mark.django_db


def sf_parcel(api: Tokens, **kw) -> Parcel:
    w = api.world
    return services.intake(
        w.counter, tracking("sf"), actor=w.clerk, phone="13812345678", **kw
    ).parcel


def zto_parcel(api: Tokens) -> Parcel:
    w = api.world
    return services.intake(w.counter, tracking("zto"), actor=w.clerk, phone="13812345678").parcel


# --- authentication and roles -------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/parcels"),
    ("get", "/parcels/1"),
    ("get", "/points"),
    ("get", "/manifests"),
    ("get", "/manifests/1"),
    ("get", "/drop-plans/x"),
    ("get", "/returns"),
    ("get", "/couriers"),
    ("post", "/parcels/intake"),
    ("post", "/parcels/intake/batch"),
    ("post", "/parcels/1/hand-over"),
    ("post", "/parcels/1/return"),
    ("post", "/manifests"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_authentication(api: Tokens, method, path):
    response = api.anonymous.get(path) if method == "get" else api.anonymous.post(path, {})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_token_without_a_role_is_refused(api: Tokens, method, path):
    response = api.no_role.get(path) if method == "get" else api.no_role.post(path, {})
    assert response.status_code == 403 and response.json()["code"] == "no_role"


def test_an_unknown_token_is_unauthenticated(api: Tokens):
    api.sf.token = "jj_nope_nope"
    assert api.sf.get("/parcels").status_code == 401


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/parcels/intake", {"point_id": 1, "tracking_number": "SF1000000000001"}),
        ("/parcels/intake/batch", {"point_id": 1, "scans": [{"tracking_number": "SF1"}]}),
        ("/parcels/1/hand-over", {}),
        ("/parcels/1/return", {"courier_id": 1}),
        ("/manifests", {"community": "x", "parcels": [{"tracking_number": "SF1"}]}),
    ],
)
def test_a_resident_token_and_a_read_only_token_cannot_write(api: Tokens, path, body):
    for client in (api.resident, api.read_only):
        response = client.post(path, body)
        assert response.status_code == 403, (path, response.content)
    assert not CustodyEvent.objects.exists()


# --- scoping ------------------------------------------------------------------------------------


def test_a_courier_of_carrier_a_gets_404_for_carrier_bs_parcel(api: Tokens):
    mine, theirs = sf_parcel(api), zto_parcel(api)
    assert api.sf.get(f"/parcels/{mine.pk}").status_code == 200
    response = api.sf.get(f"/parcels/{theirs.pk}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    listed = [p["tracking_number"] for p in api.sf.get("/parcels").json()["items"]]
    assert listed == [mine.tracking_number]
    assert api.zto.get(f"/parcels/{mine.pk}").status_code == 404


def test_a_courier_sees_no_pickup_codes_a_clerk_does(api: Tokens):
    parcel = sf_parcel(api)
    assert api.sf.get(f"/parcels/{parcel.pk}").json()["pickup_code"] is None
    assert api.clerk.get(f"/parcels/{parcel.pk}").json()["pickup_code"] == parcel.pickup_code


def test_a_courier_outside_the_community_sees_nothing(api: Tokens):
    api.world.sf_courier.communities.clear()
    parcel = sf_parcel(api)
    assert api.sf.get(f"/parcels/{parcel.pk}").status_code == 404
    assert api.sf.get(f"/drop-plans/{api.world.community.slug}").status_code == 404


def test_the_integration_token_sees_its_carriers_parcels_only(api: Tokens):
    mine, theirs = sf_parcel(api), zto_parcel(api)
    assert api.integration.get(f"/parcels/{mine.pk}").status_code == 200
    assert api.integration.get(f"/parcels/{theirs.pk}").status_code == 404


def test_a_resident_reads_only_their_own_parcels(api: Tokens):
    own = sf_parcel(api)
    other = services.intake(
        api.world.counter, tracking(), actor=api.world.clerk, phone="13912345678"
    ).parcel
    assert api.resident.get(f"/parcels/{own.pk}").status_code == 200
    assert api.resident.get(f"/parcels/{other.pk}").status_code == 404


def test_search_by_exact_tracking_number(api: Tokens):
    parcel, _other = sf_parcel(api), sf_parcel(api)
    items = api.admin.get("/parcels", q=parcel.tracking_number.lower()).json()["items"]
    assert [p["id"] for p in items] == [parcel.pk]


def test_lists_are_paginated(api: Tokens):
    for _ in range(3):
        sf_parcel(api)
    page = api.admin.get("/parcels", limit=2).json()
    assert page["count"] == 3 and len(page["items"]) == 2
    assert len(api.admin.get("/parcels", limit=2, offset=2).json()["items"]) == 1
    assert api.admin.get("/parcels", limit=0).status_code == 422


# --- intake, hand-over, return ------------------------------------------------------------------


def test_a_clerk_takes_a_pre_advised_parcel_in_with_one_scan(api: Tokens):
    w = api.world
    number = tracking()
    api.sf.post(
        "/manifests",
        {
            "community": w.community.slug,
            "parcels": [{"tracking_number": number, "phone": "13812345678"}],
        },
    )
    response = api.clerk.post(
        "/parcels/intake", {"point_id": w.counter.pk, "tracking_number": number}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["parcel"]["state"] == "at_point" and body["parcel"]["pickup_code"]
    assert body["remaining_capacity"] == 49


@time_machine.travel(dt.datetime(2026, 3, 2, 2, 30, tzinfo=dt.UTC), tick=False)  # open
def test_a_parcel_brought_to_the_wrong_point_is_taken_in_with_a_warning(api: Tokens):
    w = api.world
    w.residents[0].preferred_point = w.counter2
    w.residents[0].save()
    number = tracking()
    api.sf.post(
        "/manifests",
        {
            "community": w.community.slug,
            "parcels": [{"tracking_number": number, "phone": "13812345678"}],
        },
    )
    body = api.clerk.post(
        "/parcels/intake", {"point_id": w.counter.pk, "tracking_number": number}
    ).json()
    assert body["warnings"] == ["wrong_point"]


def test_a_clerk_cannot_take_in_at_another_point_and_a_courier_not_at_all(api: Tokens):
    w = api.world
    body = {"point_id": w.counter2.pk, "tracking_number": tracking(), "phone": "13812345678"}
    assert api.clerk.post("/parcels/intake", body).status_code == 404
    body["point_id"] = w.counter.pk
    assert api.sf.post("/parcels/intake", body).status_code == 403
    assert not Parcel.objects.exists()


def test_domain_errors_are_json_with_a_stable_code(api: Tokens):
    w = api.world
    w.counter.daily_capacity = 0
    w.counter.save()
    body = {"point_id": w.counter.pk, "tracking_number": tracking(), "phone": "13812345678"}
    response = api.clerk.post("/parcels/intake", body)
    assert response.status_code == 409
    assert response.json()["code"] == "capacity_exceeded" and response.json()["message"]
    bad = api.clerk.post(
        "/parcels/intake", {"point_id": w.counter.pk, "tracking_number": tracking(), "phone": "12"}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "phone_invalid"
    malformed = api.clerk.post("/parcels/intake", {"tracking_number": 5})
    assert malformed.status_code == 422 and malformed.json()["code"] == "invalid_request"


def test_batch_intake_answers_each_scan(api: Tokens):
    w = api.world
    good = tracking()
    body = {
        "point_id": w.counter.pk,
        "scans": [
            {"tracking_number": good, "phone": "13812345678"},
            {"tracking_number": tracking()},  # nobody knows whose
            {"tracking_number": good, "phone": "13812345678"},  # a re-scan
        ],
    }
    out = api.clerk.post("/parcels/intake/batch", body).json()
    assert [r["ok"] for r in out["results"]] == [True, False, True]
    assert out["results"][1]["code"] == "recipient_needed"
    assert out["results"][2]["duplicate"] is True and out["taken_in"] == 2
    assert Parcel.objects.count() == 1
    assert out["remaining_capacity"] == w.counter.daily_capacity - 1  # one parcel went in


def test_a_batch_answers_the_room_left_after_it(api: Tokens):
    w = api.world
    scans = [{"tracking_number": tracking(), "phone": "13812345678"} for _ in range(2)]
    refused = [{"tracking_number": tracking()}]  # nobody knows whose
    out = api.clerk.post(
        "/parcels/intake/batch", {"point_id": w.counter.pk, "scans": scans + refused}
    )
    assert out.json()["remaining_capacity"] == w.counter.daily_capacity - 2
    none_in = api.clerk.post("/parcels/intake/batch", {"point_id": w.counter.pk, "scans": refused})
    assert none_in.json()["taken_in"] == 0
    assert none_in.json()["remaining_capacity"] == w.counter.daily_capacity - 2


def test_batch_intake_keeps_a_scans_size_and_name(api: Tokens):
    """What a single intake takes, a batch's scan takes too: a large parcel goes to a slot that
    fits, and the courier's name for an unknown recipient is recorded."""
    w = api.world
    big, unknown = tracking(), tracking()
    body = {
        "point_id": w.counter.pk,
        "scans": [
            {"tracking_number": big, "phone": "13812345678", "size": "L"},
            {"tracking_number": unknown, "phone": "13700000001", "name": "赵六"},
        ],
    }
    out = api.clerk.post("/parcels/intake/batch", body).json()
    assert [r["ok"] for r in out["results"]] == [True, True], out
    assert Parcel.objects.get(tracking_number=big).size == "L"
    assert Parcel.objects.get(tracking_number=unknown).recipient_name == "赵六"


def test_hand_over_and_return_through_the_api(api: Tokens):
    w = api.world
    a, b = sf_parcel(api), sf_parcel(api)
    assert api.sf.post(f"/parcels/{a.pk}/hand-over", {}).status_code == 403
    response = api.clerk.post(f"/parcels/{a.pk}/hand-over", {"method": "code"})
    assert response.status_code == 200 and response.json()["state"] == "picked_up"
    again = api.clerk.post(f"/parcels/{a.pk}/hand-over", {})
    assert again.status_code == 409 and again.json()["code"] == "not_at_point"
    returned = api.clerk.post(f"/parcels/{b.pk}/return", {"courier_id": w.sf_courier.pk})
    assert returned.status_code == 200 and returned.json()["state"] == "returned"
    c = sf_parcel(api)
    wrong = api.clerk.post(f"/parcels/{c.pk}/return", {"courier_id": w.zto_courier.pk})
    assert wrong.status_code == 422 and wrong.json()["code"] == "wrong_carrier"


# --- manifests ----------------------------------------------------------------------------------


def test_a_manifest_with_a_bad_row_imports_nothing_and_lists_the_row(api: Tokens):
    slug = api.world.community.slug
    rows = [
        {"tracking_number": tracking(), "phone": "13812345678", "flat": "3-2-501"},
        {"tracking_number": tracking(), "phone": "not a phone"},
    ]
    response = api.sf.post("/manifests", {"community": slug, "parcels": rows})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "manifest_invalid"
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(2, "phone")]
    assert not Parcel.objects.exists()
    good = api.sf.post("/manifests", {"community": slug, "parcels": rows, "import_good_rows": True})
    assert good.status_code == 201 and good.json()["imported"] == 1


def test_resending_a_manifest_changes_nothing(api: Tokens):
    body = {
        "community": api.world.community.slug,
        "parcels": [{"tracking_number": tracking(), "phone": "13812345678"}],
    }
    first = api.sf.post("/manifests", body)
    assert first.status_code == 201 and first.json()["imported"] == 1
    events = CustodyEvent.objects.count()
    second = api.sf.post("/manifests", body)
    assert second.status_code == 200 and second.json()["replayed"] is True
    assert CustodyEvent.objects.count() == events and Manifest.objects.count() == 1
    assert api.sf.get(f"/manifests/{first.json()['id']}").status_code == 200
    assert api.zto.get(f"/manifests/{first.json()['id']}").status_code == 404


def test_a_courier_cannot_announce_another_carriers_numbers(api: Tokens):
    body = {
        "community": api.world.community.slug,
        "parcels": [{"tracking_number": tracking("zto"), "phone": "13812345678"}],
    }
    response = api.sf.post("/manifests", body)
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "wrong_carrier"


def test_clerks_do_not_send_manifests(api: Tokens):
    body = {"community": api.world.community.slug, "parcels": [{"tracking_number": tracking()}]}
    assert api.clerk.post("/manifests", body).status_code == 403


# --- idempotency --------------------------------------------------------------------------------


def test_idempotency_key_replays_the_first_answer(api: Tokens):
    w = api.world
    body = {"point_id": w.counter.pk, "tracking_number": tracking(), "phone": "13812345678"}
    first = api.clerk.post("/parcels/intake", body, headers={"Idempotency-Key": "k1"})
    again = api.clerk.post("/parcels/intake", body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert again.json()["created"] is True  # the first answer, not a "duplicate" re-scan
    assert CustodyEvent.objects.count() == 1


def test_idempotency_key_with_another_body_is_422(api: Tokens):
    w = api.world
    body = {"point_id": w.counter.pk, "tracking_number": tracking(), "phone": "13812345678"}
    api.clerk.post("/parcels/intake", body, headers={"Idempotency-Key": "k2"})
    body["tracking_number"] = tracking()
    response = api.clerk.post("/parcels/intake", body, headers={"Idempotency-Key": "k2"})
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
    assert Parcel.objects.count() == 1


def test_idempotency_keys_are_per_caller(api: Tokens):
    w = api.world
    body = {"point_id": w.counter.pk, "tracking_number": tracking(), "phone": "13812345678"}
    api.clerk.post("/parcels/intake", body, headers={"Idempotency-Key": "same"})
    other = api.admin.post("/parcels/intake", body, headers={"Idempotency-Key": "same"})
    assert other.status_code == 200 and other.json()["duplicate"] is True


# --- points, plans, returns, couriers ----------------------------------------------------------


def test_points_show_todays_remaining_capacity(api: Tokens):
    sf_parcel(api)
    points = {p["code"]: p for p in api.admin.get("/points").json()["items"]}
    assert points["A"]["taken_in_today"] == 1 and points["A"]["remaining_today"] == 49
    assert [p["code"] for p in api.clerk.get("/points").json()["items"]] == ["A"]


def test_the_drop_plan_groups_the_couriers_parcels_by_point(api: Tokens):
    w = api.world
    w.counter.daily_capacity = 1
    w.counter.save()
    w.counter2.daily_capacity = 0
    w.counter2.save()
    w.locker.daily_capacity = 0
    w.locker.save()
    numbers = [tracking(), tracking()]
    api.sf.post(
        "/manifests",
        {
            "community": w.community.slug,
            "parcels": [{"tracking_number": n, "phone": "13812345678"} for n in numbers],
        },
    )
    plan = api.sf.get(f"/drop-plans/{w.community.slug}").json()
    assert [(s["code"], s["count"]) for s in plan["points"]] == [("A", 1)]
    assert plan["overflow"][0]["tracking_number"] == numbers[1]
    assert plan["overflow"][0]["reasons"] == ["no_capacity"]
    assert api.zto.get(f"/drop-plans/{w.community.slug}").json()["points"] == []


def test_returns_list_dead_parcels_of_the_couriers_carrier(api: Tokens, time_machine):
    from jianjian import clock

    mine, _theirs = sf_parcel(api), zto_parcel(api)
    time_machine.move_to(clock.now() + dt.timedelta(days=8))
    items = api.sf.get("/returns").json()["items"]
    assert [p["id"] for p in items] == [mine.pk]


def test_couriers_list_is_scoped(api: Tokens):
    assert [c["name"] for c in api.sf.get("/couriers").json()["items"]] == ["顺丰小哥"]
    assert len(api.admin.get("/couriers").json()["items"]) == 2


def test_openapi_docs_are_served(api: Tokens):
    assert api.anonymous.client.get("/api/v1/openapi.json").status_code == 200
    assert api.anonymous.client.get("/api/v1/docs").status_code == 200


def test_error_messages_follow_the_callers_language(api: Tokens):
    zh = api.anonymous.client.get("/api/v1/parcels", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    en = api.anonymous.client.get("/api/v1/parcels", HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh["code"] == en["code"] == "unauthenticated"
    assert "令牌" in zh["message"] and "token" in en["message"]


def test_a_tokens_last_use_is_shown_to_the_admin(api: Tokens, time_machine):
    """The admin revokes tokens nobody uses any more: last_used_at tells which, to 5 minutes."""
    from jianjian.couriers.models import ApiToken
    from jianjian.couriers.tokens import hash_token

    token = ApiToken.objects.get(key_hash=hash_token(api.sf.token))
    assert token.last_used_at is None
    start = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    time_machine.move_to(start, tick=False)
    assert api.sf.get("/points").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == start
    time_machine.move_to(start + dt.timedelta(minutes=2), tick=False)
    api.sf.get("/points")
    token.refresh_from_db()
    assert token.last_used_at == start  # not a write per request
    time_machine.move_to(start + dt.timedelta(minutes=6), tick=False)
    api.sf.get("/points")
    token.refresh_from_db()
    assert token.last_used_at == start + dt.timedelta(minutes=6)


def test_the_largest_manifest_the_schema_allows_fits_in_a_request():
    """20,000 rows at the longest a valid row gets (names and flats in Chinese, escaped, the
    numbers ASCII as validation requires), pretty-printed: not refused for its size."""
    import json

    from django.conf import settings

    from jianjian.api.schemas import ManifestIn, ManifestRowIn

    def longest(schema, name: str) -> int:  # type: ignore[no-untyped-def]
        field = schema.model_fields[name]
        return next(m.max_length for m in field.metadata if hasattr(m, "max_length"))

    row = {
        name: ("张" if name in {"name", "flat"} else "9") * longest(ManifestRowIn, name)
        for name in ManifestRowIn.model_fields
    }
    body = {
        "community": "x" * longest(ManifestIn, "community"),
        "parcels": [row] * longest(ManifestIn, "parcels"),
    }
    assert len(json.dumps(body, indent=2).encode()) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE


@pytest.mark.parametrize("key", ["", "too-big-1"])
def test_a_request_over_the_size_limit_gets_a_json_413_and_writes_nothing(
    api: Tokens, settings, key: str
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    rows = [{"tracking_number": tracking(), "name": "张三" * 20} for _ in range(12000)]
    body = {"community": api.world.community.slug, "parcels": rows}
    headers = (
        {"Idempotency-Key": key, "Accept-Language": "en"} if key else {"Accept-Language": "en"}
    )
    response = api.sf.post("/manifests", body, headers=headers)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert "larger than 1 MB" in response.json()["message"]
    assert not Manifest.objects.exists() and not Parcel.objects.exists()


def test_the_size_refusal_is_in_chinese_by_default(api: Tokens, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    rows = [{"tracking_number": tracking(), "name": "张三" * 20} for _ in range(12000)]
    response = api.sf.post("/manifests", {"community": api.world.community.slug, "parcels": rows})
    assert response.status_code == 413
    assert response.json()["message"] == "请求超过 1 MB，请分批发送。"


def test_a_key_left_running_by_a_killed_process_is_let_go_after_its_lease(api: Tokens):
    """A web node killed mid-request leaves its record "running"; the client's retry must not
    get 409 for a day, and still records the parcel once."""
    from jianjian.api.idempotency import LEASE
    from jianjian.couriers.models import IdempotencyKey

    w = api.world
    body = {"point_id": w.counter.pk, "tracking_number": tracking(), "phone": "13812345678"}
    first = api.clerk.post("/parcels/intake", body, headers={"Idempotency-Key": "crash"})
    row = IdempotencyKey.objects.get(key="crash")
    IdempotencyKey.objects.filter(pk=row.pk).update(status=None, body=b"")  # as if it died
    busy = api.clerk.post("/parcels/intake", body, headers={"Idempotency-Key": "crash"})
    assert busy.status_code == 409 and busy.json()["code"] == "idempotency_in_progress"
    IdempotencyKey.objects.filter(pk=row.pk).update(created_at=row.created_at - LEASE)
    retry = api.clerk.post("/parcels/intake", body, headers={"Idempotency-Key": "crash"})
    assert first.status_code == retry.status_code == 200
    assert retry.json()["duplicate"] is True and Parcel.objects.count() == 1
