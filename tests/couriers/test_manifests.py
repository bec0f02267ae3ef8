"""Manifest validation and import: bad rows with line numbers, all-or-nothing, idempotent."""

from __future__ import annotations

import io
import os

import pytest
from openpyxl import Workbook, load_workbook

from jianjian.couriers.manifests import ManifestError, import_rows, read_csv, read_file
from jianjian.couriers.models import Manifest
from jianjian.exports import csv_text, safe_cell
from jianjian.parcels import fold, services
from jianjian.parcels.models import CustodyEvent, Parcel
from tests.factories import tracking

pytestmark = pytest.mark.django_db
ACTOR = services.Actor.system("test")


def csv_bytes(*rows: str, header: str = "tracking_number,phone,flat,name") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def do_import(world, data: bytes, **kw):
    return import_rows(
        world.community,
        read_file("m.csv", data),
        actor=ACTOR,
        source="csv",
        courier=world.sf_courier,
        **kw,
    )


def test_a_good_manifest_announces_every_parcel_and_allocates(world):
    a, b = tracking(), tracking()
    report = do_import(world, csv_bytes(f"{a},13812345678,3-2-501,张三", f"{b},13912345678,,李四"))
    assert report.errors == [] and report.imported == 2
    parcel = Parcel.objects.get(tracking_number=a)
    assert parcel.state == "announced" and parcel.recipient == world.residents[0]
    assert parcel.delivering_courier == world.sf_courier and parcel.planned_point_id
    assert fold.check(world.community.pk).problems == []


def test_bad_rows_are_listed_with_line_and_reason_and_nothing_is_imported(world):
    good = tracking()
    data = csv_bytes(
        f"{good},13812345678,3-2-501,张三",
        "??,13812345678,,",
        f"{tracking()},12345,,",
        f"{tracking()},13812345678,9-9-999,",
        f"{good},13812345678,,",
    )
    report = do_import(world, data)
    assert [(e.line, e.field, e.code) for e in report.errors] == [
        (3, "tracking_number", "tracking_invalid"),
        (4, "phone", "phone_invalid"),
        (5, "flat", "flat_unknown"),
        (6, "tracking_number", "duplicate_in_file"),
    ]
    assert all(e.message for e in report.errors)
    assert not Parcel.objects.exists() and not Manifest.objects.exists()


def test_import_the_good_rows_when_asked(world):
    good = tracking()
    report = do_import(
        world, csv_bytes(f"{good},13812345678,,", "bad!,13812345678,,"), import_good_rows=True
    )
    assert report.imported == 1 and len(report.errors) == 1
    assert list(Parcel.objects.values_list("tracking_number", flat=True)) == [good]


def test_resending_the_same_manifest_changes_nothing(world):
    data = csv_bytes(f"{tracking()},13812345678,,", f"{tracking()},13912345678,,")
    do_import(world, data)
    events = CustodyEvent.objects.count()
    again = do_import(world, data)
    assert again.replayed and again.imported == 0 and again.already_known == 2
    assert CustodyEvent.objects.count() == events and Manifest.objects.count() == 1


def test_a_number_known_from_another_file_for_another_recipient_is_refused(world):
    number = tracking()
    do_import(world, csv_bytes(f"{number},13812345678,,"))
    report = do_import(world, csv_bytes(f"{number},13912345678,,", f"{tracking()},13912345678,,"))
    assert [(e.line, e.code) for e in report.errors] == [(2, "duplicate_number")]
    # The same parcel for the same recipient in another file is simply already known.
    same = do_import(world, csv_bytes(f"{number},13812345678,,", f"{tracking()},13812345678,,"))
    assert same.errors == [] and same.imported == 1 and same.already_known == 1


def test_another_carriers_number_is_refused(world):
    report = do_import(world, csv_bytes(f"{tracking('zto')},13812345678,,"))
    assert [e.code for e in report.errors] == ["wrong_carrier"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"foo,bar,baz\n1,2,3\n", "wrong_columns"),
        (b"tracking_number,name\nSF1234567890123,x\n", "wrong_columns"),
    ],
)
def test_unusable_files_are_refused_as_a_whole(data, code):
    with pytest.raises(ManifestError) as exc:
        read_file("m.csv", data)
    assert exc.value.code == code and exc.value.message


def test_ten_megabytes_of_garbage_is_refused_quickly_and_writes_nothing(world):
    garbage = os.urandom(10 * 1024 * 1024)
    for name in ("m.csv", "m.xlsx"):
        with pytest.raises(ManifestError) as exc:
            read_file(name, garbage)
        assert exc.value.code in {"wrong_columns", "not_text", "not_xlsx"}
    assert not Parcel.objects.exists()


def test_chinese_headers_and_gb18030_are_read():
    data = "运单号,手机号,房号,姓名\nSF1000000000999,13812345678,3-2-501,张三\n".encode("gb18030")
    ((line, record),) = read_csv(data)
    assert line == 2 and record["name"] == "张三" and record["flat"] == "3-2-501"


def test_xlsx_manifests_are_read(world):
    book = Workbook()
    sheet = book.active
    sheet.append(["运单号", "手机号", "房号"])
    sheet.append([tracking(), "13812345678", "3-2-501"])
    buf = io.BytesIO()
    book.save(buf)
    report = import_rows(
        world.community,
        read_file("m.xlsx", buf.getvalue()),
        actor=ACTOR,
        source="xlsx",
        courier=world.sf_courier,
    )
    assert report.imported == 1 and report.errors == []


def test_a_formula_cell_is_stored_as_text_and_exported_escaped(world):
    evil = "=cmd|' /C calc'!A0"
    number = tracking()
    report = do_import(world, csv_bytes(f'{number},13812345678,,"{evil}"'))
    assert report.imported == 1
    name = Parcel.objects.get(tracking_number=number).recipient_name
    assert name == evil  # the data is kept as sent …
    exported = csv_text([["name"], [name]])
    assert "\n=cmd" not in exported and "'=cmd" in exported  # … and never leaves as a formula
    book = Workbook()
    book.active.append([safe_cell(name)])
    buf = io.BytesIO()
    book.save(buf)
    cell = load_workbook(buf).active["A1"]
    assert cell.data_type == "s" and cell.value.startswith("'")


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1"])
def test_safe_cell_escapes_every_formula_trigger(value):
    assert safe_cell(value) == "'" + value


def test_safe_cell_leaves_plain_values_alone():
    assert safe_cell("张三") == "张三" and safe_cell(42) == 42 and safe_cell(None) == ""
