"""Roster import: preview, bad rows with line and reason, good rows only, re-import, moved out,
bounds, and nothing half-imported."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jianjian import uploads
from jianjian.communities import roster
from jianjian.communities.models import Building, Flat, Resident, RosterUpload
from jianjian.console.models import AuditEntry
from jianjian.exports import csv_text
from jianjian.parcels.matching import match_recipient
from tests.console.people_files import csv_bytes, roster_rows, xlsx_bytes


def _upload(client, slug: str, name: str, data: bytes):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("console:roster", args=[slug]), {"file": SimpleUploadedFile(name, data)}
    )


def _check(community, rows, header=None, admin=None, name="roster.csv"):  # type: ignore[no-untyped-def]
    data = csv_bytes(rows, header) if header else csv_bytes(rows)
    return roster.read_upload(community, name, data, admin)


def test_a_good_xlsx_previews_then_imports_flats_and_residents(client, world, admin_a):
    slug = world.community.slug
    rows = [("5-1-101", "13700001111", "赵六", ""), ("5-1-102", "137 0000 2222", "钱七", "")]
    client.force_login(admin_a)
    response = _upload(client, slug, "roster.xlsx", xlsx_bytes(rows))
    assert response.status_code == 302
    preview = client.get(response.url)
    page = preview.content.decode()
    assert "赵六" in page and "5-1-101" in page
    assert Resident.objects.filter(community=world.community).count() == 3  # nothing yet
    done = client.post(response.url, {})
    assert done.status_code == 302 and done.url == reverse("console:residents", args=[slug])
    zhao = Resident.objects.get(community=world.community, phone="+8613700001111")
    assert zhao.name == "赵六" and zhao.flat.code == "5-1-101" and zhao.phone_last4 == "1111"
    assert Building.objects.filter(community=world.community, number="5").count() == 1
    assert Flat.objects.filter(community=world.community, code="5-1-102").exists()
    entry = AuditEntry.objects.get(community=world.community, action="import")
    assert entry.username == "admin-a" and entry.changes["added"] == [None, 2]


def test_bad_rows_are_listed_with_line_and_reason_and_nothing_is_imported(client, world, admin_a):
    rows = [
        ("5-1-101", "13700001111", "赵六", ""),  # line 2: good
        ("five-one", "13700002222", "钱七", ""),  # line 3: not a flat
        ("5-1-103", "12345", "孙八", ""),  # line 4: not a phone
        ("5-1-104", "137-0000-1111", "李九", ""),  # line 5: same phone as line 2
        ("5-1-105", "13700003333", "", ""),  # line 6: no name
        ("5-1-106", "13700004444", "周十", "maybe"),  # line 7: moved out unreadable
    ]
    client.force_login(admin_a)
    client.cookies["django_language"] = "en"
    response = _upload(client, world.community.slug, "roster.csv", csv_bytes(rows))
    kept = RosterUpload.objects.get()
    assert [(e["line"], e["field"], e["code"]) for e in kept.errors] == [
        (3, "flat", "flat_invalid"),
        (4, "phone", "phone_invalid"),
        (5, "phone", "duplicate_in_file"),
        (6, "name", "name_missing"),
        (7, "moved_out", "moved_out_invalid"),
    ]
    page = client.get(response.url).content.decode()
    assert "<td>3</td><td>flat</td><td>“five-one” is not a flat" in page
    assert "<td>4</td><td>phone</td><td>“12345” is not a valid phone number." in page
    assert "This phone is already on line 2 of this file." in page
    refused = client.post(response.url, {})
    assert refused.status_code == 422
    assert not Resident.objects.filter(phone="+8613700001111").exists()
    assert not AuditEntry.objects.filter(action="import").exists()


def test_import_the_good_rows_skips_the_bad_ones(client, world, admin_a):
    rows = [("5-1-101", "13700001111", "赵六", ""), ("5-1-102", "12345", "孙八", "")]
    client.force_login(admin_a)
    response = _upload(client, world.community.slug, "roster.csv", csv_bytes(rows))
    assert client.post(response.url, {"import_good_rows": "on"}).status_code == 302
    assert Resident.objects.filter(community=world.community, phone="+8613700001111").exists()
    assert Resident.objects.filter(community=world.community).count() == 4


def test_importing_the_same_file_again_changes_nothing(world, admin_a):
    rows = [*roster_rows(30), ("3-2-501", "13812345678", "张三", "")]
    first = roster.apply(_check(world.community, rows, admin=admin_a), admin_a)
    assert (first.added, first.changed, first.unchanged) == (30, 0, 1)
    before = list(Resident.objects.order_by("pk").values())
    again = _check(world.community, rows, admin=admin_a)
    assert roster.make_plan(world.community, roster.rows_of(again)).empty
    second = roster.apply(again, admin_a)
    assert (second.added, second.changed, second.deactivated, second.flats_created) == (0, 0, 0, 0)
    assert list(Resident.objects.order_by("pk").values()) == before


def test_a_changed_row_updates_and_moved_out_deactivates_keeping_history(world, admin_a):
    zhang, li = world.residents[0], world.residents[1]
    rows = [("3-2-601", "13812345678", "张三丰", ""), ("3-2-502", "13912345678", "李四", "是")]
    kept = _check(world.community, rows, admin=admin_a)
    plan = roster.make_plan(world.community, roster.rows_of(kept))
    assert [old.pk for _r, old in plan.change] == [zhang.pk]
    assert [old.pk for _r, old in plan.deactivate] == [li.pk]
    roster.apply(kept, admin_a)
    zhang.refresh_from_db()
    li.refresh_from_db()
    assert (zhang.name, zhang.flat.code, zhang.active) == ("张三丰", "3-2-601", True)
    assert li.active is False and li.moved_out_at is not None
    # Never deleted, and no longer matched for a new parcel by phone or by tail + flat.
    assert match_recipient(world.community, phone="13912345678").resident is None
    assert match_recipient(world.community, phone_last4="5678", flat="3-2-502").resident is None
    # Named again in a later roster, the same row lives there again.
    roster.apply(_check(world.community, [("3-2-502", "13912345678", "李四", "")]), admin_a)
    li.refresh_from_db()
    assert li.active is True and li.moved_out_at is None


def test_ten_thousand_rows_import_in_one_go(world, admin_a):
    rows = roster_rows(10_000)
    kept = _check(world.community, rows, admin=admin_a)
    assert kept.errors == []
    outcome = roster.apply(kept, admin_a)
    assert outcome.added == 10_000
    assert Resident.objects.filter(community=world.community, active=True).count() == 10_003
    codes = {r[0] for r in rows} | {f.code for f in world.flats}
    assert Flat.objects.filter(community=world.community).count() == len(codes)


def test_blank_rows_are_skipped_and_lines_stay_true(world):
    rows = [
        ("5-1-101", "13700001111", "赵六", ""),
        ("", "", "", ""),
        ("5-1-102", "bad", "钱七", ""),
    ]
    kept = _check(world.community, rows)
    assert len(kept.rows) == 1
    assert [e["line"] for e in kept.errors] == [4]


def test_header_names_decide_not_the_column_order(world):
    header = ("name", "moved out", "phone", "flat")
    kept = _check(world.community, [("赵六", "", "13700001111", "5-1-101")], header=header)
    assert kept.errors == []
    assert kept.rows == [[2, "5-1-101", "+8613700001111", "赵六", False]]


def test_a_file_without_the_needed_columns_is_refused_whole(world):
    with pytest.raises(uploads.UploadRefused) as refused:
        _check(world.community, [("13700001111", "赵六")], header=("phone", "name"))
    assert refused.value.code == "wrong_columns" and "flat" in refused.value.message


def test_a_phone_in_another_regions_format(world):
    rows = [("5-1-101", "+44 7911 123456", "Smith", ""), ("5-1-102", "+44 12", "Jones", "")]
    kept = _check(world.community, rows)
    assert [r[2] for r in kept.rows] == ["+447911123456"]
    assert kept.errors[0]["line"] == 3 and kept.errors[0]["code"] == "phone_invalid"
    assert "+44 12" in kept.errors[0]["message"]


def test_a_formula_in_a_name_is_stored_as_text_and_exports_neutralise_it(world, admin_a):
    formula = '=HYPERLINK("http://evil.example","click")'
    roster.apply(_check(world.community, [("5-1-101", "13700001111", formula, "")]), admin_a)
    resident = Resident.objects.get(phone="+8613700001111")
    assert resident.name == formula
    assert f"'{formula}".replace('"', '""') in csv_text([[resident.name]])


def test_a_file_past_the_row_bound_is_refused_at_once(client, world, admin_a, settings):
    data = csv_bytes(roster_rows(roster.LIMITS.rows + 1))
    client.force_login(admin_a)
    response = _upload(client, world.community.slug, "big.csv", data)
    assert response.status_code == 422
    assert "20000" in response.content.decode() or "20,000" in response.content.decode()
    assert not RosterUpload.objects.exists()


def test_an_error_mid_apply_writes_nothing(world, admin_a, monkeypatch):
    rows = [*roster_rows(20), ("3-2-501", "13812345678", "张三改", "")]
    kept = _check(world.community, rows, admin=admin_a)
    flats_before = Flat.objects.count()

    def fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(Resident.objects, "bulk_update", fail)
    with pytest.raises(RuntimeError):
        roster.apply(kept, admin_a)
    assert Resident.objects.filter(community=world.community).count() == 3
    assert Flat.objects.count() == flats_before
    assert Resident.objects.get(phone="+8613812345678").name == "张三"
    assert not AuditEntry.objects.exists()
    assert RosterUpload.objects.get().applied_at is None


def test_row_errors_are_in_the_users_language(client, world, admin_a):
    client.force_login(admin_a)
    client.cookies["django_language"] = "en"
    response = _upload(
        client, world.community.slug, "r.csv", csv_bytes([("x", "13700001111", "a", "")])
    )
    assert "is not a flat" in RosterUpload.objects.get().errors[0]["message"]
    assert response.status_code == 302
    RosterUpload.objects.all().delete()
    client.cookies["django_language"] = "zh-hans"
    _upload(client, world.community.slug, "r.csv", csv_bytes([("x", "13700001111", "a", "")]))
    assert "is not a flat" not in RosterUpload.objects.get().errors[0]["message"]
