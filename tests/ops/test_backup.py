"""`jianjian backup` while clerks keep scanning, `jianjian restore` of it, and what is refused."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from jianjian.ops import backup
from jianjian.parcels import services
from jianjian.parcels.models import CustodyEvent, Parcel
from tests.factories import make_world, tracking
from tests.ops.helpers import env_for, jianjian, on_postgres, scratch_pg_database


def _write_while(world, stop: threading.Event, written: list[str]) -> None:
    from django.db import connection

    try:
        while not stop.is_set():
            number = tracking()
            services.intake(world.counter, number, actor=world.clerk, phone="13800138000")
            written.append(number)
    finally:
        connection.close()


def _restore_env():  # type: ignore[no-untyped-def]
    """A fresh data directory (and, on PostgreSQL, a fresh empty database) to restore into."""
    if on_postgres():
        return scratch_pg_database()
    from contextlib import nullcontext

    return nullcontext(None)


@pytest.mark.django_db(transaction=True)
def test_backup_during_writes_restores_and_checks_clean(tmp_path):
    world = make_world(capacity=100_000)
    stop = threading.Event()
    written: list[str] = []
    writer = threading.Thread(target=_write_while, args=(world, stop, written))
    writer.start()
    try:
        while len(written) < 20:  # the writer is really writing when the backup starts
            stop.wait(0.01)
        made = backup.create(tmp_path / "backups")
        after = len(written)
        while len(written) < after + 10:  # … and goes on writing after it
            stop.wait(0.01)
    finally:
        stop.set()
        writer.join()
    assert made.path.exists() and made.checksum_path.exists()
    assert len(written) > 20

    with _restore_env() as url:
        env = env_for(tmp_path / "restored", url)
        restored = jianjian("restore", str(made.path), env=env)
        assert restored.returncode == 0, restored.stderr
        assert "0 differences" in restored.stdout
        checked = jianjian("check", env=env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        # The copy is a snapshot: a prefix of the scans, each with its whole trail.
        counted = jianjian(
            "manage",
            "shell",
            "-c",
            "from jianjian.parcels.models import Parcel; print(Parcel.objects.count())",
            env=env,
        )
        in_copy = int(counted.stdout.split()[-1])
        assert 20 <= in_copy <= Parcel.objects.count()
    assert CustodyEvent.objects.count() >= in_copy


@pytest.mark.django_db
def test_corrupted_backup_is_refused(tmp_path, world):
    made = backup.create(tmp_path / "b")
    data = bytearray(made.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    made.path.write_bytes(bytes(data))
    with pytest.raises(backup.BackupError, match="does not match its checksum"):
        backup.verify(made.path)
    env = env_for(tmp_path / "restored")
    result = jianjian("restore", str(made.path), env=env)
    assert result.returncode != 0
    assert "does not match its checksum" in result.stderr
    assert not (tmp_path / "restored" / "jianjian.sqlite3").exists()


@pytest.mark.django_db
def test_backup_without_its_checksum_is_refused(tmp_path, world):
    made = backup.create(tmp_path / "b")
    made.checksum_path.unlink()
    with pytest.raises(backup.BackupError, match="cannot be verified"):
        backup.verify(made.path)


@pytest.mark.django_db
def test_truncated_sqlite_backup_with_a_matching_checksum_is_refused(tmp_path, world):
    if on_postgres():
        pytest.skip("SQLite's integrity check; PostgreSQL dumps are read back by pg_restore")
    made = backup.create(tmp_path / "b")
    made.path.write_bytes(made.path.read_bytes()[:8192])
    made.checksum_path.write_text(f"{backup.sha256(made.path)}  {made.path.name}\n")
    with pytest.raises(backup.BackupError, match="SQLite"):
        backup.verify(made.path)


@pytest.mark.django_db
def test_restore_into_a_non_empty_data_directory_is_refused(tmp_path, world):
    made = backup.create(tmp_path / "b")
    env = env_for(tmp_path / "live")
    if on_postgres():
        # The test database itself is not empty.
        with pytest.raises(backup.BackupError, match="not empty"):
            backup.restore(made.path)
        return
    assert jianjian("migrate", "-v0", env=env).returncode == 0
    database = tmp_path / "live" / "jianjian.sqlite3"
    before = backup.sha256(database)
    result = jianjian("restore", str(made.path), env=env)
    assert result.returncode != 0
    assert "restore only into an empty data directory" in result.stderr
    assert backup.sha256(database) == before  # the live database was not touched


@pytest.mark.django_db
def test_retention_keeps_the_newest(tmp_path, world):
    start = dt.datetime(2025, 1, 1, 3, tzinfo=dt.UTC)
    for day in range(5):
        backup.create(tmp_path, now=start + dt.timedelta(days=day))
    removed = backup.prune(tmp_path, keep=2)
    assert len(removed) == 3
    left = backup.backups(tmp_path)
    assert [b.taken_at.day for b in left] == [4, 5]
    assert all(b.checksum_path.exists() for b in left)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [b.path.name for b in left] + [b.checksum_path.name for b in left]
    )


@pytest.mark.django_db
def test_a_daily_backup_is_due_after_a_day(tmp_path, world):
    now = dt.datetime(2025, 1, 2, 3, tzinfo=dt.UTC)
    assert backup.due(tmp_path, now)
    backup.create(tmp_path, now=now)
    assert not backup.due(tmp_path, now + dt.timedelta(hours=23))
    assert backup.due(tmp_path, now + dt.timedelta(hours=24))


@pytest.mark.django_db
def test_backup_command_writes_file_and_checksum(tmp_path, world):
    from django.core.management import call_command

    call_command("backup", "--to", str(tmp_path), "--keep", "3")
    (made,) = backup.backups(tmp_path)
    digest, name = made.checksum_path.read_text().split()
    assert name == made.path.name and digest == backup.sha256(made.path)
