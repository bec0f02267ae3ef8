"""Each finding of the outside review, reproduced: these failed before their fix."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from jianjian.communities.models import Membership, StaffRole
from jianjian.couriers.models import ApiToken, IdempotencyKey
from jianjian.notify.sweeps import prune_idempotency_keys
from jianjian.parcels import services
from jianjian.parcels.models import Parcel
from tests.api.conftest import Tokens
from tests.factories import tracking

pytestmark = pytest.mark.django_db


def _waiting(api: Tokens, carrier: str = "sf", name: str = "彭大海") -> Parcel:
    w = api.world
    return services.intake(
        w.counter, tracking(carrier), actor=w.clerk, phone="13800009999", name=name
    ).parcel


def _session(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


# --- 1. a courier's web session sees what the courier's token sees --------------------------


def test_a_couriers_session_sees_no_pickup_code_like_their_token(api: Tokens):
    parcel = _waiting(api)
    path = f"/api/v1/parcels/{parcel.pk}"
    by_token = api.sf.get(f"/parcels/{parcel.pk}").json()
    by_session = _session(api.world.sf_courier.user).get(path).json()
    assert by_token["pickup_code"] is None
    assert by_session["pickup_code"] is None
    assert by_session == by_token
    listed = _session(api.world.sf_courier.user).get("/api/v1/parcels").json()
    assert [p["pickup_code"] for p in listed["items"]] == [None]


def test_the_clerk_of_the_point_sees_the_code_by_session_and_token(api: Tokens):
    parcel = _waiting(api)
    assert api.clerk.get(f"/parcels/{parcel.pk}").json()["pickup_code"] == parcel.pickup_code
    clerk = Membership.objects.get(role=StaffRole.CLERK, community=api.world.community).user
    page = _session(clerk).get(f"/api/v1/parcels/{parcel.pk}").json()
    assert page["pickup_code"] == parcel.pickup_code


# --- 10. the committee never sees pickup codes ----------------------------------------------


@pytest.fixture
def committee(api: Tokens):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("committee-member")
    Membership.objects.create(user=user, community=api.world.community, role=StaffRole.COMMITTEE)
    return user


def test_the_committee_reads_parcels_without_codes_through_the_api(api: Tokens, committee):
    parcel = _waiting(api)
    body = _session(committee).get(f"/api/v1/parcels/{parcel.pk}").json()
    assert body["id"] == parcel.pk and body["pickup_code"] is None
    assert body["recipient"] == "彭**"


def test_the_committees_export_has_no_codes_and_masked_names(api: Tokens, committee):
    parcel = _waiting(api, name="彭大海")
    today = dt.date.today().isoformat()
    url = f"/reports/{api.world.community.slug}/export/parcels.csv?start={today}&end={today}"
    response = _session(committee).get(url)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert parcel.tracking_number in text
    assert parcel.pickup_code not in text and "彭大海" not in text and "彭**" in text
    admin = Membership.objects.get(role=StaffRole.ADMIN, community=api.world.community).user
    full = b"".join(_session(admin).get(url).streaming_content).decode("utf-8-sig")
    assert parcel.pickup_code in full and "彭大海" in full


# --- 5. the counter and the courier's plan mask the recipient's name ------------------------


def test_the_counter_masks_the_name_after_hand_over_and_on_the_parcel_page(api: Tokens):
    parcel = _waiting(api, name="彭大海")
    clerk = _session(Membership.objects.get(role=StaffRole.CLERK).user)
    point = api.world.counter.pk
    done = clerk.post(
        reverse("counter:hand_over", args=[point]),
        {"parcel": [parcel.pk], "method": "code"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert 'data-outcome="handed"' in done
    assert "彭大海" not in done and "彭**" in done
    page = clerk.get(reverse("counter:parcel", args=[point, parcel.pk])).content.decode()
    assert "彭大海" not in page and "彭**" in page


def test_the_couriers_drop_plan_csv_masks_names_like_the_api(api: Tokens):
    w = api.world
    row = {"tracking_number": tracking("sf"), "phone": "13800009999", "name": "彭大海"}
    api.sf.post("/manifests", {"community": w.community.slug, "parcels": [row]})
    courier = _session(w.sf_courier.user)
    response = courier.get(reverse("couriers:plan_csv", args=[w.community.slug]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    names = [row[2] for row in rows[1:]]
    assert names == ["彭**"]


# --- 9. a wrong or revoked token on a POST is 401, not a CSRF 403 ---------------------------


@pytest.mark.parametrize("header", ["Bearer jj_wrong_token", "Bearer ", "Basic abc", "Token x"])
def test_a_post_with_a_bad_token_is_401(api: Tokens, header: str):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/manifests", {}, content_type="application/json", HTTP_AUTHORIZATION=header
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_revoked_token_is_401_on_post_and_get(api: Tokens):
    ApiToken.objects.update(active=False)
    assert api.admin.get("/parcels").status_code == 401
    assert api.admin.post("/manifests", {}).status_code == 401


def test_an_expired_token_is_401(api: Tokens, time_machine):
    token = ApiToken.objects.get(name="admin", can_write=True)
    token.expires_at = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    token.save()
    time_machine.move_to(dt.datetime(2029, 12, 31, 23, tzinfo=dt.UTC))
    assert api.admin.get("/parcels").status_code == 200
    time_machine.move_to(dt.datetime(2030, 1, 1, 0, 0, 1, tzinfo=dt.UTC))
    assert api.admin.get("/parcels").status_code == 401


def test_the_cli_issues_a_token_that_expires(api: Tokens, capsys):
    call_command(
        "create_api_token", "scanner", "--role", "admin", "--user", "admin",
        "--expires-in-days", "30",
    )  # fmt: skip
    token = ApiToken.objects.get(name="scanner")
    assert token.expires_at is not None
    days = (token.expires_at - token.created_at).total_seconds() / 86400
    assert 29.9 < days < 30.1


# --- 4. idempotency keys: stored after authentication, per caller, for 24 hours -------------

KEY = {"Idempotency-Key": "k-1"}


def test_an_anonymous_post_with_a_key_stores_nothing(api: Tokens):
    for _ in range(2):
        response = api.anonymous.post("/manifests", {"community": "x", "parcels": []}, KEY)
        assert response.status_code == 401
        assert "Idempotent-Replayed" not in response
    assert not IdempotencyKey.objects.exists()


def test_a_token_revoked_after_its_first_request_gets_no_replay(api: Tokens):
    parcel = _waiting(api)
    first = api.clerk.post(f"/parcels/{parcel.pk}/hand-over", {"method": "code"}, KEY)
    assert first.status_code == 200
    ApiToken.objects.filter(name="clerk").update(active=False)
    again = api.clerk.post(f"/parcels/{parcel.pk}/hand-over", {"method": "code"}, KEY)
    assert again.status_code == 401
    assert "Idempotent-Replayed" not in again


def test_a_key_expires_after_a_day_and_the_sweep_prunes_it(api: Tokens):
    parcel = _waiting(api)
    path, body = f"/parcels/{parcel.pk}/hand-over", {"method": "code"}
    assert api.clerk.post(path, body, KEY).status_code == 200
    assert api.clerk.post(path, body, KEY)["Idempotent-Replayed"] == "true"
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)
    IdempotencyKey.objects.update(created_at=old)
    # Past a day the key is free: the request runs again (and finds the parcel handed over).
    assert api.clerk.post(path, body, KEY).status_code == 409
    IdempotencyKey.objects.update(created_at=old)
    assert prune_idempotency_keys() == 1
    assert not IdempotencyKey.objects.exists()


# --- 10. /readyz, the Django admin ----------------------------------------------------------


def test_readyz_tells_strangers_the_status_only(client, settings, api: Tokens):
    settings.METRICS_TOKEN = "scrape-me"
    body = client.get("/readyz").json()
    assert set(body) == {"status"}
    detailed = client.get("/readyz", HTTP_AUTHORIZATION="Bearer scrape-me").json()
    assert {"database", "outbox", "worker", "disk"} <= set(detailed["checks"])
    superuser = get_user_model().objects.create_superuser("root", password="x" * 12)
    assert "checks" in _session(superuser).get("/readyz").json()
    admin = Membership.objects.get(role=StaffRole.ADMIN, community=api.world.community).user
    assert set(_session(admin).get("/readyz").json()) == {"status"}


def test_createadmin_makes_no_django_admin_user(api: Tokens):
    call_command(
        "createadmin", "juweihui", "--password", "long-enough-1", "--community",
        api.world.community.slug,
    )  # fmt: skip
    user = get_user_model().objects.get(username="juweihui")
    assert not user.is_staff
    client = Client()
    client.force_login(user)
    assert client.get("/admin/").status_code == 302  # to the admin's own sign-in: not for them


def test_the_cli_lists_and_revokes_tokens(api: Tokens, capsys):
    token = ApiToken.objects.get(name="admin", can_write=True)
    call_command("api_tokens")
    assert f"{token.prefix}  admin  admin  live" in capsys.readouterr().out
    call_command("api_tokens", "--revoke", token.prefix)
    assert api.admin.get("/parcels").status_code == 401
    call_command("api_tokens")
    assert f"{token.prefix}  admin  admin  revoked" in capsys.readouterr().out


def test_the_committee_sees_a_missing_parcels_trail_without_its_code(api: Tokens, committee):
    from jianjian.stocktake import services as stocktake
    from tests.security.test_access_matrix import _missing_case

    parcel = _waiting(api)
    code = parcel.pickup_code
    clerk = Membership.objects.get(role=StaffRole.CLERK, community=api.world.community).user
    take = stocktake.start(api.world.counter, actor=services.Actor.of(clerk))
    case = _missing_case(take, parcel, clerk)
    url = reverse("stocktake:case", args=[case.pk])
    assert code not in _session(committee).get(url).content.decode()
    assert code in _session(clerk).get(url).content.decode()
