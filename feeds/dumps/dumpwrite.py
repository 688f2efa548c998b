"""Pure writer of dumps in the scrapers' format: the inverse of `feeds.dumps.dumpparse`.

Used by round-trip tests and by the generator of large synthetic dumps for benchmarks.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from feeds.text.textclean import REFERENCE


@dataclass(frozen=True)
class DumpItem:
    title: str
    day: date
    body: str = ""  # lines joined by "\n"
    link: str | None = None
    other_sources: tuple[str, ...] = ()


def _citations(item: DumpItem) -> str:
    urls = [*item.other_sources, *([item.link] if item.link else [])]
    # Scrapers write "Source: <other>" then "Source : <gov.kz>", glued without spaces.
    return "".join(f"Source : {url}" for url in urls)


def write_item(item: DumpItem) -> str:
    lines = [f"{item.title} {item.day.strftime('%d.%m.%Y')}"]
    body = item.body.split("\n") if item.body else []
    citations = _citations(item)
    if citations and body:
        body[-1] += citations
    elif citations:
        body = [citations]
    return "\n".join(_escape_references(line) for line in [*lines, *body])


def _escape_references(line: str) -> str:
    """Text the parser would decode ("&amp;" meant literally) written as a reference."""
    return line.replace("&", "&amp;") if REFERENCE.search(line) else line


def write_dump(section: str, items: Iterable[DumpItem]) -> str:
    """A dump's text: the section line, then each item; no newline at the end, like the samples."""
    return "\n".join([section, *(write_item(item) for item in items)])
