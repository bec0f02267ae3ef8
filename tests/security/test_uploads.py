"""Hostile uploads: every bound of :mod:`jianjian.uploads` refuses its file with a clear message,
before the file is parsed, and the manifest upload page says so."""

from __future__ import annotations

import io
import itertools
import zipfile

import pytest
from django.test import Client
from openpyxl import Workbook

from jianjian import uploads
from jianjian.couriers.manifests import COLUMN_SPEC, LIMITS, ManifestError, read_file
from jianjian.parcels.models import Parcel

SHEET = "xl/worksheets/sheet1.xml"
HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>tracking_number</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>phone</t></is></c></row>'
)
TAIL = b"</sheetData></worksheet>"


def _workbook(replace: dict[str, bytes] | None = None) -> bytes:
    """A real workbook from openpyxl, some of its members swapped for hostile ones."""
    book = Workbook()
    book.active.append(["tracking_number", "phone"])
    book.active.append(["SF1000000000001", "13812345678"])
    plain = io.BytesIO()
    book.save(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        members = {info.filename: source.read(info) for info in source.infolist()}
        for name, content in {**members, **(replace or {})}.items():
            archive.writestr(name, content)
    return out.getvalue()


def _sheet(rows: bytes) -> bytes:
    return _workbook({SHEET: HEAD + rows + TAIL})


def _refused(name: str, data: bytes, limits: uploads.Limits = LIMITS) -> uploads.UploadRefused:
    with pytest.raises(uploads.UploadRefused) as exc:
        uploads.read_file(name, data, COLUMN_SPEC, limits)
    assert exc.value.message
    return exc.value


def test_a_plain_workbook_is_read():
    assert uploads.read_file("m.xlsx", _workbook(), COLUMN_SPEC, LIMITS) == [
        (2, {"tracking_number": "SF1000000000001", "phone": "13812345678"})
    ]


def test_a_million_blank_rows_are_refused_before_they_are_parsed():
    data = _sheet(b"".join(b'<row r="%d"/>' % i for i in range(2, 1_000_002)))
    assert len(data) < 3 * 1024 * 1024  # small on the wire
    refused = _refused("m.xlsx", data)
    assert refused.code == "too_many" and "空行也计算在内" in refused.message  # zh-Hans by default


def test_blank_rows_count_against_the_row_bound():
    limits = uploads.Limits(rows=10, blank_slack=5)
    data = _sheet(b"".join(b'<row r="%d"><c r="A%d" s="0"/></row>' % (i, i) for i in range(2, 20)))
    assert _refused("m.xlsx", data, limits).code == "too_many"
    csv = b"tracking_number,phone\n" + b",\n" * 17
    assert _refused("m.csv", csv, limits).code == "too_many"


def test_a_namespaced_sheet_is_counted_too():
    rows = b"".join(b'<x:row r="%d"/>' % i for i in range(2, 30))
    data = _workbook({SHEET: HEAD.replace(b"<sheetData>", b"<sheetData>") + rows + TAIL})
    assert _refused("m.xlsx", data, uploads.Limits(rows=10, blank_slack=5)).code == "too_many"


def test_a_csv_of_a_million_empty_lines_is_refused_unread():
    refused = _refused("m.csv", b"tracking_number,phone\n" + b"\n" * 1_000_000)
    assert refused.code == "too_many"


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    bomb = io.BytesIO()
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/worksheets/sheet2.xml", "w") as member,
    ):
        for _ in range(64):
            member.write(b" " * (1024 * 1024))
    data = bomb.getvalue()
    assert len(data) < 1024 * 1024  # 64 MB in under one
    refused = _refused("m.xlsx", data, uploads.Limits(rows=100, uncompressed_bytes=16 << 20))
    assert refused.code == "too_large" and "16 MB" in refused.message


def test_sixteen_thousand_columns_are_bounded_by_cells():
    wide = b'<row r="2">' + b"".join(b'<c r="A2" s="0"/>' for _ in range(16_384)) + b"</row>"
    data = _sheet(wide * 8)
    refused = _refused("m.xlsx", data, uploads.Limits(rows=100, cells=100_000))
    assert refused.code == "too_many_cells"
    # Within the cell bound, only the first columns are materialised, and the row is blank.
    assert uploads.read_file("m.xlsx", _sheet(wide), COLUMN_SPEC, LIMITS) == []


def test_too_many_shared_strings_are_refused_before_the_workbook_opens():
    strings = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + b"<si><t>x</t></si>" * 5000
        + b"</sst>"
    )
    data = _workbook({"xl/sharedStrings.xml": strings})
    refused = _refused("m.xlsx", data, uploads.Limits(rows=100, cells=1000))
    assert refused.code == "too_many_cells"


def test_a_slow_file_is_refused_when_its_time_is_up(monkeypatch):
    """Reading checks its deadline on every row; a clock that moves a second per look stands
    in for a file that takes long to read."""
    ticks = itertools.count()
    monkeypatch.setattr(uploads.time, "monotonic", lambda: float(next(ticks)))
    rows = b"".join(b"SF%013d,13812345678\n" % i for i in range(200))
    refused = _refused("m.csv", b"tracking_number,phone\n" + rows, uploads.Limits(rows=1000))
    assert refused.code == "too_slow"
    assert "用时过长" in refused.message


def test_a_csv_cell_over_the_field_limit_is_refused_not_a_server_error():
    data = b'tracking_number,phone\n"' + b"x" * 200_000 + b'",1\n'
    assert _refused("m.csv", data).code == "not_text"


def test_a_corrupt_workbook_is_refused():
    data = _workbook()
    broken = data[: len(data) // 2] + b"\0" * 100 + data[len(data) // 2 :]
    assert _refused("m.xlsx", broken).code == "not_xlsx"


def test_the_manifest_reader_keeps_its_error_type_and_codes():
    with pytest.raises(ManifestError) as exc:
        read_file("m.xlsx", _sheet(b"".join(b'<row r="%d"/>' % i for i in range(2, 300_000))))
    assert exc.value.code == "too_many"


@pytest.mark.django_db
def test_the_upload_page_refuses_a_blank_row_bomb_in_the_users_language(api):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(api.world.sf_courier.user)
    data = _sheet(b"".join(b'<row r="%d"/>' % i for i in range(2, 1_000_002)))
    upload = io.BytesIO(data)
    upload.name = "m.xlsx"
    response = client.post(
        "/courier/manifest/",
        {"community": api.world.community.pk, "file": upload},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 422
    assert "空行也计算在内" in response.content.decode()
    assert not Parcel.objects.exists()
