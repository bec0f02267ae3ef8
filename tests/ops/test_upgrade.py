"""Upgrades: from the first release's schema with data in it to today's, and `serve`'s refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from jianjian.ops.readiness import unapplied_migrations
from jianjian.parcels.fold import check
from tests.ops.helpers import env_for, jianjian

# The schema of the first release (commit a90436a): these migrations, and no app beyond them.
FIRST_RELEASE = {
    "communities": "0002_initial",
    "couriers": "0002_seed_carriers",
    "notify": "0001_initial",
    "parcels": "0001_initial",
    "points": "0001_initial",
}


def _targets(executor: MigrationExecutor) -> list[tuple[str, str | None]]:
    ours = {app for app, _name in executor.loader.graph.leaf_nodes() if app not in ("admin",)}
    mine = {a for a in ours if executor.loader.migrations_module(a)[0].startswith("jianjian.")}
    return [(a, FIRST_RELEASE.get(a)) for a in sorted(mine)]


def _seed(apps) -> None:  # type: ignore[no-untyped-def]
    """One parcel taken in at a counter, with its custody event and its message, as of then."""
    now = dt.datetime(2025, 1, 2, 3, tzinfo=dt.UTC)
    Community = apps.get_model("communities", "Community")
    Point = apps.get_model("points", "CollectionPoint")
    Parcel = apps.get_model("parcels", "Parcel")
    Event = apps.get_model("parcels", "CustodyEvent")
    Notification = apps.get_model("notify", "Notification")
    Carrier = apps.get_model("couriers", "Carrier")
    community = Community.objects.create(name="旧社区", slug="old")
    point = Point.objects.create(
        community=community, code="A", name="老店", kind="counter", on_hand=1
    )
    parcel = Parcel.objects.create(
        community=community,
        tracking_number="SF1000000000999",
        carrier=Carrier.objects.get(code="sf"),
        state="at_point",
        point=point,
        pickup_code="A1-1-001",
        recipient_phone="+8613800138000",
        recipient_last4="8000",
        intake_at=now,
        event_count=1,
    )
    Event.objects.create(
        community=community,
        parcel=parcel,
        seq=1,
        kind="intake",
        to_state="at_point",
        at=now,
        method="scan",
        point=point,
        pickup_code="A1-1-001",
    )
    Notification.objects.create(
        community=community,
        parcel=parcel,
        dedup_key="intake:old:1",
        cause="intake",
        channel="log",
        address="+8613800138000",
        body="到了",
        next_attempt_at=now,
    )


@pytest.mark.django_db(transaction=True)
def test_upgrade_from_the_first_release_with_data():
    executor = MigrationExecutor(connection)
    targets = _targets(executor)
    executor.migrate(targets)
    try:
        executor.loader.build_graph()
        _seed(executor.loader.project_state([(a, n) for a, n in targets if n is not None]).apps)
        assert unapplied_migrations()  # serve would refuse here
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert unapplied_migrations() == []
    from jianjian.parcels.models import Parcel

    parcel = Parcel.objects.get(tracking_number="SF1000000000999")
    assert parcel.state == "at_point" and parcel.events.count() == 1
    assert parcel.notifications.count() == 1
    assert check(parcel.community_id).problems == []


def test_serve_refuses_unapplied_migrations_and_names_the_command(tmp_path):
    env = env_for(tmp_path)  # a fresh data directory: nothing migrated
    result = jianjian("serve", "--port", "1", env=env, timeout=120)
    assert result.returncode != 0
    assert "unapplied migrations" in result.stderr
    assert "jianjian migrate" in result.stderr
