"""The admin sets up a disinfection task; it is due at once (in its hours)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from jianjian.points.models import DisinfectionTask

pytestmark = pytest.mark.django_db


def test_admin_creates_a_task_with_its_first_due_time(world, client):
    boss = get_user_model().objects.create_superuser("boss7", password="x" * 12)
    client.force_login(boss)
    response = client.post(
        "/admin/points/disinfectiontask/add/",
        {
            "point": world.locker.pk,
            "name": "触摸屏",
            "interval_hours": 4,
            "starts_at": "08:00",
            "ends_at": "21:00",
            "default_agent": "",
            "created_at_0": "2024-07-01",
            "created_at_1": "09:00:00",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    task = DisinfectionTask.objects.get()
    assert task.community == world.community
    assert task.next_due_at is not None
