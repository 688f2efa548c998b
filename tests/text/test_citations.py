"""The citation scanner of feeds.text.links finds exactly what the format's regular expression
finds (SPEC section 2: "Source : <url>" in three languages, glued or not), on the real dumps,
the hostile corpus and generated bodies; it only finds them faster."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.text.links import CITATION_LABEL, Citations, extract_citations
from tests.conftest import SAMPLE_DUMPS
from tests.hostile_corpus import corpus

REFERENCE = re.compile(
    CITATION_LABEL + r"\s*<?(?P<url>https?://\S+?)(?=" + CITATION_LABEL + r"|\s|$)",
    re.IGNORECASE,
)
TRAILING = ".,;:!)]}>»”\"'"


def by_regex(body: str) -> Citations:
    """What extract_citations returned when it ran REFERENCE over the body."""
    matches = list(REFERENCE.finditer(body))
    urls = tuple(m["url"].rstrip(TRAILING) for m in matches)
    text = REFERENCE.sub("\n", body) if matches else body
    lines = (line.strip() for line in text.split("\n"))
    return Citations(text="\n".join(line for line in lines if line), urls=urls)


def test_the_sample_dumps_cite_as_the_regex_says() -> None:
    texts = [path.read_text(encoding="utf-8") for path in SAMPLE_DUMPS]
    bodies = [chunk for text in texts for chunk in text.split("\n\n")]
    # 34: `grep -oiE "(Source|Источник|Дереккөз)\s*:\s*https?://" dumps/*.txt | wc -l`
    assert sum(len(by_regex(body).urls) for body in bodies) == 34
    for body in bodies:
        assert extract_citations(body) == by_regex(body)


def test_the_hostile_corpus_cites_as_the_regex_says() -> None:
    for case in corpus():
        text = case.data.decode("utf-8", errors="replace")
        for body in text.split("\n\n")[:2000]:
            assert extract_citations(body) == by_regex(body), case.name


PIECES = st.sampled_from(
    [
        "Source", "source", "SOURCE", "Источник", "источник", "Дереккөз", "ДЕРЕККӨЗ", "ſource",
        ":", " : ", " ", "\n", "\t", "http", "https", "HTTPS", "httpſ", "://", "//", "www.gov.kz",
        "/ru/memleket/entities/mfa/press/news/details/1139165?lang=kk", "x", ".", ")", "»", "<", ">",
    ]
)  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(PIECES, max_size=14).map("".join))
def test_generated_bodies_cite_as_the_regex_says(body: str) -> None:
    assert extract_citations(body) == by_regex(body)
