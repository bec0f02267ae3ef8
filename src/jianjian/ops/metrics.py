"""Prometheus metrics.

Two kinds, chosen so that granian's several worker processes still add up:

- request counters and the latency histogram are counted in the process that served the request.
  ``jianjian serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary folder per run) so
  every worker process writes its counts there and a scrape sums them all;
- everything about the record (parcels on hand per point, outbox backlog, worker lag) is computed
  from the database at scrape time, so it is the same whichever process answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from jianjian.ops import readiness

REQUESTS = Counter(
    "jianjian_http_requests",
    "HTTP requests answered, by route pattern, method and status code.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "jianjian_http_request_duration_seconds",
    "Time from request to response, by route pattern.",
    ["route"],
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def observe(route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route=route, method=method, status=str(status)).inc()
    LATENCY.labels(route=route).observe(seconds)


class RecordCollector(Collector):
    """Gauges read from the database when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        from jianjian.points.models import CollectionPoint

        on_hand = GaugeMetricFamily(
            "jianjian_parcels_on_hand",
            "Parcels waiting at each collection point.",
            labels=["community", "point"],
        )
        for community, code, count in CollectionPoint.objects.values_list(
            "community__slug", "code", "on_hand"
        ):
            on_hand.add_metric([community, code], count)
        yield on_hand

        state = readiness.outbox_state()
        yield GaugeMetricFamily(
            "jianjian_outbox_backlog", "Notifications waiting or being sent.", value=state.backlog
        )
        yield GaugeMetricFamily(
            "jianjian_outbox_due", "Notifications whose send time has come.", value=state.due
        )
        yield GaugeMetricFamily(
            "jianjian_outbox_oldest_due_seconds",
            "How long the oldest due notification has waited.",
            value=state.oldest_due_age,
        )
        age = readiness.worker_age()
        yield GaugeMetricFamily(
            "jianjian_worker_lag_seconds",
            "Seconds since the notification worker's last heartbeat (-1: never ran).",
            value=-1 if age is None else age,
        )


def exposition() -> tuple[bytes, str]:
    """The text a scrape returns, and its content type."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # the sum over every web worker process
    else:
        registry.register(_Forward(REGISTRY))  # one process (tests, runserver): its own counts
    registry.register(RecordCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Forward(Collector):
    """Expose another registry's metrics inside a per-scrape registry."""

    def __init__(self, base: CollectorRegistry) -> None:
        self.base = base

    def collect(self) -> Iterator[Metric]:
        yield from self.base.collect()
