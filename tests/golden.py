"""Everything an ingest leaves, as text: the store's rows (items, topics, search terms, the
segments remembered, the sources) and every feed the web serves of them (issue 31). Written
once by the code before the ingest was made faster, into tests/golden/; compared by
tests/runs/test_golden_outputs.py after.

    python -m tests.golden        # writes tests/golden/*.json from the code as it is now

Nothing here depends on when it runs: the sources' ingest times and the segments'
fingerprints (salted with a digest of the parser's code, `ingest.parse_salt`) are left out.
"""

import hashlib
import json
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench.synthetic import write_synthetic
from feeds.ingest import Ingester
from feeds.settings import load_settings
from feeds.store import IngestCounts, Store
from feeds.web.app import create_app

PROJECT = Path(__file__).resolve().parent.parent
GOLDEN = PROJECT / "tests" / "golden"
SAMPLE_DUMPS = tuple(sorted((PROJECT / "dumps").glob("*.txt")))
# Enough items (about 5 MB) that the ingest parses them in its process pool
# (ingest.POOL_MIN_BYTES), as a first ingest of a real dump does.
SYNTHETIC_ITEMS = 2_400
FORMATS = ("atom", "rss", "json")

_QUERIES = {
    "items": "SELECT * FROM items ORDER BY id",
    "item_topics": "SELECT topic, item_id, sort_key, lang, shown FROM item_topics "
    "ORDER BY item_id, topic",
    "search_index": "SELECT rowid, terms FROM search_index ORDER BY rowid",
    "source_items": "SELECT source, key, problems FROM source_items ORDER BY source, key, problems",
    "sources": "SELECT name, content_sha256, etag, last_modified, items_found, problems "
    "FROM sources ORDER BY name",
}


def _rows(db: Path) -> dict[str, list[list]]:
    connection = sqlite3.connect(db)
    try:
        return {
            name: [list(row) for row in connection.execute(query)]
            for name, query in _QUERIES.items()
        }
    finally:
        connection.close()


def _feed_paths(db: Path) -> Iterator[str]:
    """Every feed of the store, at the largest page (`feedservice.MAX_LIMIT`)."""
    connection = sqlite3.connect(db)
    try:
        agencies = [row[0] for row in connection.execute("SELECT DISTINCT agency FROM items")]
        topics = [row[0] for row in connection.execute("SELECT DISTINCT topic FROM item_topics")]
    finally:
        connection.close()
    for fmt in FORMATS:
        yield f"/all.{fmt}?limit=500"
    for agency in sorted(filter(None, agencies)):
        yield f"/agencies/{agency}.atom?limit=500"
    for topic in sorted(topics):
        yield f"/topics/{topic}.atom?limit=500"
    for query in ("economy", "налог", "министрлігі", "declaration investment"):
        yield f"/search.atom?q={query}&limit=500"


def _counts(counts: IngestCounts) -> list[int]:
    return [counts.found, counts.new, counts.updated, counts.unchanged]


def outputs(dumps: tuple[Path, ...], folder: Path, workers: int) -> dict[str, str]:
    """{name: text} of a new SQLite store in `folder` after one ingest of `dumps`."""
    db = folder / "golden.sqlite3"
    settings = load_settings(
        env={},
        database_url=f"sqlite:///{db}",
        dumps=tuple(map(str, dumps)),
        ingest_workers=workers,
        follow=False,
        site_url="http://feeds.test",
    )
    app = create_app(settings)
    store: Store = app.extensions["feeds"].store
    reports = Ingester(store, settings).run(settings.dumps)
    for report in reports:
        if report.error:
            raise RuntimeError(f"golden ingest of {report.source}: {report.error}")
    found = {
        f"table {name}": "\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
        for name, rows in _rows(db).items()
    }
    found["reports"] = "\n".join(
        json.dumps([report.source, _counts(report.counts), [str(p) for p in report.problems]])
        for report in reports
    )
    client = app.test_client()
    for path in _feed_paths(db):
        response = client.get(path, base_url="http://feeds.test")
        if response.status_code != 200:
            raise RuntimeError(f"golden {path}: {response.status_code} {response.text[:200]}")
        found[path] = response.get_data(as_text=True)
    return found


def _relative(dumps: tuple[Path, ...], text: str) -> str:
    """Paths of the dumps without the folder they were in (a checkout's, a temporary one)."""
    for dump in dumps:
        text = text.replace(str(dump.parent) + "/", "")
    return text


def sample_outputs(folder: Path) -> dict[str, str]:
    """The bundled sample dumps, in the ingest's own process (too small for the pool)."""
    return {k: _relative(SAMPLE_DUMPS, v) for k, v in outputs(SAMPLE_DUMPS, folder, 1).items()}


def synthetic_digests(folder: Path) -> dict[str, str]:
    """A synthetic dump of SYNTHETIC_ITEMS items, parsed by two worker processes: a sha256
    of each output (the texts would be 30 MB)."""
    dump = folder / "synthetic.txt"
    write_synthetic(SYNTHETIC_ITEMS, dump)
    found = outputs((dump,), folder, 2)
    return {
        name: hashlib.sha256(_relative((dump,), text).encode()).hexdigest()
        for name, text in found.items()
    }


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as temp:
        samples = sample_outputs(Path(temp))
    with tempfile.TemporaryDirectory() as temp:
        synthetic = synthetic_digests(Path(temp))
    for name, value in (("samples", samples), ("synthetic", synthetic)):
        path = GOLDEN / f"{name}.json"
        path.write_text(json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
        print(f"{path}: {len(value)} outputs", file=sys.stderr)


if __name__ == "__main__":
    main()
