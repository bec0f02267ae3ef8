"""``jianjian intake``: a station's scan log taken in through the counter's verbs."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from jianjian.parcels import services
from jianjian.parcels.fold import check
from jianjian.parcels.matching import RecipientInfo
from jianjian.parcels.models import CustodyEvent, EventKind, Method, Parcel, ParcelState
from tests.factories import make_clerk, make_world, tracking

pytestmark = pytest.mark.django_db


def _run(path, world, *extra):  # type: ignore[no-untyped-def]
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "intake",
            str(path),
            *extra,
            community=world.community.slug,
            point="A",
            stdout=out,
            stderr=err,
        )
        failed = None
    except CommandError as exc:
        failed = str(exc)
    return out.getvalue(), err.getvalue(), failed


def test_a_scan_log_is_taken_in_like_the_counter_and_bad_rows_are_named(tmp_path):
    world = make_world()
    announced, _ = services.announce(
        world.community,
        tracking(),
        actor=services.Actor.system("t"),
        recipient=RecipientInfo(resident=world.residents[1]),
    )
    new = tracking()
    log = tmp_path / "station.csv"
    log.write_text(
        "运单号,手机号,尾号,尺寸\n"
        f"{new},13812345678,,M\n"
        f"{announced.tracking_number},,,\n"
        f"{tracking()},,5678,X\n"  # no such size
        f"{'9' * 61},13812345678,,\n"  # longer than any number
        f"{new},13812345678,,M\n",  # scanned twice
        encoding="utf-8",
    )

    out, err, failed = _run(log, world)

    assert "2 taken in, 1 already here, 2 refused" in out
    assert "line 4: size:" in err and "line 5: tracking_number:" in err
    assert failed and "2 scans refused" in failed
    taken = Parcel.objects.get(tracking_number=new)
    assert taken.state == ParcelState.AT_POINT and taken.point == world.counter
    assert taken.recipient == world.residents[0] and taken.size == "M" and taken.pickup_code
    announced.refresh_from_db()
    assert announced.state == ParcelState.AT_POINT
    assert set(
        CustodyEvent.objects.filter(
            kind=EventKind.INTAKE, parcel__in=[taken, announced]
        ).values_list("method", flat=True)
    ) == {Method.CLI}
    assert check(world.community.pk).ok
    # The same log again takes nothing in twice.
    out, _err, _failed = _run(log, world)
    assert "0 taken in, 3 already here" in out


def test_the_clerk_named_must_work_at_the_point_and_the_file_must_be_a_scan_log(tmp_path):
    world = make_world()
    make_clerk(world, world.counter2)
    log = tmp_path / "station.csv"
    log.write_text(f"tracking_number\n{tracking()}\n", encoding="utf-8")
    _out, _err, failed = _run(log, world, "--clerk", world.clerk.user.username)
    assert failed and "does not work at A" in failed

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("phone\n13812345678\n", encoding="utf-8")
    _out, _err, failed = _run(wrong, world)
    assert failed and "tracking_number" in failed
    assert not Parcel.objects.exists()
    _out, _err, failed = _run(tmp_path / "absent.csv", world)
    assert failed and "absent.csv" in failed


def test_the_log_is_signed_by_the_clerk_who_works_the_point(tmp_path):
    world = make_world()
    make_clerk(world)
    log = tmp_path / "station.csv"
    number = tracking()
    log.write_text(f"tracking_number,phone\n{number},13812345678\n", encoding="utf-8")
    out, _err, failed = _run(log, world, "--clerk", world.clerk.user.username)
    assert failed is None and "1 taken in" in out
    event = CustodyEvent.objects.get(parcel__tracking_number=number, kind=EventKind.INTAKE)
    assert event.actor == world.clerk.user


def test_bad_rows_are_explained_in_chinese_by_default():
    from django.utils import translation

    from jianjian.parcels.scanfile import read_scans

    with translation.override("zh-hans"):
        found = read_scans("log.csv", "运单号,尺寸\n,M\nSF1,X\n".encode())
    assert [e.message for e in found.errors] == ["缺少运单号。", "尺寸须为 S、M 或 L。"]
