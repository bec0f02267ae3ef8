"""The people pages: community policy, flats, residents; who reaches them (404 for anyone
else), and the audit entry each change writes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from jianjian import access
from jianjian.communities import roster
from jianjian.communities.models import Flat, Membership, Resident, StaffRole
from jianjian.console.models import AuditEntry
from jianjian.parcels.matching import match_recipient
from tests.console.conftest import make_staff
from tests.console.people_files import csv_bytes

PAGES = ["community", "flats", "residents", "resident_add", "roster", "staff", "staff_couriers"]


def _object_pages(world, upload) -> list[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    """(method, url name, pk) of every page about one object of ``world``'s community."""
    resident, flat = world.residents[0], world.flats[0]
    member = Membership.objects.filter(community=world.community).first()
    return [
        ("get", "resident_edit", resident.pk),
        ("post", "resident_active", resident.pk),
        ("get", "flat_edit", flat.pk),
        ("get", "building_edit", flat.building_id),
        ("get", "roster_preview", upload.pk),
        ("post", "staff_link", member.pk),
        ("post", "staff_deactivate", member.pk),
        ("post", "courier_link", world.sf_courier.pk),
        ("post", "courier_deactivate", world.sf_courier.pk),
    ]


@pytest.fixture
def b_objects(other_world, admin_b):  # type: ignore[no-untyped-def]
    other_world.sf_courier.communities.add(other_world.community)
    upload = roster.read_upload(
        other_world.community, "r.csv", csv_bytes([("1-1-101", "13700001111", "x", "")]), admin_b
    )
    return _object_pages(other_world, upload)


def test_admin_of_another_community_gets_404_on_every_page_and_object(
    client, world, admin_a, other_world, admin_b, b_objects
):
    client.force_login(admin_a)
    for name in PAGES:
        url = reverse(f"console:{name}", args=[other_world.community.slug])
        assert client.get(url).status_code == 404, name
        assert client.post(url, {}).status_code == 404, name
    own = world.community.slug
    for method, name, pk in b_objects:
        # B's objects through A's own console: not found either.
        response = getattr(client, method)(reverse(f"console:{name}", args=[own, pk]))
        assert response.status_code == 404, name
        response = getattr(client, method)(
            reverse(f"console:{name}", args=[other_world.community.slug, pk])
        )
        assert response.status_code == 404, name
    assert Membership.objects.filter(user=admin_b).exists()
    assert other_world.sf_courier.communities.filter(pk=other_world.community.pk).exists()
    assert not AuditEntry.objects.exists()


def test_admin_reaches_every_page_of_their_own_community(client, world, admin_a):
    world.sf_courier.communities.add(world.community)
    client.force_login(admin_a)
    for name in PAGES:
        assert (
            client.get(reverse(f"console:{name}", args=[world.community.slug])).status_code == 200
        )


@pytest.mark.parametrize("role", ["clerk", "committee", "courier", "resident"])
def test_other_roles_get_404_on_every_page(client, world, role):
    if role in (StaffRole.CLERK, StaffRole.COMMITTEE):
        user = make_staff(world.community, role)
    else:
        user = get_user_model().objects.create_user(f"u-{role}", password="pw-for-tests")
        if role == "courier":
            world.sf_courier.user = user
            world.sf_courier.save()
            world.sf_courier.communities.add(world.community)
        else:
            world.residents[0].user = user
            world.residents[0].save()
    upload = roster.read_upload(
        world.community, "r.csv", csv_bytes([("1-1-101", "13700001111", "x", "")]), None
    )
    client.force_login(user)
    slug = world.community.slug
    for name in PAGES:
        assert client.get(reverse(f"console:{name}", args=[slug])).status_code == 404, name
    make_staff(world.community, StaffRole.COMMITTEE, "someone")
    for method, name, pk in _object_pages(world, upload):
        response = getattr(client, method)(reverse(f"console:{name}", args=[slug, pk]))
        assert response.status_code == 404, name


def test_community_policy_saves_with_its_audit_entry(client, world, admin_a):
    client.force_login(admin_a)
    url = reverse("console:community", args=[world.community.slug])
    data = {
        "name": world.community.name,
        "hold_days": "5",
        "announced_expire_days": "10",
        "overflow_release_days": "3",
        "reminder_hours": "48，24",
        "quiet_start": "22:00",
        "quiet_end": "07:30",
        "sms_signature": "时代花园",
        "default_language": "en",
    }
    assert client.post(url, data).status_code == 302
    world.community.refresh_from_db()
    assert world.community.hold_days == 5 and world.community.reminder_hours == [24, 48]
    assert world.community.announced_expire_days == 10
    assert world.community.overflow_release_days == 3
    assert world.community.quiet_start == dt.time(22) and world.community.sms_sign == "时代花园"
    assert world.community.default_language == "en"
    entry = AuditEntry.objects.get(community=world.community, action="update")
    assert entry.changes["hold_days"] == [7, 5] and entry.username == "admin-a"


def test_community_policy_errors_are_in_the_users_language(client, world, admin_a):
    client.force_login(admin_a)
    url = reverse("console:community", args=[world.community.slug])
    bad = {
        "name": "x",
        "hold_days": "0",
        "announced_expire_days": "61",
        "overflow_release_days": "0",
        "reminder_hours": "24, soon",
        "quiet_start": "25:00",
        "quiet_end": "07:00",
        "default_language": "en",
    }
    client.cookies["django_language"] = "en"
    page = client.post(url, bad)
    assert page.status_code == 422
    text = page.content.decode()
    assert "The hold period is between 1 and 60 days." in text
    assert "Write whole hours separated by commas" in text
    assert "Pre-advice expires after between 1 and 60 days." in text
    assert "Overflow is released after between 1 and 30 days." in text
    client.cookies["django_language"] = "zh-hans"
    zh = client.post(url, bad).content.decode()
    assert "The hold period is between 1 and 60 days." not in zh
    assert "预报有效期为 1 到 60 天。" in zh and "释放期限为 1 到 30 天。" in zh
    world.community.refresh_from_db()
    assert world.community.hold_days == 7 and not AuditEntry.objects.exists()


def test_flats_are_added_edited_and_searched(client, world, admin_a):
    client.force_login(admin_a)
    slug = world.community.slug
    assert (
        client.post(reverse("console:flats", args=[slug]), {"code": "７－１－１０１"}).status_code
        == 302
    )
    flat = Flat.objects.get(community=world.community, code="7-1-101")
    assert flat.building.number == "7"
    taken = client.post(reverse("console:flat_edit", args=[slug, flat.pk]), {"code": "3-2-501"})
    assert taken.status_code == 422
    client.post(reverse("console:flat_edit", args=[slug, flat.pk]), {"code": "7-1-102"})
    flat.refresh_from_db()
    assert flat.code == "7-1-102"
    page = client.get(reverse("console:flats", args=[slug]), {"q": "7-"}).content.decode()
    assert ">7-1-102<" in page and ">3-2-501<" not in page
    assert AuditEntry.objects.filter(community=world.community, object_type="flat").count() == 2


def test_residents_list_searches_by_name_phone_tail_and_flat_and_pages(client, world, admin_a):
    roster.apply(
        roster.read_upload(
            world.community,
            "r.csv",
            csv_bytes([(f"9-1-{100 + i}", f"1370000{i:04d}", f"住户{i}", "") for i in range(120)]),
            admin_a,
        ),
        admin_a,
    )
    client.force_login(admin_a)
    url = reverse("console:residents", args=[world.community.slug])
    first = client.get(url).content.decode()
    assert "1 / 3" in first and "+8613700000001" not in first  # paged, phones masked
    assert "张三" in client.get(url, {"q": "张"}).content.decode()
    by_tail = client.get(url, {"q": "0117"}).content.decode()
    assert "住户117" in by_tail and "住户116" not in by_tail
    by_flat = client.get(url, {"q": "3-2-5"}).content.decode()
    assert "张三" in by_flat and "住户1" not in by_flat


def test_a_resident_is_added_edited_and_moved_out_never_deleted(client, world, admin_a):
    client.force_login(admin_a)
    slug = world.community.slug
    add = client.post(
        reverse("console:resident_add", args=[slug]),
        {"flat_code": "3-2-601", "name": "新住户", "phone": "13600001234", "locker_consent": "on"},
    )
    assert add.status_code == 302
    resident = Resident.objects.get(phone="+8613600001234")
    duplicate = client.post(
        reverse("console:resident_add", args=[slug]),
        {"flat_code": "3-2-601", "name": "又一个", "phone": "136 0000 1234"},
    )
    assert duplicate.status_code == 422
    unknown_flat = client.post(
        reverse("console:resident_add", args=[slug]),
        {"flat_code": "8-8-808", "name": "又一个", "phone": "13600009999"},
    )
    assert unknown_flat.status_code == 422
    client.post(
        reverse("console:resident_edit", args=[slug, resident.pk]),
        {"flat_code": "3-2-501", "name": "新住户", "phone": "13600001234"},
    )
    resident.refresh_from_db()
    assert resident.flat.code == "3-2-501"
    client.post(reverse("console:resident_active", args=[slug, resident.pk]), {"active": "0"})
    resident.refresh_from_db()
    assert not resident.active and resident.moved_out_at is not None
    assert match_recipient(world.community, phone="13600001234").resident is None
    page = client.get(reverse("console:resident_edit", args=[slug, resident.pk]))
    assert page.status_code == 200  # still there, with its history
    actions = list(
        AuditEntry.objects.filter(object_type="resident")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "deactivate"]


def test_a_moved_out_residents_parcels_stay_in_their_history(world, admin_a):
    from jianjian.parcels import services
    from tests.factories import tracking

    resident = world.residents[0]
    services.intake(
        world.counter, tracking(), actor=world.clerk, phone_last4="5678", flat="3-2-501"
    )
    user = get_user_model().objects.create_user("zhang")
    resident.user = user
    resident.save()
    resident.active = False
    resident.save()
    assert access.own_parcels(user).count() == 1
