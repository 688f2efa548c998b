"""Property test of search (issue 17): for random queries made of the samples' own words
(words, phrases of neighbouring words, exclusions, in any case), each store finds exactly what
a plain Python filter of every item finds with the same normalisation, newest first."""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.ingest import Ingester
from feeds.settings import load_settings
from feeds.store import Store
from feeds.text.search_terms import document_tokens, words
from feeds.text.searchquery import matches, parse_search
from tests.conftest import SAMPLE_DUMPS, new_postgres_database
from tests.search_samples import write_search_dump


@contextmanager
def sample_store(kind: str) -> Iterator[Store]:
    with tempfile.TemporaryDirectory() as folder:
        dumps = (*map(str, SAMPLE_DUMPS), str(write_search_dump(Path(folder))))
        if kind == "sqlite":
            url = f"sqlite:///{folder}/feeds.sqlite3"
            yield _filled(url, dumps)
        else:
            with new_postgres_database() as url:
                store = _filled(url, dumps)
                yield store
                store.close()


def _filled(url: str, dumps: tuple[str, ...]) -> Store:
    store = Store(url)
    Ingester(store, load_settings(env={}, database_url=url, dumps=dumps)).run(dumps)
    return store


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def indexed(request: pytest.FixtureRequest) -> Iterator[tuple[Store, list[dict]]]:
    with sample_store(request.param) as store:
        rows = store.item_rows()
        for row in rows:
            row["tokens"] = document_tokens([row["title"], row["body"]], row["lang"])
        yield store, rows


def _texts() -> list[list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        from feeds.ingest import parse_bytes

        paths = [*SAMPLE_DUMPS, write_search_dump(Path(folder))]
        records = [r for p in paths for r in parse_bytes(p.read_bytes(), p.name).records]
    return [words(f"{r.title} {r.body}") for r in records]


TEXTS = _texts()


@st.composite
def queries(draw: st.DrawFn) -> str:
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        text = draw(st.sampled_from(TEXTS))
        start = draw(st.integers(0, len(text) - 1))
        width = draw(st.sampled_from([1, 1, 1, 2, 3]))
        chosen = text[start : start + width]
        term = " ".join(w.upper() if draw(st.booleans()) else w for w in chosen)
        if len(chosen) > 1:
            term = f'"{term}"'
        terms.append(("-" if draw(st.integers(0, 3)) == 0 else "") + term)
    return " ".join(terms)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=queries())
def test_the_store_finds_what_a_plain_filter_finds(
    indexed: tuple[Store, list[dict]], q: str
) -> None:
    store, rows = indexed
    query = parse_search(q)
    assert query is not None
    expected = [
        row["id"]
        for row in sorted(rows, key=lambda r: (r["sort_key"], r["id"]), reverse=True)
        if matches(query, row["tokens"])
    ]
    page = store.feed_rows(limit=500, search=query)
    assert [row.id for row in page.rows] == expected
