"""The `jianjian` command: product verbs, the passthrough, the demo and settings that fail loudly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from jianjian.communities.demo import SLUG
from jianjian.communities.models import Community, Membership, Resident
from jianjian.conf import ConfigError, env_bool, env_int
from jianjian.parcels.fold import check
from jianjian.parcels.models import Parcel, ParcelState
from jianjian.points.models import CollectionPoint, PointKind


@pytest.mark.django_db
def test_demo_loads_a_community_in_every_state_that_passes_check(capsys):
    call_command("demo")
    out = capsys.readouterr().out
    assert "admin" in out and "clerk_a" in out and "jianjian-demo" in out
    community = Community.objects.get(slug=SLUG)
    points = CollectionPoint.objects.filter(community=community)
    kinds = sorted(points.values_list("kind", flat=True))
    assert kinds == sorted(
        [PointKind.COUNTER, PointKind.COUNTER, PointKind.SHELF, PointKind.LOCKER]
    )
    assert {p.daily_capacity for p in points if p.kind == PointKind.COUNTER} == {50}
    assert points.get(kind=PointKind.LOCKER).slots.count() == 40
    assert community.buildings.count() == 12
    assert 280 <= Resident.objects.filter(community=community).count() <= 320
    states = set(Parcel.objects.filter(community=community).values_list("state", flat=True))
    assert states == set(ParcelState.values)
    assert check(community.pk).ok
    # Loading again changes nothing.
    before = Parcel.objects.count()
    call_command("demo")
    assert "loaded already" in capsys.readouterr().out
    assert Parcel.objects.count() == before


@pytest.mark.django_db
def test_createadmin_makes_a_community_admin_and_refuses_bad_input():
    call_command("demo")
    call_command("createadmin", "wang", password="long-enough-pw", community=SLUG)
    assert Membership.objects.get(user__username="wang").role == "admin"
    with pytest.raises(CommandError, match="exists already"):
        call_command("createadmin", "wang", password="long-enough-pw")
    with pytest.raises(CommandError, match="at least 8"):
        call_command("createadmin", "li", password="short")
    with pytest.raises(CommandError, match="no community"):
        call_command("createadmin", "zhao", password="long-enough-pw", community="nope")


def test_env_helpers_fail_loudly(monkeypatch):
    monkeypatch.setenv("X_FLAG", "ture")
    with pytest.raises(ConfigError, match="not a boolean"):
        env_bool("X_FLAG", False)
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ConfigError, match="not a whole number"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ConfigError, match="at least 1"):
        env_int("X_NUM", 1, minimum=1)


def _jianjian(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jianjian.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_bad_database_url_stops_with_a_message(tmp_path: Path):
    env = dict(os.environ, JIANJIAN_DATA_DIR=str(tmp_path), JIANJIAN_DATABASE_URL="mysql://x/y")
    result = _jianjian("check", env=env)
    assert result.returncode != 0
    assert "only postgres:// and sqlite:// URLs are supported" in result.stderr


def test_help_lists_the_product_verbs(tmp_path: Path):
    result = _jianjian("--help", env=dict(os.environ, JIANJIAN_DATA_DIR=str(tmp_path)))
    assert result.returncode == 0
    for verb in ("serve", "worker", "demo", "check", "migrate", "createadmin", "manage"):
        assert f"  {verb}" in result.stdout
