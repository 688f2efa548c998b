"""Search benchmarks (issue 17), in process (Flask's test client, no HTTP: what grows with
the store is the query, not the server):

7  search feed latency: a new query every request (rendered on demand: index lookup, rows,
   feedgen, gzip) on stores of each size, as the ratio of the largest to the smallest; the
   same search asked again (cached) against a cached variant of the same feed
   (`/all.atom?limit=49`, the path any feed with a query string takes). With
   BENCH_POSTGRES_URL (a server URL; databases feeds_bench_<size> are made there and kept),
   the uncached figure on PostgreSQL stores of the same sizes too.
8  ingest throughput with the index kept against the same ingest with the index write
   skipped, in the same run, alternated (today's ingest is the latter).
"""

import os
import random
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import feeds.dumps.parsepool as parsepool
import feeds.store.items as store_items
from bench.benchmarks import GZIP, Options, _fresh_db, bench_settings, make_dump
from bench.noterms import parse_without_terms
from bench.synthetic import sample_records
from feeds.ingest import Ingester
from feeds.publish.feedmodel import FeedRef
from feeds.publish.feedservice import parse_query
from feeds.store import Store
from feeds.text.search_terms import words
from feeds.web.app import create_app

QUERIES = 200  # distinct queries per store size
REPEATS = 200  # requests of a cached page
INGEST_ITEMS = 20_000
INGEST_ROUNDS = 3


def search_queries(count: int = QUERIES, seed: int = 17) -> list[str]:
    """Distinct queries as people type them: half single words drawn by their frequency in the
    samples (common words are asked more), half two words of one release."""
    _, records = sample_records()
    texts = [[w for w in words(f"{r.title} {r.body}") if len(w) > 3] for r in records]
    frequency = Counter(w for text in texts for w in text)
    vocabulary, weights = zip(*frequency.items(), strict=True)
    rng, found = random.Random(seed), dict[str, None]()
    while len(found) < count // 2:
        found[rng.choices(vocabulary, weights)[0]] = None
    while len(found) < count:
        text = rng.choice([t for t in texts if len(t) > 1])
        found[" ".join(rng.sample(text, 2))] = None
    return list(found)


def _ms(client: Any, path: str) -> float:
    start = time.perf_counter()
    answer = client.get(path, headers=GZIP)
    took = (time.perf_counter() - start) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"{path}: {answer.status_code}")
    return took


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def _latency_of(database_url: str, queries: list[str], repeats: int = REPEATS) -> dict[str, Any]:
    app = create_app(bench_settings(database_url))
    client = app.test_client()
    service = app.extensions["feeds"]
    service.summary()  # what the scheduler leaves in the store after an ingest
    paths = [f"/all.atom?q={quote(q)}" for q in queries]
    _ms(client, "/all.atom")
    uncached = [_ms(client, path) for path in paths]
    cached_search = paths[0]
    variant = "/all.atom?limit=49"
    for path in (cached_search, variant):
        _ms(client, path)
    cached, feed, canonical = [], [], []
    for _ in range(repeats):  # interleaved: drift hits all alike
        cached.append(_ms(client, cached_search))
        feed.append(_ms(client, variant))
        canonical.append(_ms(client, "/all.atom"))
    matched = [len(service.rows(FeedRef("all"), parse_query({"q": q})).rows) for q in queries[:20]]
    service.store.close()
    return {
        "uncached": _percentiles(uncached),
        "cached": _percentiles(cached),
        "variant_feed": _percentiles(feed),
        "canonical_feed": _percentiles(canonical),
        "entries_of_first_20": matched,
    }


def postgres_store(server_url: str, count: int, options: Options) -> str:
    """A PostgreSQL store of `count` synthetic items (database feeds_bench_<count>, kept)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"feeds_bench_{count}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    store = Store(url)
    try:
        if store.count_items() != count:
            options.log(f"search: PostgreSQL store of {count} items")
            dump = make_dump(count, options.workdir)
            big = max(200_000_000, 2 * dump.stat().st_size)
            Ingester(store, bench_settings(url, dump, max_dump_bytes=big)).run([str(dump)])
    finally:
        store.close()
    return url


def bench_search(
    stores: dict[int, str], options: Options, queries_count: int = QUERIES, repeats: int = REPEATS
) -> dict[str, Any]:
    queries = search_queries(queries_count)
    sizes = sorted(stores)
    per_size = {}
    for n in sizes:
        options.log(f"search: {len(queries)} new queries, then cached, on {n} items")
        per_size[str(n)] = _latency_of(stores[n], queries, repeats)
        options.log(f"search: {n} items: {per_size[str(n)]}")
    small, large = per_size[str(sizes[0])], per_size[str(sizes[-1])]
    postgres: dict[str, Any] = {}
    if server := os.environ.get("BENCH_POSTGRES_URL"):
        for n in sizes:
            postgres[str(n)] = _latency_of(postgres_store(server, n, options), queries, repeats)
            options.log(f"search: PostgreSQL, {n} items: {postgres[str(n)]['uncached']}")
    pg_ratio = (
        postgres[str(sizes[-1])]["uncached"]["p50_ms"]
        / postgres[str(sizes[0])]["uncached"]["p50_ms"]
        if postgres
        else None
    )
    return {
        "postgres_per_size": postgres,
        "postgres_uncached_p50_ratio": pg_ratio,
        "sizes": sizes,
        "queries": len(queries),
        "per_size": per_size,
        "uncached_p50_ratio": large["uncached"]["p50_ms"] / small["uncached"]["p50_ms"],
        "uncached_p99_ratio": large["uncached"]["p99_ms"] / small["uncached"]["p99_ms"],
        "cached_vs_variant_feed": large["cached"]["p50_ms"] / large["variant_feed"]["p50_ms"],
        "cached_vs_canonical_feed": large["cached"]["p50_ms"] / large["canonical_feed"]["p50_ms"],
    }


def _ingest_seconds(dump: Path, workdir: Path, indexed: bool, count: int) -> float:
    """A first ingest of the dump as `feeds ingest` runs it (two parsing processes), with
    the search index or without it: then neither the workers nor the ingest's process make
    search terms (`parsepool.release_terms` in this process, `noterms.parse_without_terms` in
    the workers) and nothing is written to the index."""
    url = _fresh_db(workdir / "search-ingest.sqlite3")
    store = Store(url)
    real = store_items.index_rows, parsepool.release_terms, parsepool._parse_in_worker
    if not indexed:
        store_items.index_rows = lambda *_, **__: None  # type: ignore[assignment]
        parsepool.release_terms = lambda *_: ""  # type: ignore[assignment]
        parsepool._parse_in_worker = parse_without_terms
    try:
        start = time.perf_counter()
        (report,) = Ingester(store, bench_settings(url, dump)).run([str(dump)])
        took = time.perf_counter() - start
    finally:
        store_items.index_rows, parsepool.release_terms, parsepool._parse_in_worker = real
        store.close()
    if report.error or report.counts.new != count:
        raise RuntimeError(f"search ingest: {report}")
    return took


def bench_search_ingest(options: Options, count: int = INGEST_ITEMS) -> dict[str, Any]:
    dump = make_dump(count, options.workdir)
    runs: dict[str, list[float]] = {"with_index": [], "without_index": []}
    for round_ in range(INGEST_ROUNDS):
        for name in ("without_index", "with_index"):
            took = _ingest_seconds(dump, options.workdir, name == "with_index", count)
            runs[name].append(took)
            options.log(f"search ingest round {round_ + 1}: {name} {took:.1f} s")
    rate = {name: count / statistics.median(values) for name, values in runs.items()}
    return {
        "items": count,
        "seconds": runs,
        "items_per_second": rate,
        "ratio": rate["with_index"] / rate["without_index"],
    }
