"""Issue 31: the ingest made faster leaves exactly what it left before. tests/golden/ holds
every output (tests/golden.py: the store's rows, the ingest's reports, every feed) of the
sample dumps and, as digests, of a synthetic dump parsed by the process pool, written by
the code before any change for speed."""

import difflib
import json
from pathlib import Path

from tests.golden import GOLDEN, sample_outputs, synthetic_digests


def _first_difference(name: str, expected: str, found: str) -> str:
    diff = difflib.unified_diff(
        expected.splitlines(), found.splitlines(), "golden", "now", n=0, lineterm=""
    )
    return f"{name} differs from tests/golden/samples.json:\n" + "\n".join(list(diff)[:12])


def test_sample_dumps_give_exactly_the_golden_outputs(tmp_path: Path) -> None:
    golden = json.loads((GOLDEN / "samples.json").read_text())
    found = sample_outputs(tmp_path)
    assert sorted(found) == sorted(golden), "the set of outputs (feeds, tables) changed"
    for name, text in golden.items():
        assert found[name] == text, _first_difference(name, text, found[name])


def test_a_dump_parsed_by_the_pool_gives_exactly_the_golden_outputs(tmp_path: Path) -> None:
    golden = json.loads((GOLDEN / "synthetic.json").read_text())
    found = synthetic_digests(tmp_path)
    assert sorted(found) == sorted(golden), "the set of outputs (feeds, tables) changed"
    differ = [name for name in golden if found[name] != golden[name]]
    assert not differ, f"outputs whose sha256 differs from tests/golden/synthetic.json: {differ}"
