"""The benchmark code (bench/, `make bench`) run once at toy size so that it cannot rot.

No timing is asserted here: only that the synthetic dumps are right and that every
benchmark runs end to end and reports the figures the table needs.
"""

from pathlib import Path

import pytest

from bench import synthetic
from bench.benchmarks import (
    Options,
    bench_http,
    bench_ingest,
    bench_ingest_memory,
    bench_latency,
    bench_memory,
    make_store,
)
from bench.run import format_table, table_rows
from bench.search_bench import bench_search, bench_search_ingest
from feeds.ingest import parse_bytes
from tests.conftest import SAMPLE_DUMPS


def test_synthetic_dump_parses_back_to_new_items_without_problems(tmp_path: Path) -> None:
    text = synthetic.synthetic_dump(120)
    parsed = parse_bytes(text.encode(), "synthetic.txt")
    assert parsed.problems == []
    assert len(parsed.records) == 120
    assert len({r.key for r in parsed.records}) == 120
    assert all(r.link and int(r.govkz_id) >= synthetic.FIRST_ID for r in parsed.records)
    days = [r.day for r in parsed.records]
    assert days == sorted(days, reverse=True)  # newest first, as scrapers write
    samples = [
        r for path in SAMPLE_DUMPS for r in parse_bytes(path.read_bytes(), path.name).records
    ]
    assert days[0] == max(r.day for r in samples)
    assert {r.agency for r in parsed.records} <= {r.agency for r in samples if r.agency}
    assert {r.title for r in parsed.records} <= {r.title for r in samples}
    # The streaming writer and the command line write the same text.
    out = tmp_path / "x.txt"
    assert synthetic.main(["--items", "120", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == text


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> Options:
    return Options(
        workdir=tmp_path_factory.mktemp("bench"),
        seconds=0.2,
        rounds=1,
        connections=2,
        tool="python",  # wrk may not be installed; and it measures whole seconds only
        cold_repeats=1,
    )


@pytest.fixture(scope="module")
def results(options: Options) -> dict:
    return {}


def test_bench_ingest_runs(options: Options, results: dict) -> None:
    found = bench_ingest(60, options)
    memory = bench_ingest_memory([20, 60], options)
    results["ingest"] = {"sizes": {"60": found}, "memory": memory}
    assert found["items"] == 60
    assert memory["peak_rss"]["60"]["self_mb"] > 0
    for key in (
        "grown_ratio",
        "items_per_second",
        "parse_only_items_per_second",
        "raw_sqlite_items_per_second",
        "ratio_to_parse_only",
        "ratio_to_raw_sqlite",
        "reingest_ratio",
        "reingest_skip_unchanged_ratio",
    ):
        assert found[key] > 0, key


def test_bench_http_runs(options: Options, results: dict) -> None:
    found = bench_http(make_store(60, options.workdir), options)
    results["http"] = found
    for path, check in found["checks"].items():  # the three apps send the same feed
        assert check["bare_same_bytes"] and check["naive_same_bytes"], path
    assert found["checks"]["/all.atom"]["entries"] == 50
    for name in ("all", "agency"):
        for figure in ("vs_bare", "304_vs_bare_200", "vs_naive"):
            assert found[f"{name}_{figure}"] > 0


def test_bench_latency_runs(options: Options, results: dict) -> None:
    stores = {n: make_store(n, options.workdir) for n in (55, 60)}
    found = bench_latency(stores, options)
    results["latency"] = found
    assert found["sizes"] == [55, 60]
    for per_size in found["served"].values():
        assert set(per_size) == {"55", "60", "bare"}
        assert {"p50_ms", "p99_ms", "p50_ratio_to_smallest", "p99_ratio_to_smallest"} <= set(
            per_size["60"]
        )
    assert set(found["in_process"]) == {"55", "60"}
    assert {
        "aggregates: computed (once per change)",
        "aggregates: shared copy read by a worker",
    } <= set(found["in_process"]["60"])


def test_bench_memory_runs(options: Options, results: dict) -> None:
    found = bench_memory(make_store(60, options.workdir), options)
    results["memory"] = found
    assert found["feeds"] == 1 + found["agency_feeds"] + found["topic_feeds"]
    assert found["peak_rss_mb"] > 0 and found["bare_peak_rss_mb"] > 0
    assert found["ratio_to_bare"] > 0


def test_bench_search_runs(options: Options, results: dict) -> None:
    stores = {n: make_store(n, options.workdir) for n in (55, 60)}
    found = bench_search(stores, options, queries_count=6, repeats=3)
    assert found["sizes"] == [55, 60] and found["queries"] == 6
    assert found["uncached_p50_ratio"] > 0 and found["cached_vs_variant_feed"] > 0
    found["ingest"] = bench_search_ingest(options, count=60)
    assert found["ingest"]["items"] == 60 and found["ingest"]["ratio"] > 0
    results["search"] = found


def test_table_has_a_row_per_figure(results: dict) -> None:
    if set(results) != {"ingest", "http", "latency", "memory", "search"}:
        pytest.skip("needs the benchmarks above")
    rows = table_rows(results)
    assert {row["n"] for row in rows} >= {"1", "2", "3", "4", "5", "6", "7", "8"}
    assert format_table(rows).count("\n") == len(rows) + 1
