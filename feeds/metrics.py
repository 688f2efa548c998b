"""Prometheus metrics (/metrics): the only user of prometheus_client.

Request and render counters live in each web process; under gunicorn set
PROMETHEUS_MULTIPROC_DIR (an empty directory) so /metrics sums every worker (`feeds
serve` does this itself). What the store knows (items, follow states, ingest and follow
runs recorded by the scheduler, wherever it runs) is read from the store at scrape time.
"""

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from feeds.store import Store

REQUESTS = Counter(
    "feeds_http_requests",
    "HTTP requests answered, by route and status (304 = not modified).",
    ["route", "status"],
)
RENDERS = Counter("feeds_renders", "Feed pages rendered (not served from a cache).")
RUNS = ("ingest", "rss", "follow")


class StoreCollector(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("feeds_items", "Items stored.", value=self.store.count_items())
        yield GaugeMetricFamily(
            "feeds_content_version",
            "Version of the stored content (moves with every change).",
            value=self.store.content_version(),
        )
        stats = self.store.follow_stats().as_dict(datetime.now(UTC))
        waited = stats.pop("oldest_pending_seconds")
        follows = GaugeMetricFamily(
            "feeds_follow_items", "Items by follow state.", labels=["state"]
        )
        for state, count in stats.items():
            follows.add_metric([state], count or 0)
        yield follows
        yield GaugeMetricFamily(
            "feeds_follow_oldest_pending_seconds",
            "How long the longest-waiting item never answered by gov.kz has been due (0: none).",
            value=waited or 0.0,
        )
        yield from self._pause()
        for run in RUNS:
            yield from self._runs(run)

    def _pause(self) -> Iterator[Metric]:
        """1 while gov.kz is paused (the host failing, or the portal refusing us), with why."""
        pause = self.store.follow_pause(datetime.now(UTC))
        paused = GaugeMetricFamily(
            "feeds_follow_paused",
            "1 while gov.kz is not asked, with the reason.",
            labels=["reason"],
        )
        paused.add_metric([pause.reason if pause else ""], 1 if pause else 0)
        yield paused
        yield GaugeMetricFamily(
            "feeds_follow_paused_until_timestamp_seconds",
            "Until when gov.kz is paused (Unix time; 0: not paused).",
            value=pause.until.timestamp() if pause else 0.0,
        )

    def _runs(self, run: str) -> Iterator[Metric]:
        recorded = json.loads(self.store.get_state(f"runs:{run}") or "{}")
        outcomes = CounterMetricFamily(
            f"feeds_{run}_runs", f"Scheduled {run} runs by outcome.", labels=["outcome"]
        )
        for outcome in ("ok", "failed"):
            outcomes.add_metric([outcome], recorded.get(outcome, 0))
        yield outcomes
        yield GaugeMetricFamily(
            f"feeds_{run}_last_duration_seconds",
            f"Duration of the last {run} run.",
            value=recorded.get("last_seconds", 0.0),
        )
        yield GaugeMetricFamily(
            f"feeds_{run}_last_run_timestamp_seconds",
            f"When the last {run} run ended (Unix time).",
            value=recorded.get("last_at", 0.0),
        )


def exposition(store: Store) -> tuple[bytes, str]:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(RENDERS)
    registry.register(StoreCollector(store))
    return generate_latest(registry), CONTENT_TYPE_LATEST
