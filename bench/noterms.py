"""The pool workers' parse without the search terms, for the bench's ingest without the index
(bench/search_bench.py). A module of its own: a worker imports it by name on its first task,
and importing the bench's modules (Flask, the web app) there cost 0.5 s of the measured run."""

from feeds.dumps import parsepool


def parse_without_terms(
    tasks: list[parsepool.Task], source: str, section: str | None
) -> list[parsepool.Packed]:
    """`parsepool._parse_in_worker`, classifying as it does, making no search terms."""
    parsed = parsepool.parse_items(tasks, source, section, parsepool._rules, with_terms=False)
    return parsepool.pack(parsed)
