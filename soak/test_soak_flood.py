"""The flood of tests/web/test_flood.py, ten times longer (SOAK_FLOOD_REQUESTS, default 30,000):
the store still holds only the canonical pages, the workers' memory stays within its bound
and the poller of /all.atom gets only 200 and 304."""

import os
from pathlib import Path

from tests.web.test_flood import flood_and_check

REQUESTS = int(os.environ.get("SOAK_FLOOD_REQUESTS", "30000"))


def test_a_long_flood(tmp_path: Path) -> None:
    flood_and_check(tmp_path, REQUESTS)
