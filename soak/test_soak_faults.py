"""A faulty gov.kz under load, long enough to measure: ten items per fault, readers on the
web server before (idle) and while the follower meets every fault. Serving latency p99
during the faults stays within twice the idle p99 (measured in the same run)."""

import os
from pathlib import Path

from feeds.settings import Settings
from tests.following.test_faulty_govkz import FAULTS, faulty_scenario

PER_FAULT = int(os.environ.get("SOAK_FAULT_ITEMS", "10"))


def test_serving_latency_while_gov_kz_fails_in_every_way(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    report = faulty_scenario(
        settings, database_url, tmp_path, items=PER_FAULT * len(FAULTS), idle_seconds=20.0
    )
    backend = database_url.split(":")[0]
    idle, faulty = report.idle_p99 * 1000, report.fault_p99 * 1000
    print(
        f"\nfaulty gov.kz [{backend}]: {report.items} items, follower {report.follower}; "
        f"readers idle {report.idle_requests} requests p99 {idle:.1f} ms, "
        f"during faults {report.fault_requests} requests p99 {faulty:.1f} ms: "
        f"ratio {report.ratio:.2f}; errors {len(report.errors)}; "
        f"huge answers cut after {report.huge_bytes_sent} bytes"
    )
    assert report.errors == []
    assert report.follower["peak_rss_kib"] < 150_000
    assert report.ratio <= 2.0
