"""Query counts of list pages and list endpoints: the count of a page must not grow with the
number of rows it lists (one query per row is the N+1 that slows a busy point's pages down).

Each test renders the page with a few rows and again with many, and compares the number of
SQL statements. The first request of a test is not counted: it warms what a process loads once
(content types, the per-process caches).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from jianjian.parcels import services
from tests.api.conftest import api
from tests.factories import World, tracking
from tests.residents.conftest import resident_client

__all__ = ["api", "assert_flat", "queries_of", "resident_client", "take_in"]


def queries_of(request: Callable[[], Any]) -> tuple[int, Any]:
    """The number of SQL statements ``request()`` runs, and its response (which must be OK)."""
    with CaptureQueriesContext(connection) as ctx:
        response = request()
    status = getattr(response, "status_code", 200)
    assert status == 200, (status, getattr(response, "content", b"")[:500])
    return len(ctx), response


def assert_flat(request: Callable[[], Any], grow: Callable[[], Any]) -> tuple[Any, Any]:
    """``request()`` runs as many queries before ``grow()`` as after it; both responses."""
    request()  # warm-up, not counted
    few, small = queries_of(request)
    grow()
    many, large = queries_of(request)
    assert many == few, f"{few} queries with few rows, {many} with more"
    return small, large


def take_in(world: World, n: int, resident: int = 0, point=None) -> list:  # type: ignore[no-untyped-def,type-arg]
    """``n`` parcels taken in at the counter (or ``point``) for one of the world's residents."""
    phone = world.residents[resident].phone
    return [
        services.intake(point or world.counter, tracking(), actor=world.clerk, phone=phone).parcel
        for _ in range(n)
    ]
