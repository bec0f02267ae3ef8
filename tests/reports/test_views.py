"""Dashboard, exports and the report command as their users meet them."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from jianjian.communities.models import Membership, StaffRole
from jianjian.parcels import services
from jianjian.reports.figures import compute
from jianjian.reports.text import render_text
from tests.factories import tracking

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2024, 5, 6)


@pytest.fixture
def committee(world, client):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("committee7", password="x" * 12)
    Membership.objects.create(user=user, community=world.community, role=StaffRole.COMMITTEE)
    client.force_login(user)
    return client


@pytest.fixture
def community_admin(world, client):  # type: ignore[no-untyped-def]
    """The community's admin, whose exports carry full names (the committee's are masked)."""
    user = get_user_model().objects.create_user("admin7", password="x" * 12)
    Membership.objects.create(user=user, community=world.community, role=StaffRole.ADMIN)
    client.force_login(user)
    return client


def _parcel_with_evil_name(world) -> str:  # type: ignore[no-untyped-def]
    number = tracking()
    with time_machine.travel(dt.datetime.combine(DAY, dt.time(10), tzinfo=SH), tick=False):
        services.intake(
            world.counter,
            number,
            actor=world.clerk,
            phone="13800001111",
            name='=HYPERLINK("http://evil")',
        )
    return number


def _range() -> str:
    return f"start={DAY:%Y-%m-%d}&end={DAY:%Y-%m-%d}"


def test_csv_export_streams_and_neutralises_formulas(world, community_admin):
    number = _parcel_with_evil_name(world)
    url = f"/reports/{world.community.slug}/export/parcels.csv?{_range()}"
    response = community_admin.get(url)
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2
    row = rows[1]
    assert row[0] == number
    assert '\'=HYPERLINK("http://evil")' in row
    assert "138****1111" in row  # phones are masked in exports too
    events = community_admin.get(f"/reports/{world.community.slug}/export/events.csv?{_range()}")
    body = b"".join(events.streaming_content).decode("utf-8-sig")
    assert number in body and "intake" in body


def test_xlsx_export_holds_the_same_rows(world, community_admin):
    number = _parcel_with_evil_name(world)
    response = community_admin.get(
        f"/reports/{world.community.slug}/export/parcels.xlsx?{_range()}"
    )
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[1][0] == number
    assert '\'=HYPERLINK("http://evil")' in rows[1]


def test_the_dashboard_shows_the_figures_and_charts(world, committee):
    _parcel_with_evil_name(world)
    response = committee.get(f"/reports/{world.community.slug}/?{_range()}")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") == 3
    assert "我爱我家" in html


def test_a_bad_range_is_told_and_nothing_breaks(world, committee):
    response = committee.get(f"/reports/{world.community.slug}/?start=2024-05-09&end=2024-05-01")
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    export = committee.get(
        f"/reports/{world.community.slug}/export/parcels.csv?start=2024-05-09&end=2024-05-01"
    )
    assert export.status_code == 400


def test_others_get_404(world, client):
    clerk = get_user_model().objects.create_user("clerk-only", password="x" * 12)
    Membership.objects.create(user=clerk, community=world.community, role=StaffRole.CLERK)
    client.force_login(clerk)
    assert client.get(f"/reports/{world.community.slug}/").status_code == 404
    assert client.get(f"/reports/{world.community.slug}/export/events.csv").status_code == 404
    client.logout()
    assert client.get(f"/reports/{world.community.slug}/").status_code == 302  # to sign-in


def test_the_report_command_prints_the_dashboard_figures(world):
    _parcel_with_evil_name(world)
    out = io.StringIO()
    call_command("report", community=world.community.slug, start=str(DAY), end=str(DAY), stdout=out)
    expected = render_text(compute(world.community, DAY, DAY))
    assert out.getvalue() == expected
    assert "我爱我家" in expected
    with pytest.raises(CommandError):
        call_command("report", community="nope", start=str(DAY), end=str(DAY))
    with pytest.raises(CommandError):
        call_command("report", community=world.community.slug, start="2024-13-01", end=str(DAY))
