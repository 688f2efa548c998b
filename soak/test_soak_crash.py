"""Crash safety at full size: 50,000 items in five overlapping dumps, `feeds ingest` SIGKILLed
at eight random points, then run to the end (tests/runs/test_crash.py has the checks)."""

import os
import random
from pathlib import Path

import pytest

from tests.runs.test_crash import crash_scenario

ITEMS = int(os.environ.get("SOAK_CRASH_ITEMS", "50000"))
KILLS = int(os.environ.get("SOAK_CRASH_KILLS", "8"))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_fifty_thousand_items_survive_random_sigkills(backend: str, tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", random.randrange(10**6)))
    report = crash_scenario(backend, tmp_path, items=ITEMS, parts=5, kills=KILLS, seed=seed)
    print(
        f"\ncrash[{backend}]: seed {report.seed}, {report.items} items, uninterrupted run "
        f"{report.reference_seconds:.1f} s; killed after (s, items then): {report.kills}; "
        f"{report.finished_before_kill} finished before their kill; "
        f"final {report.final_items} items, equal to the uninterrupted run"
    )
    assert report.final_items == ITEMS
