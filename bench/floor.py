"""The write floor of issue 31: the least an ingest of a dump can cost on this machine.

A dump's items are split by plain regexes (a title line ending in a date, the body up to the
next one, the body's gov.kz link as the key) and written with raw `sqlite3` `executemany`
into a keyed table plus an FTS5 index of the title and body, in one transaction. None of
the ingest's work is done: no cleaning, no language, no topics, no stems, no problems. A
first ingest is measured as a ratio to this, in the same run (`bench.benchmarks`).

    python -m bench.floor DUMP       # prints items/s
"""

import re
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

# The end of a title line: a space, then DD.MM.YYYY (the title is the line up to it; a
# pattern starting at the line's start, `^(.+) ...$`, backtracks through every body line).
_TITLE_END = re.compile(rb" (\d\d)\.(\d\d)\.(\d{4})\r?\n")
_LINK = re.compile(rb"https://www\.gov\.kz/\S+")

_SCHEMA = (
    "CREATE TABLE items (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, title TEXT NOT "
    "NULL, body TEXT NOT NULL, day TEXT NOT NULL)",
    # As the store's index (feeds.store.search): one column, the ascii tokenizer, no sizes.
    "CREATE VIRTUAL TABLE items_index USING fts5(terms, tokenize=ascii, columnsize=0)",
)

Row = tuple[int, str, str, str, str]


def split_items(data: bytes) -> Iterator[Row]:
    """(id, key, title, body, day) of each item: a title line and the lines up to the next."""
    ends = list(_TITLE_END.finditer(data))
    starts = [data.rfind(b"\n", 0, end.start()) + 1 for end in ends]
    for number, end in enumerate(ends, start=1):
        following = starts[number] if number < len(ends) else len(data)
        body = data[end.end() : following].strip()
        day = b"-".join((end[3], end[2], end[1])).decode()
        link = _LINK.search(body)
        heading = data[starts[number - 1] : end.start()].decode()
        key = link[0].decode() if link else f"{heading}#{day}"
        yield number, key, heading, body.decode(), day


def floor_seconds(dump: Path, db: Path) -> tuple[int, float]:
    """(items, seconds) of the floor's whole run on `dump` into a new store at `db`: from
    reading the file to the commit; the empty schema is made before the clock starts."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    connection = sqlite3.connect(db)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            connection.execute(statement)
        connection.commit()
        start = time.perf_counter()
        rows = list(split_items(dump.read_bytes()))
        with connection:  # one transaction
            # OR IGNORE: a key written twice keeps its first item, as the ingest does.
            connection.executemany("INSERT OR IGNORE INTO items VALUES (?, ?, ?, ?, ?)", rows)
            connection.executemany(
                "INSERT INTO items_index (rowid, terms) VALUES (?, ?)",
                [(number, f"{title} {body}") for number, _, title, body, _ in rows],
            )
        took = time.perf_counter() - start
    finally:
        connection.close()
    return len(rows), took


def main(argv: list[str]) -> int:
    dump = Path(argv[0])
    count, took = floor_seconds(dump, dump.with_suffix(".floor.sqlite3"))
    print(f"{dump}: {count} items in {took:.2f} s, {count / took:,.0f} items/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
