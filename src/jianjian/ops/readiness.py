"""Is this instance ready to serve? Each check answers ok/not ok with a reason a volunteer can act on.

``/readyz`` runs them all and tells anyone ready or not; which check failed and the figures
(backlog, heartbeat, free disk) only to the metrics token's holder or a superuser
(:func:`body`). The Prometheus gauges reuse :func:`outbox_state` and
:func:`worker_age`. Thresholds come from settings (``JIANJIAN_READY_*``).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Min
from django.utils import timezone

from jianjian.notify.models import Notification, Status
from jianjian.notify.worker import due_q
from jianjian.ops.models import Heartbeat


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class OutboxState:
    backlog: int  # rows waiting or being sent
    due: int  # of those, rows whose time has come
    oldest_due_age: float  # seconds the oldest due row has waited (0 when none is due)


def outbox_state(now: dt.datetime | None = None) -> OutboxState:
    now = now or timezone.now()
    waiting = Notification.objects.filter(status__in=[Status.PENDING, Status.SENDING])
    backlog = waiting.aggregate(n=Count("pk"))["n"]
    due = waiting.filter(due_q(now)).aggregate(n=Count("pk"), oldest=Min("next_attempt_at"))
    oldest = due["oldest"]
    age = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
    return OutboxState(backlog=backlog, due=due["n"], oldest_due_age=age)


def worker_age(name: str = "worker", now: dt.datetime | None = None) -> float | None:
    """Seconds since the worker last beat, or None if it never has."""
    beat_at = Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()
    if beat_at is None:
        return None
    return max(((now or timezone.now()) - beat_at).total_seconds(), 0.0)


def unapplied_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    """``app.migration`` names the database still lacks (empty when up to date)."""
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _backwards in plan]


def check_database() -> Check:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return Check("database", True, "reachable")


def check_migrations() -> Check:
    missing = unapplied_migrations()
    if missing:
        return Check(
            "migrations",
            False,
            f"{len(missing)} unapplied (first: {missing[0]}); run `jianjian migrate`",
        )
    return Check("migrations", True, "up to date")


def check_worker() -> Check:
    if not settings.READY_REQUIRE_WORKER:
        return Check("worker", True, "not required here")
    age = worker_age()
    limit = settings.READY_WORKER_MAX_AGE
    if age is None:
        return Check("worker", False, "no worker has ever run; start `jianjian worker`")
    if age > limit:
        return Check("worker", False, f"last heartbeat {age:.0f} s ago (limit {limit} s)")
    return Check("worker", True, f"last heartbeat {age:.0f} s ago")


def check_outbox() -> Check:
    state = outbox_state()
    if state.backlog > settings.READY_OUTBOX_MAX_BACKLOG:
        return Check(
            "outbox",
            False,
            f"{state.backlog} notifications waiting (limit {settings.READY_OUTBOX_MAX_BACKLOG})",
        )
    if state.oldest_due_age > settings.READY_OUTBOX_MAX_DUE_AGE:
        return Check(
            "outbox",
            False,
            f"oldest due notification waited {state.oldest_due_age:.0f} s "
            f"(limit {settings.READY_OUTBOX_MAX_DUE_AGE} s)",
        )
    return Check("outbox", True, f"{state.backlog} waiting, {state.due} due")


def free_bytes() -> int:
    return shutil.disk_usage(settings.DATA_DIR).free


def check_disk() -> Check:
    if os.statvfs(settings.DATA_DIR).f_flag & os.ST_RDONLY:
        return Check("disk", False, "the data directory is on a read-only filesystem")
    free_mb = free_bytes() // (1024 * 1024)
    if free_mb < settings.READY_MIN_FREE_MB:
        return Check(
            "disk",
            False,
            f"{free_mb} MB free in the data directory (need {settings.READY_MIN_FREE_MB} MB)",
        )
    return Check("disk", True, f"{free_mb} MB free")


CHECKS: list[Callable[[], Check]] = [
    check_database,
    check_migrations,
    check_worker,
    check_outbox,
    check_disk,
]


def run_checks() -> list[Check]:
    """Every check; one that raises (a database that is gone) counts as failed, with its error."""
    results = []
    for fn in CHECKS:
        name = fn.__name__.removeprefix("check_")
        try:
            results.append(fn())
        except Exception as exc:  # any failure means "not ready", with the reason
            results.append(Check(name, False, f"{type(exc).__name__}: {exc}"[:300]))
    return results


def body(checks: list[Check], detailed: bool) -> dict[str, object]:
    """``/readyz``'s answer: the status for anyone; each check's detail only when ``detailed``
    (the outbox backlog, worker heartbeat and free disk are no business of a stranger's)."""
    ready = all(c.ok for c in checks)
    out: dict[str, object] = {"status": "ready" if ready else "not ready"}
    if detailed:
        out["checks"] = {c.name: {"ok": c.ok, "detail": c.detail} for c in checks}
    return out
