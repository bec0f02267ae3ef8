from __future__ import annotations

import re

import pytest
from django.test import Client

from jianjian.notify.models import Notification
from jianjian.residents import otp


def last_code(phone: str) -> str:
    """The code in the newest sign-in message to ``phone`` (what the resident reads on the SMS)."""
    body = Notification.objects.filter(cause="signin_code", address=phone).latest("pk").body
    found = re.search(r"(?<!\d)\d{6}(?!\d)", body)
    assert found, body
    return found.group(0)


def sign_in(client: Client, phone: str, ip: str = "10.0.0.1") -> None:
    """Sign ``client`` in through the real pages with the code from the outbox."""
    e164 = otp.parse_phone(phone)
    response = client.post("/me/signin/", {"phone": phone}, REMOTE_ADDR=ip)
    assert response.status_code == 302, response.content.decode()[:500]
    response = client.post("/me/signin/code/", {"code": last_code(e164)}, REMOTE_ADDR=ip)
    assert response.status_code == 302, response.content.decode()[:500]


@pytest.fixture
def resident_client(world):
    client = Client()
    sign_in(client, world.residents[0].phone)
    return client


def arrive(world, resident_index: int = 0, point=None):  # type: ignore[no-untyped-def]
    """A parcel for one of the world's residents, taken in at the counter."""
    from jianjian.parcels import services
    from tests.factories import tracking

    resident = world.residents[resident_index]
    return services.intake(
        point or world.counter, tracking(), actor=world.clerk, phone=resident.phone
    ).parcel
