from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from jianjian.communities.models import Membership, StaffRole
from jianjian.couriers.models import Carrier, Courier
from jianjian.couriers.tokens import create_token
from tests.factories import World


@dataclass
class Api:
    """A client that sends one token."""

    client: Client
    token: str = ""

    def _headers(self, extra: dict[str, str] | None) -> dict[str, Any]:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        for name, value in (extra or {}).items():
            headers["HTTP_" + name.upper().replace("-", "_")] = value
        return headers

    def get(self, path: str, **params: Any):  # type: ignore[no-untyped-def]
        return self.client.get("/api/v1" + path, params, **self._headers(None))

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return self.client.post(
            "/api/v1" + path, body, content_type="application/json", **self._headers(headers)
        )


@dataclass
class Tokens:
    world: World
    sf: Api  # courier of SF in the community
    zto: Api  # courier of ZTO in the community
    clerk: Api  # clerk of counter A only
    admin: Api
    resident: Api
    integration: Api  # the SF carrier system, for this community
    no_role: Api
    read_only: Api
    anonymous: Api


def _user(name: str):  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_user(name)  # no password: hashing is slow


@pytest.fixture
def api(world: World) -> Tokens:
    c = world.community
    sf_user, zto_user = _user("sf-courier"), _user("zto-courier")
    world.sf_courier.user = sf_user
    world.sf_courier.save()
    world.sf_courier.communities.add(c)
    world.zto_courier.user = zto_user
    world.zto_courier.save()
    world.zto_courier.communities.add(c)
    clerk = _user("clerk-a")
    Membership.objects.create(user=clerk, community=c, role=StaffRole.CLERK).points.add(
        world.counter
    )
    admin = _user("admin")
    Membership.objects.create(user=admin, community=c, role=StaffRole.ADMIN)
    resident_user = _user("resident")
    world.residents[0].user = resident_user
    world.residents[0].save()

    def api_for(role: str, user: Any = None, **kw: Any) -> Api:
        _token, raw = create_token(role or "none", role=role, user=user, **kw)
        return Api(Client(), raw)

    return Tokens(
        world=world,
        sf=api_for("courier", sf_user),
        zto=api_for("courier", zto_user),
        clerk=api_for("clerk", clerk),
        admin=api_for("admin", admin),
        resident=api_for("resident", resident_user),
        integration=api_for("integration", carrier=Carrier.objects.get(code="sf"), communities=[c]),
        no_role=api_for("", admin),
        read_only=api_for("admin", admin, can_write=False),
        anonymous=Api(Client()),
    )


__all__ = ["Api", "Courier", "Tokens"]
