"""The first run: the demo loads a complete community and says how to try it; on an empty
database it creates the tables, on a half-migrated one it names the command to run; custody
log lines go to their file, not the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from jianjian.communities.demo import SLUG, UNROSTERED_PHONE
from jianjian.communities.models import Community, Membership, Resident, StaffRole
from jianjian.communities.phones import national_digits
from jianjian.notify.channels import get_channel
from jianjian.notify.channels.robots import LOG_WEBHOOK
from jianjian.notify.models import GroupRobot, Notification, RobotPurpose
from jianjian.parcels.models import Parcel, ParcelState
from jianjian.points.models import CollectionPoint, DisinfectionTask


@pytest.mark.django_db
def test_the_demo_is_a_complete_community_and_says_how_to_try_it(capfd, settings):
    call_command("demo")
    out, err = capfd.readouterr()
    community = Community.objects.get(slug=SLUG)
    points = CollectionPoint.objects.filter(community=community)
    tasks = DisinfectionTask.objects.filter(community=community)
    assert set(tasks.values_list("point", flat=True)) == set(points.values_list("pk", flat=True))
    assert Membership.objects.filter(community=community, role=StaffRole.COMMITTEE).exists()
    robots = GroupRobot.objects.filter(community=community, webhook_url=LOG_WEBHOOK)
    assert set(robots.values_list("purpose", flat=True)) == set(RobotPurpose.values)
    # A phone outside the roster has parcels waiting, and the demo says which phone to try.
    assert not Resident.objects.filter(phone=UNROSTERED_PHONE).exists()
    outside = Parcel.objects.filter(community=community, recipient_phone=UNROSTERED_PHONE)
    assert outside.filter(state=ParcelState.AT_POINT).count() >= 1
    assert national_digits(UNROSTERED_PHONE) in out
    assert str(settings.NOTIFY_LOG_FILE) in out  # where the sign-in codes are written
    for name in ("juwei", "yeweihui", "clerk_a", "courier_sf"):
        assert name in out
    # No custody event lands on the terminal.
    assert "jianjian.custody" not in err


@pytest.mark.django_db
def test_the_demo_robots_write_to_the_notification_log(settings):
    call_command("demo")
    robot = GroupRobot.objects.get(purpose=RobotPurpose.COURIERS, webhook_url=LOG_WEBHOOK)
    message = Notification.objects.create(
        community=robot.community,
        robot=robot,
        dedup_key="test:robot",
        cause="dead_group",
        channel=robot.kind,
        address=robot.name,
        body="3 件死件待退回",
    )
    assert get_channel(robot.kind).send(message) == "logged"
    line = json.loads(settings.NOTIFY_LOG_FILE.read_text(encoding="utf-8").splitlines()[-1])
    assert line["body"] == "3 件死件待退回"


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIANJIAN_DATABASE")}
    env["JIANJIAN_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "jianjian.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_demo_on_a_database_without_tables_creates_them(tmp_path):
    result = _cli(tmp_path, "demo")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "jianjian migrate" in result.stdout and "时代花园" in result.stdout
    # The custody events of the demo's parcels went to their file, not to the terminal.
    assert "custody event" not in result.stderr
    assert (tmp_path / "custody.log").read_text(encoding="utf-8").count("custody event") > 100


def test_demo_on_a_half_migrated_database_names_the_command_to_run(tmp_path):
    assert _cli(tmp_path, "manage", "migrate", "communities", "-v0").returncode == 0
    result = _cli(tmp_path, "demo")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "jianjian migrate" in result.stderr
