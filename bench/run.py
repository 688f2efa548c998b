"""`make bench` (`python -m bench`): run every benchmark, print the table, write the JSON.

Environment (all optional):

    BENCH_QUICK=1         small stores and short runs (a minute or two), for a quick look
    BENCH_SIZES=a,b,c     store sizes for the latency figure; the largest is used for the
                          ingest, throughput and memory figures (default 1000,20000,200000)
    BENCH_SECONDS=5       length of one load run
    BENCH_ROUNDS=5        interleaved load runs per figure (the median is kept); the
                          latency figure makes twice as many runs, half as long
    BENCH_CONNECTIONS=4   concurrent clients of the load generator
    BENCH_LOADGEN=wrk     wrk or python (default: wrk when installed, else python)
    BENCH_AGENCY=mfa      the agency feed measured
    BENCH_ONLY=...        comma-separated subset of ingest,http,latency,memory
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
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench import loadgen, servers
from bench.benchmarks import (
    Options,
    bench_http,
    bench_ingest,
    bench_latency,
    bench_memory,
    make_store,
)

RESULTS = Path(__file__).resolve().parent / "results"
PARTS = ("ingest", "http", "latency", "memory")


def _env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


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


def _row(
    number: str, figure: str, value: str, target: str, met: bool | None, detail: str
) -> dict[str, Any]:
    return {
        "n": number,
        "figure": figure,
        "value": value,
        "target": target,
        "met": None if met is None else bool(met),
        "detail": detail,
    }


def table_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    http = results.get("http")
    if http:
        rps = http["rps"]
        slug = http["agency"]
        for name, path in (("all", "/all.atom"), ("agency", f"/agencies/{slug}.atom")):
            ratio = http[f"{name}_vs_bare"]
            rows.append(
                _row(
                    "1",
                    f"{path} req/s vs bare Flask (same bytes)",
                    _x(ratio),
                    ">= 0.9x",
                    ratio >= 0.9,
                    f"{_n(rps[f'{name}.feeds'])} vs {_n(rps[f'{name}.bare'])} req/s",
                )
            )
        for name, path in (("all", "/all.atom"), ("agency", f"/agencies/{slug}.atom")):
            ratio = http[f"{name}_304_vs_bare_200"]
            rows.append(
                _row(
                    "2",
                    f"{path} 304 req/s vs bare 200",
                    _x(ratio),
                    ">= 1.0x",
                    ratio >= 1.0,
                    f"{_n(rps[f'{name}.feeds_304'])} vs {_n(rps[f'{name}.bare'])} req/s",
                )
            )
        for name, path in (("all", "/all.atom"), ("agency", f"/agencies/{slug}.atom")):
            ratio = http[f"{name}_vs_naive"]
            rows.append(
                _row(
                    "3",
                    f"{path} req/s vs naive render per request",
                    _x(ratio),
                    ">= 20x",
                    ratio >= 20,
                    f"{_n(rps[f'{name}.feeds'])} vs {rps[f'{name}.naive']:,.1f} req/s",
                )
            )
        cpu = http["cpu_us_per_request"]
        for name, path in (("all", "/all.atom"), ("agency", f"/agencies/{slug}.atom")):
            rows.append(
                _row(
                    "1-3+",
                    f"{path} by worker CPU/request: vs bare, 304 vs bare 200, vs naive",
                    " / ".join(
                        _x(http[f"{name}_{figure}_by_cpu"])
                        for figure in ("vs_bare", "304_vs_bare_200", "vs_naive")
                    ),
                    "-",
                    None,
                    "feeds {:.0f} us, 304 {:.0f} us, bare {:.0f} us, naive {:,.0f} us".format(
                        *(cpu[f"{name}.{k}"] for k in ("feeds", "feeds_304", "bare", "naive"))
                    ),
                )
            )
    latency = results.get("latency")
    if latency:
        small, large = str(latency["sizes"][0]), str(latency["sizes"][-1])
        for path, per_size in latency["served"].items():
            for stat in ("p50", "p99"):
                ratio = per_size[large][f"{stat}_ratio_to_smallest"]
                rows.append(
                    _row(
                        "4",
                        f"{path} {stat} latency, {_n(int(large))} vs {_n(int(small))} items",
                        _x(ratio),
                        "<= 1.2x",
                        ratio <= 1.2,
                        " / ".join(
                            f"{_size(n)}: {v[f'{stat}_ms']:.2f} ms" for n, v in per_size.items()
                        ),
                    )
                )
        cold = latency["in_process"]
        for step in cold[large]:
            rows.append(
                _row(
                    "4+",
                    f"in process: {step}, {_n(int(large))} vs {_n(int(small))} items",
                    _x(cold[large][step]["ratio_to_smallest"]),
                    "-",
                    None,
                    " / ".join(
                        f"{_n(int(n))}: {v[step]['median_ms']:.1f} ms" for n, v in cold.items()
                    ),
                )
            )
    ingest = results.get("ingest")
    if ingest:
        rate = ingest["items_per_second"]
        items = _n(ingest["items"])
        rows.append(
            _row(
                "5",
                f"ingest of a {items}-item dump into SQLite, items/s",
                _n(rate),
                ">= 20,000/s",
                rate >= 20_000,
                f"{ingest['first_seconds']:.1f} s: parse {ingest['first_parse_seconds']:.1f} s, "
                f"classify {ingest['first_classify_seconds']:.1f} s, "
                f"SQL {ingest['first_sql_seconds']:.1f} s, "
                f"other {ingest['first_other_seconds']:.1f} s",
            )
        )
        rows.append(
            _row(
                "5",
                "ingest items/s vs parsing alone",
                _x(ingest["ratio_to_parse_only"]),
                "-",
                None,
                f"parse only: {_n(ingest['parse_only_items_per_second'])} items/s",
            )
        )
        rows.append(
            _row(
                "5",
                "ingest items/s vs raw sqlite3 executemany",
                _x(ingest["ratio_to_raw_sqlite"]),
                "-",
                None,
                f"raw insert: {_n(ingest['raw_sqlite_items_per_second'])} items/s",
            )
        )
        ratio = ingest["reingest_ratio"]
        rows.append(
            _row(
                "5",
                "unchanged re-ingest, every item re-read (`feeds ingest --force`)",
                f"{ratio:.1%}",
                "-",
                None,
                "{:.1f} s (parse {:.1f} s) vs {:.1f} s".format(
                    ingest["reingest_seconds"],
                    ingest["reingest_parse_seconds"],
                    ingest["first_seconds"],
                ),
            )
        )
        ratio = ingest["reingest_skip_unchanged_ratio"]
        rows.append(
            _row(
                "5",
                "unchanged re-ingest (`feeds ingest`, the scheduler: unchanged files skipped)",
                f"{ratio:.2%}",
                "<= 5%",
                ratio <= 0.05,
                f"{ingest['reingest_skip_unchanged_seconds']:.2f} s",
            )
        )
    memory = results.get("memory")
    if memory:
        peak = memory["peak_rss_mb"]
        rows.append(
            _row(
                "6",
                f"peak worker RSS after all {memory['feeds']} OPML feeds (MB)",
                f"{peak:.0f}",
                "<= 150 MB",
                peak <= 150,
                f"{memory['agency_feeds']} agencies, {memory['topic_feeds']} topics, Atom",
            )
        )
        rows.append(
            _row(
                "6",
                "peak worker RSS vs bare Flask worker",
                _x(memory["ratio_to_bare"]),
                "-",
                None,
                f"bare: {memory['bare_peak_rss_mb']:.0f} MB",
            )
        )
        rows.append(
            _row(
                "6+",
                "peak worker RSS after every format (atom, rss, json)",
                f"{memory['peak_rss_every_format_mb']:.0f}",
                "-",
                None,
                f"{_x(memory['every_format_ratio_to_bare'])} the bare worker",
            )
        )
    return rows


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
        print(f"ingest: {largest} items", flush=True)
        results["ingest"] = bench_ingest(largest, options)
        save(results)
    stores = {}
    if {"http", "latency", "memory"} & set(only):
        for n in sizes if "latency" in only else [largest]:
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
