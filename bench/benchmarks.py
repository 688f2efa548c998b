"""The benchmarks of issue 8. Each function runs one benchmark and returns a dict of plain
values (JSON-ready); every headline figure is a ratio to a baseline measured in the same
run. `bench.run` chooses the sizes, calls them and prints the table.

1-3 `bench_http`: requests/second of the real feeds (`gunicorn wsgi:app`) against a bare
    Flask app sending the same bytes, conditional requests (304), and a naive app that
    renders every request.
4   `bench_latency`: feed latency with stores of several sizes, served (warm) and, in
    process, the first request after a content change (cold).
5   `bench_ingest`: ingest throughput of one large dump, the same dump grown by one item,
    unchanged re-ingests, against parsing alone and a raw sqlite3 executemany of the same
    rows; `bench_ingest_memory`: peak RSS of `feeds ingest` at several dump sizes.
6   `bench_memory`: peak RSS of a worker that served every feed of the OPML, against the
    bare app's worker.
"""

import gc
import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

from sqlalchemy import Table

from bench.floor import floor_seconds
from bench.loadgen import LoadResult, probe, run_load
from bench.naive_app import build_feed
from bench.servers import PROJECT, SITE_URL, WORKERS, Server, Spec, feeds_env, gunicorns
from bench.synthetic import write_synthetic
from feeds.dumps.dumpsplit import lines_of, segments
from feeds.dumps.dumpwrite import DumpItem, write_item
from feeds.dumps.itemparse import parse_head
from feeds.dumps.parsepool import parse_items
from feeds.dumps.records import item_uid
from feeds.ingest import Ingester, parse_bytes
from feeds.publish.feedmodel import FeedRef
from feeds.publish.feedservice import PageQuery
from feeds.settings import Settings, load_settings
from feeds.store import Store, Summary, schema, summary_key
from feeds.text.classify import load_topics, section_slug
from feeds.text.search_terms import release_terms
from feeds.web.app import create_app

GZIP = {"Accept-Encoding": "gzip"}
FORMATS = ("atom", "rss", "json")
TRACK_CONFIG = str(PROJECT / "bench" / "gunicorn_track.py")


@dataclass
class Options:
    """How long and how hard to measure; `bench.run` fills it from BENCH_* variables."""

    workdir: Path
    seconds: float = 5.0  # one load run
    rounds: int = 5  # load runs per figure, interleaved; the median is kept
    connections: int = 4  # concurrent clients of the load generator
    tool: str | None = None  # "wrk" or "python"; None: wrk when installed
    agency: str = "mfa"  # the agency feed measured (mfa: a parent with many embassies)
    cold_repeats: int = 5
    log: Callable[[str], None] = field(default=lambda message: None)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def _timed(action: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def bench_settings(database_url: str, dump: Path | None = None, **extra: Any) -> Settings:
    """Settings of an in-process store or ingest: no config file values leak in, no follow."""
    return load_settings(
        env={},
        database_url=database_url,
        dumps=(str(dump),) if dump else (),
        follow=False,
        site_url=SITE_URL,
        **extra,
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _fresh_db(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return sqlite_url(path)


def make_dump(count: int, workdir: Path) -> Path:
    path = workdir / f"synthetic-{count}.txt"
    if not path.exists():
        write_synthetic(count, path.with_suffix(".part"))
        path.with_suffix(".part").rename(path)
    return path


def make_store(count: int, workdir: Path) -> str:
    """A store of `count` synthetic items (built once per work folder); its URL."""
    db = workdir / f"store-{count}.sqlite3"
    done = workdir / f"store-{count}.done"
    if done.exists():
        return sqlite_url(db)
    dump = make_dump(count, workdir)
    url = _fresh_db(db)
    store = Store(url)
    try:
        settings = bench_settings(url, dump, max_dump_bytes=_max_bytes(dump))
        (report,) = Ingester(store, settings).run([str(dump)])
        if report.error or report.counts.new != count:
            raise RuntimeError(f"store of {count} items: {report}")
    finally:
        store.close()
    done.touch()
    return url


def _max_bytes(dump: Path) -> int:
    # 200k items of the samples' size make a dump over the default MAX_DUMP_BYTES (200 MB).
    return max(200_000_000, 2 * dump.stat().st_size)


# -- 5. ingest ----------------------------------------------------------------------------


def _grown_copy(dump: Path, path: Path, new_items: int = 1) -> Path:
    """The dump as a scraper rewrites it the next days: `new_items` new releases on top
    (numbered from 0: a copy with one more holds one new release beside the last copy)."""
    head, rest = dump.read_bytes().split(b"\n", 1)
    fresh = [
        DumpItem(
            title=f"A new release of the day, number {n}",
            day=date(2031, 1, 1),
            body="Its text, about the economy and investment.",
            link=f"https://www.gov.kz/memleket/entities/mfa/press/news/details/{10**9 + n}?lang=en",
        )
        for n in range(new_items)
    ]
    top = "\n".join(write_item(item) for item in fresh).encode()
    path.write_bytes(head + b"\n" + top + b"\n" + rest)
    return path


# First ingests (each into a new store, each after a run of the floor), and grown ones.
INGEST_ROUNDS = 3


def _ingest_phase(
    store: Store, settings: Settings, source: Path, **run_options: Any
) -> tuple[Any, float]:
    gc.collect()
    ingester = Ingester(store, settings)
    (report,), took = _timed(lambda: ingester.run([str(source)], **run_options))
    if report.error:
        raise RuntimeError(f"ingest of {source}: {report.error}")
    return report, took


def bench_ingest(count: int, options: Options) -> dict[str, Any]:
    """Ingest a `count`-item dump into a new SQLite store (`Ingester.run`, as `feeds ingest`
    does: streamed, new items parsed by the process pool); then the same file grown by one
    new item on top (the scrapers' day-to-day change); then re-read unchanged (`--force`)
    and skipped unchanged (the scheduler). Baselines, in the same run: parsing the dump
    alone (`parse_bytes`, one process) and sqlite3's executemany of the same rows."""
    workdir = options.workdir
    reused = (workdir / f"synthetic-{count}.txt").exists()
    dump, generate_s = _timed(lambda: make_dump(count, workdir))
    source = workdir / f"source-{count}.txt"  # one source name for the first and grown ingests
    shutil.copyfile(dump, source)
    db = workdir / f"store-{count}.sqlite3"
    url = sqlite_url(db)
    (workdir / f"store-{count}.done").unlink(missing_ok=True)
    settings = bench_settings(url, source, max_dump_bytes=_max_bytes(dump))
    size_mb = dump.stat().st_size / 1e6
    floor_db = workdir / f"floor-{count}.sqlite3"
    floors: list[float] = []
    firsts: list[float] = []
    for round_ in range(1, INGEST_ROUNDS + 1):
        # The floor and the first ingest in turns, so that both meet the same load of the
        # machine (a shared one drifts by a fifth within minutes), each kept at its best:
        # the ratio is neither flattered nor sunk by one slow run.
        options.log(f"ingest: round {round_}: the write floor (bench/floor.py) of {count} items")
        floors.append(floor_seconds(dump, floor_db)[1])
        options.log(f"ingest: round {round_}: {count} items ({size_mb:.0f} MB) into a new store")
        _fresh_db(db)
        store = Store(url)
        try:
            first, first_s = _ingest_phase(store, settings, source)
        finally:
            store.close()
        firsts.append(first_s)
    first_s, floor_s = min(firsts), min(floors)
    store = Store(url)
    try:
        options.log(f"ingest: first took {first_s:.1f}s at best; the dump grown by one item on top")
        grown_runs = []
        for day in range(1, INGEST_ROUNDS + 1):  # as the first ingest: the best of its rounds
            _grown_copy(dump, source, new_items=day)  # one more new release each day
            grown, took = _ingest_phase(store, settings, source, skip_unchanged=True)
            if (grown.counts.new, grown.counts.unchanged) != (1, count + day - 1):
                raise RuntimeError(f"grown ingest, day {day}: {grown}")
            grown_runs.append(took)
        grown_s = min(grown_runs)
        options.log(f"ingest: grown took {grown_s:.2f}s at best; re-reading it unchanged (--force)")
        again, again_s = _ingest_phase(store, settings, source)
        skipped, skipped_s = _ingest_phase(store, settings, source, skip_unchanged=True)
    finally:
        store.close()
    expected = (first.counts.new, again.counts.unchanged)
    if expected != (count, count + INGEST_ROUNDS) or not skipped.skipped:
        raise RuntimeError(f"unexpected ingest counts: {first}, {grown}, {again}, {skipped}")
    shutil.copyfile(dump, source)
    (workdir / f"store-{count}.done").touch()

    options.log("ingest: baselines (parse alone, all the text's work, raw sqlite3 inserts)")
    gc.collect()
    parsed, parse_s = _timed(lambda: parse_bytes(dump.read_bytes(), str(dump)))
    text_rate = _text_work_rate(dump, settings)
    raw = workdir / f"raw-{count}.sqlite3"
    raw_s = _raw_sqlite_insert(parsed.records, raw, str(dump))
    raw_index_s = _raw_sqlite_insert(parsed.records, raw, str(dump), with_index=True)
    del parsed
    gc.collect()

    rate, parse_rate, raw_rate = count / first_s, count / parse_s, count / raw_s
    floor_rate = count / floor_s
    return {
        "items": count,
        "dump_bytes": dump.stat().st_size,
        "generate_seconds": generate_s,
        "dump_reused": reused,  # from an earlier run in BENCH_WORKDIR: no generation time
        "workers": settings.ingest_workers,
        "first_seconds": first_s,
        "first_seconds_each_round": firsts,
        "floor_seconds_each_round": floors,
        "items_per_second": rate,
        "floor_seconds": floor_s,
        "floor_items_per_second": floor_rate,
        "ratio_to_floor": _ratio(rate, floor_rate),
        "parse_only_seconds": parse_s,
        "parse_only_items_per_second": parse_rate,
        "raw_sqlite_seconds": raw_s,
        "raw_sqlite_items_per_second": raw_rate,
        "raw_sqlite_with_index_seconds": raw_index_s,
        "raw_sqlite_with_index_items_per_second": count / raw_index_s,
        "text_work_items_per_second": text_rate,
        "ratio_to_text_work": _ratio(rate, text_rate),
        "ratio_to_parse_only": _ratio(rate, parse_rate),
        "ratio_to_raw_sqlite": _ratio(rate, raw_rate),
        "grown_seconds": grown_s,
        "grown_seconds_each_round": grown_runs,
        "grown_ratio": _ratio(grown_s, first_s),
        "reingest_seconds": again_s,
        "reingest_ratio": _ratio(again_s, first_s),
        "reingest_skip_unchanged_seconds": skipped_s,
        "reingest_skip_unchanged_ratio": _ratio(skipped_s, first_s),
        "database_url": url,
    }


# The peak RSS of a whole `feeds ingest`, in a process of its own: its VmHWM (ru_maxrss keeps,
# across exec, the size of the process forked from the benchmark); for its parsing workers,
# ru_maxrss of the children (an upper bound: each starts as a fork of the ingest).
_RSS_SCRIPT = """
import json, resource, sys
from feeds.cli import main
try:
    main(["ingest", sys.argv[1]], standalone_mode=False)
finally:
    status = dict(
        line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line
    )
    print(json.dumps({
        "self_mb": int(status["VmHWM"].split()[0]) / 1024,
        "workers_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }), file=sys.stderr)
"""


def ingest_peak_rss(count: int, options: Options) -> dict[str, float]:
    """Peak RSS (MB) of `feeds ingest` of a `count`-item dump into a new SQLite store: the
    ingest's process, and the largest of its parsing workers."""
    dump = make_dump(count, options.workdir)
    url = _fresh_db(options.workdir / f"rss-{count}.sqlite3")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")}
    env.update(
        FEEDS_DATABASE_URL=url, FEEDS_FOLLOW="false", FEEDS_MAX_DUMP_BYTES=str(_max_bytes(dump))
    )
    run = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, str(dump)],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    if run.returncode != 0:
        raise RuntimeError(f"feeds ingest of {dump}: {run.stderr[-2000:]}")
    return json.loads(run.stderr.strip().splitlines()[-1])


def bench_ingest_memory(sizes: Sequence[int], options: Options) -> dict[str, Any]:
    """Peak RSS of `feeds ingest` at each size, and its ratio to the smallest's."""
    found = {}
    for count in sizes:
        options.log(f"ingest memory: feeds ingest of {count} items")
        found[str(count)] = ingest_peak_rss(count, options)
    smallest = found[str(sizes[0])]["self_mb"]
    for values in found.values():
        values["ratio_to_smallest"] = _ratio(values["self_mb"], smallest)
    return {"sizes": list(sizes), "peak_rss": found}


def _raw_rows(records: Sequence[Any], source: str) -> tuple[list[dict], list[dict]]:
    """The item and topic rows of the records as the store writes them, by column name."""
    items, topics = [], []
    for index, r in enumerate(records, start=1):
        published = str(r.published.replace(tzinfo=None) - r.published.utcoffset())
        items.append(
            {
                "id": index, "key": r.key, "uid": item_uid(r.key), "kind": r.kind,
                "govkz_id": r.govkz_id, "agency": r.agency, "link": r.link,
                "link_lang": r.link_lang, "other_sources": "\n".join(r.other_sources),
                "sections": r.section or "", "title": r.title, "body": r.body,
                "day": r.day.isoformat(), "published": published, "updated": published,
                "lang": r.lang, "content_hash": r.content_hash, "position": r.position,
                "sort_key": r.sort_key, "first_source": source, "first_line": r.line,
                "release": r.release, "shown": 1, "origins": "dump",
            }
        )  # fmt: skip
        if r.section:
            topic = section_slug(r.section)
            topics.append(
                {
                    "topic": topic,
                    "item_id": index,
                    "sort_key": r.sort_key,
                    "lang": r.lang,
                    "shown": 1,
                }
            )
    return items, topics


def _insert_all(connection: sqlite3.Connection, table: Table, rows: list[dict]) -> None:
    """Every column of the schema's table, so that the baseline cannot drift from it (a new
    column the rows above do not fill is a KeyError naming it)."""
    columns = [column.name for column in table.columns]
    marks = ", ".join("?" * len(columns))
    values = [tuple(row[name] for name in columns) for row in rows]
    connection.executemany(
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", values
    )


def _raw_sqlite_insert(
    records: Sequence[Any], path: Path, source: str, *, with_index: bool = False
) -> float:
    """Seconds for sqlite3's executemany of the same item rows (and one topic row each, the
    section) into a new store of the same schema: the floor of what storing them costs;
    `with_index`: and their search index rows (terms made before the clock starts)."""
    url = _fresh_db(path)
    Store(url).close()  # the schema and indexes, by the project's migrations
    item_rows, topic_rows = _raw_rows(records, source)
    terms = [
        (row["id"], release_terms(row["title"], row["body"], row["lang"])) for row in item_rows
    ]
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        start = time.perf_counter()
        with connection:
            _insert_all(connection, schema.items, item_rows)
            _insert_all(connection, schema.item_topics, topic_rows)
            if with_index:
                insert = "INSERT INTO search_index (rowid, terms) VALUES (?, ?)"
                connection.executemany(insert, terms)
        took = time.perf_counter() - start
    finally:
        connection.close()
    return took


TEXT_WORK_ITEMS = 20_000  # items of a dump the text-work baseline reads (its rate is flat)


def _text_work_rate(dump: Path, settings: Settings) -> float:
    """Items/s of the work on the text that the pool's workers do (`parsepool.parse_items`:
    parsing, records, classifying, search terms), in one process, without the store or
    pickling, over the dump's first TEXT_WORK_ITEMS segments (cut before the clock starts)."""
    rules = load_topics(settings.topics_file)
    with dump.open("rb") as handle:
        parts = segments(lines_of(iter(lambda: handle.read(1 << 20), b"")))
        section, _ = parse_head(next(parts), str(dump))
        tasks = [(segment, True) for segment in islice(parts, TEXT_WORK_ITEMS)]
    parsed, took = _timed(lambda: parse_items(tasks, str(dump), section, rules))
    return len(parsed) / took


# -- 1-3. throughput ------------------------------------------------------------------------


def _write_bare_manifest(feed: Server, paths: Sequence[str], folder: Path) -> dict[str, Any]:
    """Fetch each path from the real app (gzip, as feed readers ask) and write the bytes and
    a manifest for the bare app; returns {path: {etag, bytes, ...}}."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest, seen = {}, {}
    for index, path in enumerate(paths):
        status, headers, body = probe(feed.base + path, GZIP)
        if status != 200 or headers.get("content-encoding") != "gzip":
            raise RuntimeError(f"{path}: {status} {headers}")
        file = folder / f"answer-{index}.bin"
        file.write_bytes(body)
        manifest[path] = {
            "file": str(file),
            "media_type": headers["content-type"].split(";")[0],
            "content_encoding": "gzip",
        }
        seen[path] = {
            "etag": headers["etag"],
            "gzip_bytes": len(body),
            "bytes": len(gzip.decompress(body)),
            "sha256": hashlib.sha256(gzip.decompress(body)).hexdigest(),
        }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return seen


def _entries(body: bytes) -> int:
    root = ElementTree.fromstring(body)
    return len(root.findall("{http://www.w3.org/2005/Atom}entry"))


def bench_http(database_url: str, options: Options) -> dict[str, Any]:
    """Figures 1-3: the real app's rps for /all.atom and /agencies/<slug>.atom (200 and
    304) against the bare app's 200 of the same bytes and the naive app's 200."""
    paths = ["/all.atom", f"/agencies/{options.agency}.atom"]
    env = feeds_env(database_url)
    folder = options.workdir / "bare"
    with gunicorns(Spec("feeds", "wsgi:app", env, "/healthz"), logs=options.workdir / "logs") as (
        feed,
    ):
        seen = _write_bare_manifest(feed, paths, folder)
        bare_env = {**env, "BENCH_BARE_MANIFEST": str(folder / "manifest.json")}
        with gunicorns(
            Spec("bare", "bench.bare_app:app", bare_env, paths[0]),
            Spec("naive", "bench.naive_app:app", env, paths[0]),
            logs=options.workdir / "logs",
        ) as (bare, naive):
            checks = {}
            for path in paths:
                _, _, bare_body = probe(bare.base + path, GZIP)
                _, _, naive_body = probe(naive.base + path, GZIP)
                plain = gzip.decompress(naive_body)
                checks[path] = {
                    "bare_same_bytes": hashlib.sha256(gzip.decompress(bare_body)).hexdigest()
                    == seen[path]["sha256"],
                    "naive_same_bytes": hashlib.sha256(plain).hexdigest() == seen[path]["sha256"],
                    "entries": _entries(plain),
                }
            targets: dict[str, tuple[Server, str, dict[str, str], int]] = {}
            for path in paths:
                name = "all" if path == "/all.atom" else "agency"
                conditional = {**GZIP, "If-None-Match": seen[path]["etag"]}
                targets[f"{name}.bare"] = (bare, path, GZIP, 200)
                targets[f"{name}.feeds"] = (feed, path, GZIP, 200)
                targets[f"{name}.feeds_304"] = (feed, path, conditional, 304)
                targets[f"{name}.naive"] = (naive, path, GZIP, 200)
            runs = _rounds(targets, options)
    return _http_figures(runs, checks, seen, options)


def _rounds(
    targets: dict[str, tuple[Server, str, dict[str, str], int]], options: Options
) -> dict[str, list[LoadResult]]:
    """Each target once per round, rounds interleaved (drift hits all alike); a short
    warm-up first (every worker renders and caches its pages). Each result also gets the
    workers' CPU time per request (`cpu_us`): on a shared machine a steadier measure of
    cost than requests/second, which the load generator and other processes also sway."""
    for server, path, headers, expect in targets.values():
        run_load(
            server.base + path,
            seconds=min(1.0, options.seconds),
            connections=options.connections,
            headers=headers,
            expect=expect,
            tool=options.tool,
        )
    runs: dict[str, list[LoadResult]] = {name: [] for name in targets}
    for round_ in range(options.rounds):
        for name, (server, path, headers, expect) in targets.items():
            cpu_before = server.cpu_seconds()
            result = run_load(
                server.base + path,
                seconds=options.seconds,
                connections=options.connections,
                headers=headers,
                expect=expect,
                tool=options.tool,
            )
            if result.errors:
                raise RuntimeError(f"{name}: {result.errors} errors: {result}")
            result.cpu_us = (server.cpu_seconds() - cpu_before) / max(1, result.requests) * 1e6
            runs[name].append(result)
            options.log(
                f"http round {round_ + 1}: {name:18} {result.rps:9.1f} req/s "
                f"{result.cpu_us:8.1f} us CPU/request"
            )
    return runs


def _http_figures(
    runs: dict[str, list[LoadResult]], checks: dict, seen: dict, options: Options
) -> dict[str, Any]:
    """Ratios of each round's runs (neighbours in time share the machine's noise), and
    their median: the headline figures."""
    rps = {name: _median([r.rps for r in results]) for name, results in runs.items()}
    figures: dict[str, Any] = {
        "agency": options.agency,
        "tool": next(iter(runs.values()))[0].tool,
        "connections": options.connections,
        "seconds_per_run": options.seconds,
        "rounds": options.rounds,
        "rps": rps,
        "rps_runs": {name: [r.rps for r in results] for name, results in runs.items()},
        "checks": checks,
        "responses": {p: {k: v for k, v in s.items() if k != "sha256"} for p, s in seen.items()},
    }

    def paired(a: str, b: str) -> list[float]:
        return [_ratio(x.rps, y.rps) for x, y in zip(runs[a], runs[b], strict=True)]

    figures["cpu_us_per_request"] = {
        name: _median([r.cpu_us for r in results]) for name, results in runs.items()
    }

    for name in ("all", "agency"):
        for figure, a, b in (
            ("vs_bare", "feeds", "bare"),
            ("304_vs_bare_200", "feeds_304", "bare"),
            ("vs_naive", "feeds", "naive"),
        ):
            ratios = paired(f"{name}.{a}", f"{name}.{b}")
            figures[f"{name}_{figure}"] = _median(ratios)
            figures[f"{name}_{figure}_runs"] = ratios
            # The same comparison by cost: the baseline's CPU per request over this one's.
            cpu = figures["cpu_us_per_request"]
            figures[f"{name}_{figure}_by_cpu"] = _ratio(cpu[f"{name}.{b}"], cpu[f"{name}.{a}"])
    return figures


# -- 4. latency ---------------------------------------------------------------------------


def bench_latency(stores: dict[int, str], options: Options) -> dict[str, Any]:
    """Figure 4: served feed latency (one client, warm cache) for stores of each size, with
    the bare app serving the same bytes as a reference for the noise of the machine; all
    servers up together, measured in many short interleaved rounds (medians kept); plus
    in-process figures of what grows with the store."""
    sizes = sorted(stores)
    paths = ["/all.atom", f"/agencies/{options.agency}.atom"]
    specs = [Spec(f"feeds-{n}", "wsgi:app", feeds_env(stores[n]), "/healthz") for n in sizes]
    rounds, seconds = 2 * options.rounds, options.seconds / 2
    names = [*map(str, sizes), "bare"]
    runs: dict[tuple[str, str], list[LoadResult]] = {(n, p): [] for n in names for p in paths}
    logs = options.workdir / "logs"
    with gunicorns(*specs, logs=logs) as servers:
        folder = options.workdir / "bare-latency"
        _write_bare_manifest(servers[-1], paths, folder)
        bare_env = {
            **feeds_env(stores[sizes[-1]]),
            "BENCH_BARE_MANIFEST": str(folder / "manifest.json"),
        }
        with gunicorns(
            Spec("bare-latency", "bench.bare_app:app", bare_env, paths[0]), logs=logs
        ) as (bare,):
            targets = dict(zip(names, [*servers, bare], strict=True))
            for server in targets.values():  # warm: every worker caches each page
                for path in paths:
                    run_load(
                        server.base + path,
                        seconds=min(1.0, options.seconds),
                        connections=2 * WORKERS,
                        headers=GZIP,
                        tool=options.tool,
                    )
            for round_ in range(rounds):
                for name, server in targets.items():
                    for path in paths:
                        result = run_load(
                            server.base + path,
                            seconds=seconds,
                            connections=1,
                            headers=GZIP,
                            tool=options.tool,
                        )
                        if result.errors:
                            raise RuntimeError(f"{name} {path}: {result.errors} errors: {result}")
                        runs[(name, path)].append(result)
                        options.log(
                            f"latency round {round_ + 1}: {name:>7} {path:22} "
                            f"p50 {result.p50_ms:.2f} ms p99 {result.p99_ms:.2f} ms"
                        )
    served: dict[str, Any] = {}
    smallest = str(sizes[0])
    for path in paths:
        per_size = {}
        for name in names:
            results = runs[(name, path)]
            per_size[name] = {
                "p50_ms": _median([r.p50_ms for r in results]),
                "p99_ms": _median([r.p99_ms for r in results]),
                "rps": _median([r.rps for r in results]),
                "p99_ms_runs": [r.p99_ms for r in results],
            }
        for name in names:
            for stat in ("p50", "p99"):
                per_size[name][f"{stat}_ratio_to_smallest"] = _ratio(
                    per_size[name][f"{stat}_ms"], per_size[smallest][f"{stat}_ms"]
                )
        served[path] = per_size
    cold = {str(n): _cold(stores[n], options) for n in sizes}
    for step in cold[smallest]:
        for n in sizes:
            cold[str(n)][step]["ratio_to_smallest"] = _ratio(
                cold[str(n)][step]["median_ms"], cold[smallest][step]["median_ms"]
            )
    return {
        "sizes": sizes,
        "tool": next(iter(runs.values()))[0].tool,
        "rounds": rounds,
        "seconds_per_run": seconds,
        "served": served,
        "in_process": cold,
    }


def _cold(database_url: str, options: Options) -> dict[str, dict[str, float]]:
    """In process, no HTTP: what grows with the store. The page build of each feed from the
    store (rows query, entries, feedgen, gzip: what a content change costs once per feed),
    its rows query alone, a new worker's first feed request, and the pages built on every
    request (OPML, index)."""
    settings = bench_settings(database_url)
    app = create_app(settings)
    service = app.extensions["feeds"]
    topic = max(service.store.topic_counts(), key=lambda t: t.items).name
    feeds = {
        "/all.atom": FeedRef("all"),
        f"/agencies/{options.agency}.atom": FeedRef("agency", options.agency),
        f"/topics/{topic}.atom": FeedRef("topic", topic),
        "/all.atom?lang=ru": FeedRef("all"),
    }
    times: dict[str, list[float]] = {}

    def timed(name: str, action: Callable[[], Any]) -> None:
        start = time.perf_counter()
        action()
        times.setdefault(name, []).append((time.perf_counter() - start) * 1000)

    def get(client: Any, path: str) -> None:
        response = client.get(path, headers=GZIP)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code}")

    service.summary()  # what the scheduler leaves in the store after an ingest
    for _ in range(options.cold_repeats):
        for path, ref in feeds.items():
            query = PageQuery(lang="ru") if "lang=ru" in path else PageQuery()
            timed(f"{path} rows query", lambda ref=ref, query=query: service.rows(ref, query))
            timed(
                f"{path} page build",
                lambda ref=ref, query=query: gzip.compress(
                    build_feed(service, ref, "atom", SITE_URL, query), 6, mtime=0
                ),
            )
        # The aggregates behind / and the OPML: scanned once per change (by the scheduler),
        # then read back from the store by every worker.
        timed("aggregates: computed (once per change)", service.store.summary)
        timed("aggregates: shared copy read by a worker", lambda: _read_summary(service))
        fresh = create_app(settings)  # a new worker: empty memory cache, feed list unknown
        client = fresh.test_client()
        timed("new worker: first /all.atom", lambda client=client: get(client, "/all.atom"))
        timed(
            f"new worker: first /agencies/{options.agency}.atom",
            lambda client=client: get(client, f"/agencies/{options.agency}.atom"),
        )
        timed("/feeds.opml (every request)", lambda client=client: get(client, "/feeds.opml"))
        timed("/ index (every request)", lambda client=client: get(client, "/"))
        fresh.extensions["feeds"].store.close()
    service.store.close()
    return {
        name: {"median_ms": _median(values), "max_ms": max(values)}
        for name, values in times.items()
    }


def _read_summary(service: Any) -> None:
    row = service.store.get_rendered(
        summary_key(service.fingerprint), service.store.content_version()
    )
    if row is None:
        raise RuntimeError("no shared summary for the current content version")
    Summary.from_json(row["body"])


# -- 6. memory ----------------------------------------------------------------------------


def _serve_all(server: Server, paths: Sequence[str]) -> None:
    """Request every path once, two clients at a time so both workers get work."""
    queue = list(paths)
    failures: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                if not queue or failures:
                    return
                path = queue.pop()
            try:
                status: object = probe(server.base + path, GZIP)[0]
            except OSError as exc:
                status = repr(exc)
            if status != 200:
                with lock:
                    failures.append(f"{path}: {status}")

    threads = [threading.Thread(target=client) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{server.name}: {failures[:5]}")


def _serve_everywhere(server: Server, paths: Sequence[str], track: Path, passes: int = 12) -> int:
    """Request every path until each worker has served each one (the tracking hook says
    which worker served what); the number of passes it took."""
    for done in range(1, passes + 1):
        _serve_all(server, paths)
        served = _served(track, server)
        if len(served) >= WORKERS and all(set(paths) <= s for s in served.values()):
            return done
    return passes


def _served(track: Path, server: Server) -> dict[int, set[str]]:
    result = {}
    for pid in server.worker_pids():
        file = track / f"{pid}.paths"
        result[pid] = set(file.read_text().split()) if file.exists() else set()
    return result


def bench_memory(database_url: str, options: Options) -> dict[str, Any]:
    """Figure 6: peak RSS of the feeds workers after each served every feed of /feeds.opml
    (Atom), then every format of each; the bare app's workers after serving their pages."""
    logs = options.workdir / "logs"
    track = options.workdir / "track-feeds"
    track.mkdir(parents=True, exist_ok=True)
    for old in track.iterdir():
        old.unlink()
    env = {**feeds_env(database_url), "BENCH_TRACK_DIR": str(track)}
    with gunicorns(Spec("feeds-mem", "wsgi:app", env, "/healthz", TRACK_CONFIG), logs=logs) as (
        feed,
    ):
        at_start = feed.memory()
        status, _, body = probe(feed.base + "/feeds.opml")
        if status != 200:
            raise RuntimeError(f"/feeds.opml: {status}")
        urls = [o.get("xmlUrl") for o in ElementTree.fromstring(body).iter("outline")]
        paths = [urlsplit(url).path for url in urls if url]
        atom_passes = _serve_everywhere(feed, paths, track)
        after_atom = feed.memory()
        every_format = [p.removesuffix(".atom") + f".{fmt}" for p in paths for fmt in FORMATS]
        format_passes = _serve_everywhere(feed, every_format, track)
        after_all = feed.memory()
    bare = _bare_memory(database_url, options)
    peak_atom = max(m["peak_rss_mb"] for m in after_atom.values())
    peak_all = max(m["peak_rss_mb"] for m in after_all.values())
    bare_peak = max(m["peak_rss_mb"] for m in bare["workers"].values())
    return {
        "feeds": len(paths),
        "agency_feeds": sum(p.startswith("/agencies/") for p in paths),
        "topic_feeds": sum(p.startswith("/topics/") for p in paths),
        "passes": {"atom": atom_passes, "every_format": format_passes},
        "workers_at_start": _by_pid(at_start),
        "workers_after_atom": _by_pid(after_atom),
        "workers_after_every_format": _by_pid(after_all),
        "peak_rss_mb": peak_atom,
        "peak_rss_every_format_mb": peak_all,
        "bare_peak_rss_mb": bare_peak,
        "bare": bare,
        "ratio_to_bare": _ratio(peak_atom, bare_peak),
        "every_format_ratio_to_bare": _ratio(peak_all, bare_peak),
    }


def _by_pid(memory: dict[int, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {str(pid): values for pid, values in memory.items()}


def _bare_memory(database_url: str, options: Options) -> dict[str, Any]:
    """The bare app's workers after each served its pages (the all and agency feeds)."""
    folder = options.workdir / "bare-mem"
    track = options.workdir / "track-bare"
    track.mkdir(parents=True, exist_ok=True)
    for old in track.iterdir():
        old.unlink()
    logs = options.workdir / "logs"
    paths = ["/all.atom", f"/agencies/{options.agency}.atom"]
    env = feeds_env(database_url)
    with gunicorns(Spec("feeds-for-bare", "wsgi:app", env, "/healthz"), logs=logs) as (feed,):
        _write_bare_manifest(feed, paths, folder)
    bare_env = {
        **env,
        "BENCH_BARE_MANIFEST": str(folder / "manifest.json"),
        "BENCH_TRACK_DIR": str(track),
    }
    spec = Spec("bare-mem", "bench.bare_app:app", bare_env, paths[0], TRACK_CONFIG)
    with gunicorns(spec, logs=logs) as (bare,):
        _serve_everywhere(bare, paths * 20, track)
        return {"workers": _by_pid(bare.memory())}
