"""Large synthetic dumps in the scrapers' real format, made from the bundled sample dumps.

Every synthetic item copies the title, body, agency, link kind and other sources of a
sample item (cycling through them), gets a new gov.kz id (so it is a new item) and a date
spread backwards from the samples' newest date, newest first as scrapers write them.
Sample items without a gov.kz link get one, under an agency taken from the samples: a
link-less copy would be identified by title and date and so collide with its siblings.

    python -m bench.synthetic --items 200000 --out /tmp/x.txt

Importable: `synthetic_items(n)`, `synthetic_dump(n)`, `write_synthetic(n, path)`.
"""

import argparse
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from feeds.dumps.dumpwrite import DumpItem, write_dump, write_item
from feeds.dumps.records import ItemRecord
from feeds.ingest import parse_bytes

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE_DUMPS = tuple(sorted((PROJECT / "dumps").glob("*.txt")))
FIRST_ID = 50_000_000  # far above the samples' ids (about 1.1 million)
PER_DAY = 100  # synthetic items per day: 200k items span about five and a half years
LINK = "https://www.gov.kz/memleket/entities/{agency}/{kind}/details/{id}?lang={lang}"


@dataclass(frozen=True)
class Template:
    title: str
    body: str
    agency: str
    kind: str
    lang: str
    other_sources: tuple[str, ...]


def sample_records(paths: Sequence[Path] = SAMPLE_DUMPS) -> tuple[str, list[ItemRecord]]:
    """(section of the first dump, every parsed record of the sample dumps)."""
    section, records = "", []
    for path in paths:
        parsed = parse_bytes(path.read_bytes(), path.name)
        section = section or parsed.section or "News"
        records.extend(parsed.records)
    if not records:
        raise ValueError(f"no items in the sample dumps {[str(p) for p in paths]}")
    return section, records


def templates(records: Sequence[ItemRecord]) -> list[Template]:
    agencies = sorted({r.agency for r in records if r.agency})
    made = []
    for index, record in enumerate(records):
        made.append(
            Template(
                title=record.title,
                body=record.body,
                agency=record.agency or agencies[index % len(agencies)],
                kind=record.kind or "press/news",
                lang=record.link_lang or "en",
                other_sources=record.other_sources,
            )
        )
    return made


def newest_day(records: Sequence[ItemRecord]) -> date:
    return max(r.day for r in records)


def synthetic_items(
    count: int,
    *,
    first_id: int = FIRST_ID,
    per_day: int = PER_DAY,
    samples: Sequence[Path] = SAMPLE_DUMPS,
) -> Iterator[DumpItem]:
    """`count` new items, newest first, dated backwards from the samples' newest day."""
    _, records = sample_records(samples)
    made = templates(records)
    start = newest_day(records)
    for n in range(count):
        template = made[n % len(made)]
        link = LINK.format(
            agency=template.agency, kind=template.kind, id=first_id + n, lang=template.lang
        )
        yield DumpItem(
            title=template.title,
            day=start - timedelta(days=n // per_day),
            body=template.body,
            link=link,
            other_sources=template.other_sources,
        )


def synthetic_dump(count: int, *, section: str | None = None, **options: object) -> str:
    """The text of a dump of `count` synthetic items (small counts: builds one string)."""
    samples = options.get("samples", SAMPLE_DUMPS)
    section = section or sample_records(samples)[0]  # type: ignore[arg-type]
    return write_dump(section, synthetic_items(count, **options))  # type: ignore[arg-type]


def write_synthetic(
    count: int, out: str | Path, *, section: str | None = None, **options: object
) -> Path:
    """Write a dump of `count` synthetic items to `out`, streaming; returns the path.

    The same text as `synthetic_dump` (section line, items, no newline at the end)."""
    samples = options.get("samples", SAMPLE_DUMPS)
    section = section or sample_records(samples)[0]  # type: ignore[arg-type]
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(section)
        for item in synthetic_items(count, **options):  # type: ignore[arg-type]
            handle.write("\n")
            handle.write(write_item(item))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.synthetic", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--items", type=int, required=True, help="how many items")
    parser.add_argument("--out", required=True, help="file to write")
    parser.add_argument("--section", help="the dump's section line (default: the samples')")
    parser.add_argument("--per-day", type=int, default=PER_DAY, help="items per day")
    parser.add_argument("--first-id", type=int, default=FIRST_ID, help="first gov.kz id")
    args = parser.parse_args(argv)
    if args.items < 0 or args.per_day < 1:
        parser.error("--items must be >= 0 and --per-day >= 1")
    path = write_synthetic(
        args.items, args.out, section=args.section, per_day=args.per_day, first_id=args.first_id
    )
    print(f"{path}: {args.items} items, {path.stat().st_size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
