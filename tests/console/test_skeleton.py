"""The console's frame: only a community's admins reach it, and every change is in its log."""

from __future__ import annotations

from django.urls import reverse

from jianjian.communities.models import StaffRole
from jianjian.console import audit
from tests.console.conftest import make_staff


def test_admin_lands_on_own_console_and_another_community_is_404(
    client, world, admin_a, admin_b, other_world
):
    client.force_login(admin_a)
    assert client.get(reverse("console:choose")).url == reverse(
        "console:index", args=[world.community.slug]
    )
    assert client.get(reverse("console:index", args=[world.community.slug])).status_code == 200
    assert (
        client.get(reverse("console:index", args=[other_world.community.slug])).status_code == 404
    )
    assert (
        client.get(reverse("console:audit", args=[other_world.community.slug])).status_code == 404
    )


def test_other_roles_get_404(client, world):
    for role in (StaffRole.CLERK, StaffRole.COMMITTEE):
        client.force_login(make_staff(world.community, role, f"u-{role}"))
        assert client.get(reverse("console:choose")).status_code == 404
        assert client.get(reverse("console:index", args=[world.community.slug])).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get(reverse("console:index", args=[world.community.slug]))
    assert response.status_code == 302 and "/login/" in response.url


def test_audit_log_shows_each_change_to_its_community_only(
    client, world, admin_a, admin_b, other_world
):
    audit.record(
        admin_a,
        world.community,
        "update",
        "Hold period changed",
        world.community,
        {"hold_days": [7, 5]},
    )
    audit.record(admin_b, other_world.community, "update", "Secret change elsewhere")
    client.force_login(admin_a)
    page = client.get(reverse("console:audit", args=[world.community.slug])).content.decode()
    assert "Hold period changed" in page and "admin-a" in page and "hold_days" in page
    assert "Secret change elsewhere" not in page
