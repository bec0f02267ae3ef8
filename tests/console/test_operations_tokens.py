"""API tokens issued and revoked from the console: the secret is shown once and works."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from jianjian.communities.models import StaffRole
from jianjian.console.models import AuditEntry
from jianjian.couriers.models import ApiToken
from jianjian.couriers.tokens import create_token
from tests.console.conftest import make_staff


def url(name: str, world, *args) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"console:{name}", args=[world.community.slug, *args])


def courier_with_account(world):  # type: ignore[no-untyped-def]
    courier = world.sf_courier
    courier.user = get_user_model().objects.create_user("sf-courier", password="pw-for-tests")
    courier.save()
    courier.communities.add(world.community)
    return courier


def issue(admin_client, world, **data):  # type: ignore[no-untyped-def]
    return admin_client.post(url("ops-token-add", world), {"name": "顺丰扫描枪", **data})


def test_a_token_is_shown_once_works_for_the_api_and_stops_when_revoked(admin_client, world):
    client = Client()  # no session: the API sees the bearer token only
    courier = courier_with_account(world)
    response = issue(admin_client, world, role="courier", courier=courier.pk)
    assert response.status_code == 200
    assert "no-store" in response.headers.get("Cache-Control", "")
    secret = response.context["secret"]
    assert secret.startswith("jj_") and secret in response.content.decode()
    token = ApiToken.objects.get(name="顺丰扫描枪")
    assert token.user == courier.user and token.role == "courier"
    assert list(token.communities.all()) == [world.community]
    listing = admin_client.get(url("ops-tokens", world)).content.decode()
    assert "顺丰扫描枪" in listing and secret not in listing and token.prefix in listing
    entry = AuditEntry.objects.get(action="issue")
    assert secret not in str(entry.changes) and secret not in entry.summary

    api = client.get("/api/v1/points", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.status_code == 200
    codes = {p["code"] for p in api.json()["items"]}
    assert {"A", "B", "L"} <= codes

    assert admin_client.post(url("ops-token-revoke", world, token.pk)).status_code == 302
    token.refresh_from_db()
    assert not token.active
    assert AuditEntry.objects.filter(action="revoke", object_id=str(token.pk)).exists()
    again = client.get("/api/v1/points", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert again.status_code == 401


def test_integration_and_clerk_tokens(admin_client, world):
    clerk = make_staff(world.community, StaffRole.CLERK, "clerk-x")
    issue(
        admin_client, world, role="integration", carrier=world.sf_courier.carrier_id, read_only="on"
    )
    issue(admin_client, world, name="店员", role="clerk", clerk=clerk.pk)
    integration = ApiToken.objects.get(role="integration")
    assert integration.carrier == world.sf_courier.carrier and not integration.can_write
    assert ApiToken.objects.get(role="clerk").user == clerk


def test_a_token_needs_who_it_acts_for(admin_client, world):
    for role, message in (
        ("courier", "Choose the courier"),
        ("integration", "Choose the carrier"),
        ("clerk", "Choose the clerk"),
        ("admin", "Select a valid choice"),
        ("resident", "Select a valid choice"),
    ):
        response = issue(admin_client, world, role=role)
        assert response.status_code == 200 and message in response.content.decode()
    assert not ApiToken.objects.exists() and not AuditEntry.objects.exists()


def test_a_courier_or_clerk_of_another_community_cannot_be_chosen(admin_client, world, other_world):
    other_courier = other_world.sf_courier
    other_courier.user = get_user_model().objects.create_user("elsewhere", password="pw-for-tests")
    other_courier.save()
    other_courier.communities.add(other_world.community)
    other_clerk = make_staff(other_world.community, StaffRole.CLERK, "clerk-elsewhere")
    response = issue(admin_client, world, role="courier", courier=other_courier.pk)
    assert "Select a valid choice" in response.content.decode()
    response = issue(admin_client, world, role="clerk", clerk=other_clerk.pk)
    assert "Select a valid choice" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_tokens_of_another_community_are_not_listed_nor_revocable(admin_client, world, other_world):
    theirs, _raw = create_token(
        "theirs", role="integration", carrier=None, communities=[other_world.community]
    )
    assert "theirs" not in admin_client.get(url("ops-tokens", world)).content.decode()
    assert admin_client.post(url("ops-token-revoke", world, theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.active
