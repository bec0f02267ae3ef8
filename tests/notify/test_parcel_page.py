"""Staff see a parcel's notifications and their delivery status on the counter's parcel page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jianjian.notify.models import Notification, Status
from jianjian.parcels import services
from tests.factories import tracking
from tests.notify.conftest import prefer
from tests.web.conftest import make_clerk


@pytest.mark.django_db
def test_parcel_page_lists_notifications_with_status_and_masked_address(client, world):
    resident = world.residents[0]
    prefer(resident, "log", "email", email="zhang@example.org")
    parcel = services.intake(
        world.counter, tracking(), actor=world.clerk, phone=resident.phone
    ).parcel
    Notification.objects.filter(parcel=parcel, channel="email").update(
        status=Status.FAILED, attempts=3, last_error="550 mailbox unavailable"
    )
    client.force_login(make_clerk(world))
    page = client.get(reverse("counter:parcel", args=[world.counter.pk, parcel.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-status="failed"' in html and "550 mailbox unavailable" in html
    assert 'data-status="pending"' in html and parcel.pickup_code in html
    assert "138****5678" in html and "z***@example.org" in html
    assert "13812345678" not in html and "zhang@example.org" not in html


@pytest.mark.django_db
def test_clerk_of_another_point_does_not_see_the_page(client, world):
    parcel = services.intake(
        world.counter, tracking(), actor=world.clerk, phone=world.residents[0].phone
    ).parcel
    client.force_login(make_clerk(world, world.counter2))
    page = client.get(reverse("counter:parcel", args=[world.counter.pk, parcel.pk]))
    assert page.status_code == 404
