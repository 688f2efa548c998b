"""`make bench` (`python -m bench`): run every benchmark, print the table, write the JSON.

Environment (all optional):

    BENCH_QUICK=1         small stores and short runs (a minute or two), for a quick look
    BENCH_SIZES=a,b,c     store sizes for the latency figure; the largest is used for the
                          throughput and memory figures (default 1000,20000,200000)
    BENCH_INGEST_SIZES    dump sizes of the ingest figures (default 20000,200000)
    BENCH_RSS_SIZES       dump sizes of the ingest's peak RSS (default 1000,20000,100000)
    BENCH_SECONDS=5       length of one load run
    BENCH_ROUNDS=5        interleaved load runs per figure (the median is kept); the
                          latency figure makes twice as many runs, half as long
    BENCH_CONNECTIONS=4   concurrent clients of the load generator
    BENCH_LOADGEN=wrk     wrk or python (default: wrk when installed, else python)
    BENCH_AGENCY=mfa      the agency feed measured
    BENCH_ONLY=...        comma-separated subset of ingest,http,latency,memory,search
    BENCH_POSTGRES_URL    a PostgreSQL server URL: the search figures on PostgreSQL stores too
    BENCH_WORKDIR=dir     where dumps and stores go (default: a new folder under /tmp,
                          removed at the end unless BENCH_KEEP=1); stores found there
                          are reused
    BENCH_WORKER_CLASS    gunicorn worker class of every server (default sync, gunicorn's)

Results: bench/results/bench-<time>.json and bench/results/latest.json.
"""

import hashlib
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench import loadgen, servers
from bench.benchmarks import (
    Options,
    bench_http,
    bench_ingest,
    bench_ingest_memory,
    bench_latency,
    bench_memory,
    make_store,
)
from bench.search_bench import bench_search, bench_search_ingest

RESULTS = Path(__file__).resolve().parent / "results"
PARTS = ("ingest", "http", "latency", "memory", "search")


def _env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def _ingest_sizes() -> tuple[list[int], list[int]]:
    """(dump sizes of the ingest figures, dump sizes of the ingest's peak RSS)."""
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0", "false", "no")
    ingest = _env_list("BENCH_INGEST_SIZES", "2000,5000" if quick else "20000,200000")
    rss = _env_list("BENCH_RSS_SIZES", "500,2000,5000" if quick else "1000,20000,100000")
    return sorted(map(int, ingest)), sorted(map(int, rss))


def config() -> tuple[list[int], Options, list[str], bool]:
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0", "false", "no")
    sizes = sorted(
        int(n) for n in _env_list("BENCH_SIZES", "500,2000,5000" if quick else "1000,20000,200000")
    )
    keep = os.environ.get("BENCH_KEEP", "") not in ("", "0", "false", "no")
    if os.environ.get("BENCH_WORKDIR"):
        workdir = Path(os.environ["BENCH_WORKDIR"]).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        keep = True
    else:
        workdir = Path(tempfile.mkdtemp(prefix="feeds-bench-"))
    options = Options(
        workdir=workdir,
        seconds=float(os.environ.get("BENCH_SECONDS", "1" if quick else "5")),
        rounds=int(os.environ.get("BENCH_ROUNDS", "1" if quick else "5")),
        connections=int(os.environ.get("BENCH_CONNECTIONS", "4")),
        tool=os.environ.get("BENCH_LOADGEN") or None,
        agency=os.environ.get("BENCH_AGENCY", "mfa"),
        cold_repeats=2 if quick else 5,
        log=lambda message: print(f"  [{time.strftime('%H:%M:%S')}] {message}", flush=True),
    )
    only = _env_list("BENCH_ONLY", ",".join(PARTS))
    unknown = set(only) - set(PARTS)
    if unknown:
        raise SystemExit(f"BENCH_ONLY: unknown {sorted(unknown)}; known: {', '.join(PARTS)}")
    return sizes, options, only, keep


def code_fingerprint() -> dict[str, Any]:
    """What was measured: a digest of the package, wsgi.py and config (no git here: the
    work tree may hold changes not committed yet), and the newest file's time."""
    project = Path(__file__).resolve().parent.parent
    files = sorted(
        [*project.glob("feeds/**/*.py"), project / "wsgi.py", *project.glob("config/*.toml")]
    )
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(project)).encode() + b"\0" + file.read_bytes())
    newest = max(files, key=lambda f: f.stat().st_mtime)
    return {
        "sha256": digest.hexdigest()[:16],
        "files": len(files),
        "newest": f"{newest.relative_to(project)} "
        + datetime.fromtimestamp(newest.stat().st_mtime, UTC).isoformat(timespec="seconds"),
    }


def machine(options: Options) -> dict[str, Any]:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        memory = f"{int(meminfo.read_text().split()[1]) / 1024 / 1024:.1f} GiB"
    tool = options.tool or ("wrk" if loadgen.WRK else "python")
    tool_version = ""
    if tool == "wrk" and loadgen.WRK:
        run = subprocess.run([loadgen.WRK, "-v"], capture_output=True, text=True)
        tool_version = (run.stdout + run.stderr).split("\n")[0].strip()
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "gunicorn": version("gunicorn"),
        "flask": version("flask"),
        "sqlalchemy": version("sqlalchemy"),
        "feedgen": version("feedgen"),
        "worker_class": servers.WORKER_CLASS,
        "workers": servers.WORKERS,
        "load_generator": tool_version or tool,
        "network": "loopback (127.0.0.1) only",
    }


# -- the table ----------------------------------------------------------------------------


def _x(value: float) -> str:
    return f"{value:.2f}x" if value == value else "n/a"


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _size(name: str) -> str:
    return _n(int(name)) if name.isdigit() else f"({name})"


@dataclass(frozen=True)
class Target:
    """A row's target: its text and its check, from one definition."""

    text: str = "-"
    check: Callable[[float], bool] | None = None

    def met(self, value: float) -> bool | None:
        return None if self.check is None else bool(self.check(value))


def at_least(limit: float, form: str = "{:g}x") -> Target:
    return Target(">= " + form.format(limit), lambda value: value >= limit)


def at_most(limit: float, form: str = "{:g}x") -> Target:
    return Target("<= " + form.format(limit), lambda value: value <= limit)


NO_TARGET = Target()


def _row(
    number: str, figure: str, value: float, shown: str, target: Target, detail: str
) -> dict[str, Any]:
    return {
        "n": number,
        "figure": figure,
        "value": shown,
        "target": target.text,
        "met": target.met(value),
        "detail": detail,
    }


# (number, figure, the ratio's key, target, the two rates compared, the baseline's format)
HTTP_FIGURES = (
    ("1", "{path} req/s vs bare Flask (same bytes)", "vs_bare", at_least(0.9), "feeds", "bare"),
    (
        "2",
        "{path} 304 req/s vs bare 200",
        "304_vs_bare_200",
        at_least(1, "{:.1f}x"),
        "feeds_304",
        "bare",
    ),
    ("3", "{path} req/s vs naive render per request", "vs_naive", at_least(20), "feeds", "naive"),
)


def _http_rows(http: dict[str, Any]) -> list[dict[str, Any]]:
    rps, cpu = http["rps"], http["cpu_us_per_request"]
    paths = (("all", "/all.atom"), ("agency", f"/agencies/{http['agency']}.atom"))
    rows = []
    for number, figure, key, target, ours, theirs in HTTP_FIGURES:
        for name, path in paths:
            ratio = http[f"{name}_{key}"]
            baseline = rps[f"{name}.{theirs}"]
            shown = f"{baseline:,.1f}" if theirs == "naive" else _n(baseline)
            detail = f"{_n(rps[f'{name}.{ours}'])} vs {shown} req/s"
            rows.append(_row(number, figure.format(path=path), ratio, _x(ratio), target, detail))
    for name, path in paths:
        by_cpu = " / ".join(_x(http[f"{name}_{key}_by_cpu"]) for _, _, key, *_ in HTTP_FIGURES)
        detail = "feeds {:.0f} us, 304 {:.0f} us, bare {:.0f} us, naive {:,.0f} us".format(
            *(cpu[f"{name}.{k}"] for k in ("feeds", "feeds_304", "bare", "naive"))
        )
        figure = f"{path} by worker CPU/request: vs bare, 304 vs bare 200, vs naive"
        rows.append(_row("1-3+", figure, 0.0, by_cpu, NO_TARGET, detail))
    return rows


def _latency_rows(latency: dict[str, Any]) -> list[dict[str, Any]]:
    small, large = str(latency["sizes"][0]), str(latency["sizes"][-1])
    sizes = f"{_n(int(large))} vs {_n(int(small))} items"
    rows = []
    for path, per_size in latency["served"].items():
        for stat in ("p50", "p99"):
            ratio = per_size[large][f"{stat}_ratio_to_smallest"]
            detail = " / ".join(
                f"{_size(n)}: {v[f'{stat}_ms']:.2f} ms" for n, v in per_size.items()
            )
            figure = f"{path} {stat} latency, {sizes}"
            rows.append(_row("4", figure, ratio, _x(ratio), at_most(1.2), detail))
    cold = latency["in_process"]
    for step in cold[large]:
        ratio = cold[large][step]["ratio_to_smallest"]
        detail = " / ".join(f"{_n(int(n))}: {v[step]['median_ms']:.1f} ms" for n, v in cold.items())
        rows.append(_row("4+", f"in process: {step}, {sizes}", ratio, _x(ratio), NO_TARGET, detail))
    return rows


def _ingest_rows(ingest: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for found in ingest["sizes"].values():
        rows.extend(_ingest_size_rows(found))
    rss = ingest.get("memory")
    if rss:
        rows.extend(_ingest_rss_rows(rss))
    return rows


def _ingest_size_rows(ingest: dict[str, Any]) -> list[dict[str, Any]]:
    rate, items = ingest["items_per_second"], _n(ingest["items"])
    grown, forced = ingest["grown_ratio"], ingest["reingest_ratio"]
    skipped = ingest["reingest_skip_unchanged_ratio"]
    first = f"{ingest['first_seconds']:.1f} s"
    rounds = ", ".join(
        f"{floor:.2f}/{first_s:.2f}"
        for floor, first_s in zip(
            ingest.get("floor_seconds_each_round", ()),
            ingest.get("first_seconds_each_round", ()),
            strict=True,
        )
    )
    return [
        _row(
            "5",
            f"first ingest of a {items}-item dump into SQLite, items/s",
            rate,
            _n(rate),
            NO_TARGET,  # issue 18's absolute 20,000/s became issue 31's ratio to the floor, below
            f"{first}, {ingest['workers']} parsing processes",
        ),
        _row(
            "5",
            f"{items}: first ingest items/s vs the write floor (bench/floor.py, same run)",
            ingest["ratio_to_floor"],
            _x(ingest["ratio_to_floor"]),
            at_least(0.4),
            f"floor: {_n(ingest['floor_items_per_second'])} items/s (regex split, sqlite3"
            " executemany, FTS5, one transaction); best of each of the rounds, floor/ingest"
            f" s: {rounds}; the goal beyond: 0.5x",
        ),
        _row(
            "5",
            f"{items}: first ingest items/s vs parsing alone (one process)",
            ingest["ratio_to_parse_only"],
            _x(ingest["ratio_to_parse_only"]),
            NO_TARGET,
            f"parse only: {_n(ingest['parse_only_items_per_second'])} items/s",
        ),
        _row(
            "5",
            f"{items}: first ingest items/s vs raw sqlite3 executemany",
            ingest["ratio_to_raw_sqlite"],
            _x(ingest["ratio_to_raw_sqlite"]),
            NO_TARGET,
            f"raw insert: {_n(ingest['raw_sqlite_items_per_second'])} items/s; with the search"
            f" index rows: {_n(ingest['raw_sqlite_with_index_items_per_second'])} items/s",
        ),
        _row(
            "5",
            f"{items}: first ingest items/s vs the text's work alone (one process)",
            ingest["ratio_to_text_work"],
            _x(ingest["ratio_to_text_work"]),
            NO_TARGET,
            f"parse, classify and search terms: {_n(ingest['text_work_items_per_second'])}"
            " items/s in one process",
        ),
        _row(
            "5",
            f"{items}: the dump grown by 1 new item on top, vs its first ingest",
            grown,
            f"{grown:.1%}",
            at_most(0.10, "{:.0%}"),
            f"{ingest['grown_seconds']:.2f} s vs {first}; best of the days, each one more new"
            f" item: {', '.join(f'{s:.2f}' for s in ingest.get('grown_seconds_each_round', ()))} s",
        ),
        _row(
            "5",
            f"{items}: unchanged re-ingest, every item re-read (`feeds ingest --force`)",
            forced,
            f"{forced:.1%}",
            NO_TARGET,
            f"{ingest['reingest_seconds']:.2f} s vs {first}",
        ),
        _row(
            "5",
            f"{items}: unchanged re-ingest (`feeds ingest`, the scheduler: file skipped)",
            skipped,
            f"{skipped:.2%}",
            at_most(0.05, "{:.0%}"),
            f"{ingest['reingest_skip_unchanged_seconds']:.2f} s",
        ),
    ]


# The largest size's peak RSS against the smallest's: 20k within 1.5x of 1k, 100k within 2x.
RSS_LIMITS = ((20_000, 1.5), (100_000, 2.0))


def _ingest_rss_rows(rss: dict[str, Any]) -> list[dict[str, Any]]:
    sizes, peaks = rss["sizes"], rss["peak_rss"]
    smallest = _n(sizes[0])
    detail = " / ".join(
        f"{_n(int(n))}: {v['self_mb']:.0f} MB (workers {v['workers_mb']:.0f} MB)"
        for n, v in peaks.items()
    )
    rows = []
    for size in sizes[1:]:
        limit = next((x for n, x in RSS_LIMITS if size <= n), RSS_LIMITS[-1][1])
        ratio = peaks[str(size)]["ratio_to_smallest"]
        figure = f"peak RSS of `feeds ingest`, {_n(size)} vs {smallest} items"
        rows.append(_row("5m", figure, ratio, _x(ratio), at_most(limit), detail))
    return rows


def _memory_rows(memory: dict[str, Any]) -> list[dict[str, Any]]:
    peak = memory["peak_rss_mb"]
    every = memory["peak_rss_every_format_mb"]
    return [
        _row(
            "6",
            f"peak worker RSS after all {memory['feeds']} OPML feeds (MB)",
            peak,
            f"{peak:.0f}",
            at_most(150, "{:g} MB"),
            f"{memory['agency_feeds']} agencies, {memory['topic_feeds']} topics, Atom",
        ),
        _row(
            "6",
            "peak worker RSS vs bare Flask worker",
            memory["ratio_to_bare"],
            _x(memory["ratio_to_bare"]),
            NO_TARGET,
            f"bare: {memory['bare_peak_rss_mb']:.0f} MB",
        ),
        _row(
            "6+",
            "peak worker RSS after every format (atom, rss, json)",
            every,
            f"{every:.0f}",
            NO_TARGET,
            f"{_x(memory['every_format_ratio_to_bare'])} the bare worker",
        ),
    ]


SECTIONS = {"http": _http_rows, "latency": _latency_rows, "ingest": _ingest_rows}
SECTIONS["memory"] = _memory_rows


def _search_rows(search: dict[str, Any]) -> list[dict[str, Any]]:
    per, sizes = search["per_size"], search["sizes"]
    small, large = str(sizes[0]), str(sizes[-1])
    versus = f"{_n(int(large))} vs {_n(int(small))} items"

    def detail(kind: str, stat: str = "p50") -> str:
        return " / ".join(f"{_n(int(n))}: {v[kind][f'{stat}_ms']:.1f} ms" for n, v in per.items())

    if search.get("postgres_uncached_p50_ratio"):
        pg, ratio = search["postgres_per_size"], search["postgres_uncached_p50_ratio"]
        pg_detail = " / ".join(
            f"{_n(int(n))}: {v['uncached']['p50_ms']:.1f} ms" for n, v in pg.items()
        )
    ingest = search.get("ingest")
    rows = [
        _row("7", f"search feed p50, a new query each time, {versus}",
             search["uncached_p50_ratio"], _x(search["uncached_p50_ratio"]), at_most(3),
             detail("uncached")),
        _row("7", f"search feed p99, a new query each time, {versus}",
             search["uncached_p99_ratio"], _x(search["uncached_p99_ratio"]), NO_TARGET,
             detail("uncached", "p99")),
        _row("7", f"search feed p50 cached vs cached /all.atom?limit=49, {_n(int(large))} items",
             search["cached_vs_variant_feed"], _x(search["cached_vs_variant_feed"]), at_most(1.2),
             f"cached search: {detail('cached')}; variant: {detail('variant_feed')}"),
        _row("7+", f"search feed p50 cached vs /all.atom (fast path), {_n(int(large))} items",
             search["cached_vs_canonical_feed"], _x(search["cached_vs_canonical_feed"]), NO_TARGET,
             detail("canonical_feed")),
    ]  # fmt: skip
    if search.get("postgres_uncached_p50_ratio"):
        rows.append(
            _row("7", f"PostgreSQL: search feed p50, a new query each time, {versus}", ratio,
                 _x(ratio), at_most(3), pg_detail)
        )  # fmt: skip
    if ingest:
        rates = ingest["items_per_second"]
        rows.append(
            _row("8", f"ingest of {_n(ingest['items'])} items with the search index vs without",
                 ingest["ratio"], _x(ingest["ratio"]), at_least(0.8),
                 f"{_n(rates['with_index'])} vs {_n(rates['without_index'])} items/s")
        )  # fmt: skip
    return rows


SECTIONS["search"] = _search_rows


def table_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The BENCHMARKS.md table: a row per figure of each benchmark that ran."""
    return [
        row for name, rows in SECTIONS.items() if results.get(name) for row in rows(results[name])
    ]


def format_table(rows: list[dict[str, Any]]) -> str:
    headers = ("#", "figure", "value", "target", "met", "measured")
    cells = [
        (
            r["n"],
            r["figure"],
            r["value"],
            r["target"],
            {True: "yes", False: "NO", None: "-"}[r["met"]],
            r["detail"],
        )
        for r in rows
    ]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    return "\n".join(lines)


# -- running ------------------------------------------------------------------------------


def run(
    sizes: list[int], options: Options, only: list[str], save: Callable[[dict], None]
) -> dict[str, Any]:
    """Every benchmark asked for; `save` gets the results so far after each one."""
    results: dict[str, Any] = {}
    largest = sizes[-1]
    if "ingest" in only:
        ingest_sizes, rss_sizes = _ingest_sizes()
        print(f"ingest: {', '.join(map(str, ingest_sizes))} items", flush=True)
        results["ingest"] = {"sizes": {}}
        for n in ingest_sizes:
            results["ingest"]["sizes"][str(n)] = bench_ingest(n, options)
            save(results)
        results["ingest"]["memory"] = bench_ingest_memory(rss_sizes, options)
        save(results)
    stores = {}
    if {"http", "latency", "memory", "search"} & set(only):
        for n in sizes if {"latency", "search"} & set(only) else [largest]:
            options.log(f"store of {n} items")
            stores[n] = make_store(n, options.workdir)
    if "http" in only:
        print(f"http: throughput with {largest} items stored", flush=True)
        results["http"] = bench_http(stores[largest], options)
        save(results)
    if "latency" in only:
        print(f"latency: stores of {', '.join(map(str, sizes))} items", flush=True)
        results["latency"] = bench_latency(stores, options)
        save(results)
    if "memory" in only:
        print(f"memory: every feed with {largest} items stored", flush=True)
        results["memory"] = bench_memory(stores[largest], options)
        save(results)
    if "search" in only:
        print(f"search: stores of {', '.join(map(str, sizes))} items", flush=True)
        results["search"] = bench_search(stores, options)
        save(results)
        results["search"]["ingest"] = bench_search_ingest(options)
        save(results)
    return results


def main() -> int:
    sizes, options, only, keep = config()
    started = datetime.now(UTC)
    begin = time.perf_counter()
    info = machine(options)
    code = code_fingerprint()
    load_at_start = os.getloadavg()
    print(
        f"benchmarks: {', '.join(only)}; sizes {sizes}; {options.rounds} x {options.seconds:g}s "
        f"runs; {info['load_generator']}; {info['cores']} cores; Python {info['python']}; "
        f"work folder {options.workdir}",
        flush=True,
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench-{started.strftime('%Y%m%dT%H%M%SZ')}.json"

    def report(results: dict[str, Any], complete: bool) -> dict[str, Any]:
        found = {
            "started": started.isoformat(timespec="seconds"),
            "took_seconds": round(time.perf_counter() - begin, 1),
            "complete": complete,
            "quick": os.environ.get("BENCH_QUICK", "") not in ("", "0", "false", "no"),
            "machine": info,
            "code": code,
            # Other processes on the machine sway every figure; ratios less so.
            "load_average": {"start": load_at_start, "end": os.getloadavg()},
            "options": {
                "sizes": sizes,
                "seconds": options.seconds,
                "rounds": options.rounds,
                "connections": options.connections,
                "agency": options.agency,
                "parts": only,
            },
            "table": table_rows(results),
            "results": results,
        }
        text = json.dumps(found, indent=2, default=str)
        out.write_text(text)  # after each benchmark: a crash keeps what was measured
        (RESULTS / "latest.json").write_text(text)
        return found

    try:
        results = run(sizes, options, only, lambda partial: report(partial, False))
    finally:
        if not keep:
            shutil.rmtree(options.workdir, ignore_errors=True)
    final = report(results, True)
    print()
    print(format_table(final["table"]))
    print(f"\nwritten: {out} (and {RESULTS / 'latest.json'}); took {final['took_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
