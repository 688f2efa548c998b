"""A release's documents as its attachments: the files on gov.kz its text links, followed from a
stand-in portal on 127.0.0.1 whose article body links a decree (PDF), a plan (DOCX) and a table
(XLSX), as Atom enclosures, JSON Feed attachments, the one RSS enclosure and Media RSS, and on
the HTML pages; and the pure extraction behind them (feeds.text.links)."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient

from feeds.following.follow import Follower
from feeds.ingest import Ingester
from feeds.settings import Settings
from feeds.store import Store
from feeds.text.links import Attachment, find_attachments, html_links, text_links
from feeds.web.app import create_app
from tests.conftest import app_with_one_followed
from tests.fake_portal import DOCUMENTS_BODY, FakePortal, Reply, news_with_documents

RELEASE = "1139153"  # the Foreign Ministry's meeting with KazMunayGas, in the sample dump
PORTAL = "https://www.gov.kz/uploads/2026/1/9/"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DECREE = Attachment(f"{PORTAL}decree_123.pdf", "application/pdf", "Decree No. 123")
PLAN = Attachment(f"{PORTAL}plan_2026.docx", DOCX, "action plan")
BUDGET = Attachment(f"{PORTAL}budget.xlsx", XLSX, "budget")
IMAGE = f"{PORTAL}signing.jpg"
MRSS = "{http://search.yahoo.com/mrss/}"


@pytest.fixture
def app(settings: Settings) -> Flask:
    """The sample dumps, one release followed to a body that links its documents."""
    return app_with_one_followed(settings, RELEASE, news_with_documents(RELEASE))


def entry_of(data: bytes) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    (entry,) = [e for e in parsed.entries if e.link.endswith(f"/{RELEASE}?lang=en")]
    return entry


def test_atom_has_every_document_as_a_typed_enclosure(client: FlaskClient) -> None:
    entry = entry_of(client.get("/agencies/mfa.atom").data)
    assert [(e.href, e.type) for e in entry.enclosures] == [
        (IMAGE, "image/jpeg"),
        (DECREE.url, "application/pdf"),
        (PLAN.url, DOCX),
        (BUDGET.url, XLSX),
    ]
    links = [link for link in entry.links if link.rel == "enclosure"]
    assert [link.get("title") for link in links] == [
        None,
        *(a.title for a in (DECREE, PLAN, BUDGET)),
    ]
    assert all("length" not in link for link in links)  # never fetched: not known


def test_rss_has_the_first_document_as_its_enclosure_and_the_image_as_media(
    client: FlaskClient,
) -> None:
    data = client.get("/agencies/mfa.rss").data
    entry = entry_of(data)
    assert [(e.href, e.type, e.length) for e in entry.enclosures] == [
        (DECREE.url, "application/pdf", "0")
    ]
    (item,) = [
        i
        for i in ElementTree.fromstring(data).iter("item")
        if i.findtext("link").endswith(f"/{RELEASE}?lang=en")
    ]
    (content,) = item.findall(f"{MRSS}content")
    assert content.attrib == {"url": IMAGE, "type": "image/jpeg", "medium": "image"}
    assert [t.attrib for t in item.findall(f"{MRSS}thumbnail")] == [{"url": IMAGE}]
    assert item.findall(f"{MRSS}group") == []


def test_json_feed_lists_the_documents_as_attachments(client: FlaskClient) -> None:
    feed = json.loads(client.get("/agencies/mfa.json").data)
    (item,) = [i for i in feed["items"] if i["url"].endswith(f"/{RELEASE}?lang=en")]
    assert item["image"] == IMAGE
    assert item["attachments"] == [
        {"url": a.url, "mime_type": a.mime_type, "title": a.title} for a in (DECREE, PLAN, BUDGET)
    ]
    # Releases that link no file have no attachments at all (not an empty list).
    assert sum("attachments" in i for i in feed["items"]) == 1


def test_the_html_pages_list_the_documents(client: FlaskClient) -> None:
    page = client.get("/agencies/mfa").text
    assert (
        f'<li><a href="{DECREE.url}" type="application/pdf"><span lang="en">Decree No. 123</span>'
        '</a> <span class="muted">(PDF)</span></li>'
    ) in page
    assert f'<a href="{PLAN.url}" type="{DOCX}"><span lang="en">action plan</span></a>' in page
    assert page.count('<ul class="documents"') == 1


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_w3c_validator_finds_no_error_with_enclosures(client: FlaskClient, w3c, fmt: str) -> None:
    for path in (f"/agencies/mfa.{fmt}", f"/all.{fmt}?limit=500"):
        response = client.get(path)
        assert b"decree_123.pdf" in response.data
        messages = w3c.validate(
            response.data, f"http://localhost{path}", content_type=response.content_type
        )
        assert [str(m) for m in messages if m.level == "error"] == [], path


# -- the pure extraction ----------------------------------------------------------------------


def test_only_files_on_gov_kz_each_once_absolute_on_the_portal() -> None:
    assert find_attachments(html_links(DOCUMENTS_BODY)) == (DECREE, PLAN, BUDGET)


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/uploads/a/report", ("https://www.gov.kz/uploads/a/report", "application/octet-stream")),
        (
            "https://WWW.GOV.KZ:443/files/x.PDF",
            ("https://www.gov.kz/files/x.PDF", "application/pdf"),
        ),
        (
            "//gov.kz/a/slides.pptx",
            (
                "https://www.gov.kz/a/slides.pptx",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ),
        ),
        ("/a/b.odt", ("https://www.gov.kz/a/b.odt", "application/vnd.oasis.opendocument.text")),
        ("/a/archive.rar?x=1", ("https://www.gov.kz/a/archive.rar?x=1", "application/vnd.rar")),
        ("/a/old.doc", ("https://www.gov.kz/a/old.doc", "application/msword")),
        ("/a/t.xls", ("https://www.gov.kz/a/t.xls", "application/vnd.ms-excel")),
        ("/a/s.ppt", ("https://www.gov.kz/a/s.ppt", "application/vnd.ms-powerpoint")),
        ("/a/all.zip", ("https://www.gov.kz/a/all.zip", "application/zip")),
        ("/a/p.png", ("https://www.gov.kz/a/p.png", "image/png")),
    ],
)
def test_a_file_link_is_typed_by_its_suffix(href: str, expected: tuple[str, str]) -> None:
    (found,) = find_attachments([(href, "")])
    assert (found.url, found.mime_type) == expected


@pytest.mark.parametrize(
    "href",
    [
        "https://example.com/uploads/a.pdf",  # another host
        "https://gov.kz.example.com/a.pdf",
        "https://www.gov.kz:8443/uploads/a.pdf",  # another port
        "https://user@www.gov.kz/uploads/a.pdf",
        "ftp://www.gov.kz/uploads/a.pdf",
        "javascript:alert(1)//a.pdf",
        "https://[www.gov.kz/uploads/a.pdf",  # urllib refuses it
        "/memleket/entities/mfa/press/news/details/1",  # a page, not a file
        "/a/page.html",
        "mailto:press@gov.kz",
    ],
)
def test_other_links_are_no_attachments(href: str) -> None:
    assert find_attachments([(href, "text")]) == ()


def test_titles_are_the_link_text_else_the_file_name_and_never_repeat() -> None:
    found = find_attachments(
        [
            ("/uploads/a/%D0%BF%D1%80%D0%B8%D0%BA%D0%B0%D0%B7.pdf", ""),
            ("/uploads/b/one.pdf", "Download"),
            ("/uploads/c/two.pdf", " Download\n"),
            ("/uploads/b/one.pdf", "Other words"),  # the same file: once, as first named
        ]
    )
    assert [(a.url.rsplit("/", 2)[-2], a.title) for a in found] == [
        ("a", "приказ.pdf"),
        ("b", "Download"),
        ("c", "Download (/uploads/c/two.pdf)"),  # JSON Feed: one title, one file
    ]


def test_a_dump_text_links_its_documents_as_plain_urls() -> None:
    text = (
        "The order (https://www.gov.kz/uploads/2026/1/9/order.pdf), the annex "
        "https://www.gov.kz/uploads/2026/1/9/annex.docx. Photos: /uploads/2026/1/9/p.jpg, "
        "and the portal https://www.gov.kz/memleket/entities/mfa?lang=en."
    )
    found = find_attachments(text_links(text))
    assert [(a.url, a.mime_type, a.title) for a in found] == [
        (f"{PORTAL}order.pdf", "application/pdf", "order.pdf"),
        (f"{PORTAL}annex.docx", DOCX, "annex.docx"),
        (f"{PORTAL}p.jpg", "image/jpeg", "p.jpg"),
    ]


@pytest.mark.parametrize(
    "fragment", ["", "   ", "plain words", "<a>no href</a>", "<a href=''>x</a>"]
)
def test_html_without_file_links_has_no_attachments(fragment: str) -> None:
    assert find_attachments(html_links(fragment)) == ()


def test_what_xml_cannot_hold_never_reaches_a_feed() -> None:
    """A control character in a link's text is a space; in its URL, no attachment at all; a
    space or a Cyrillic file name in a URL is percent-encoded."""
    found = find_attachments(
        html_links(
            "\x00<a href='/a.pdf'>x\x01y\u200b</a><a href='/b\x02.pdf'>b</a>"
            "<a href='/uploads/2026/приказ №1.pdf?v=ü'>order</a>"
        )
    )
    assert found == (
        Attachment("https://www.gov.kz/a.pdf", "application/pdf", "x y"),
        Attachment(
            "https://www.gov.kz/uploads/2026/%D0%BF%D1%80%D0%B8%D0%BA%D0%B0%D0%B7%20%E2%84%961.pdf"
            "?v=%C3%BC",
            "application/pdf",
            "order",
        ),
    )


# -- `updated` moves with what a reader sees, and only then -----------------------------------


def updated_of(client: FlaskClient) -> dict[str, str]:
    feed = feedparser.parse(client.get("/all.atom?limit=500&lang=en").data)
    return {entry.id: entry.updated for entry in feed.entries}


def test_updated_moves_only_when_the_text_a_reader_sees_changes(
    settings: Settings, tmp_path: Path
) -> None:
    """The same dumps rewritten with CRLF line ends, and the same answer followed a second
    time, move no entry's `updated`, no ETag, no content version; a word changed in the
    followed text moves that entry's `updated` alone."""
    answers = {RELEASE: news_with_documents(RELEASE)}

    def portal(news_id: str, asked: int, lang: str) -> Reply:
        return answers.get(news_id, Reply(404))

    with FakePortal(portal) as fake:
        settings = replace(settings, govkz_base_url=fake.url, follow_rate=500.0)
        app = create_app(settings)
        client = app.test_client()
        store: Store = app.extensions["feeds"].store
        ingester = Ingester(store, settings)
        ingester.run(settings.dumps)

        def follow_again() -> None:
            (row,) = [
                r for r in store.item_rows() if r["govkz_id"] == RELEASE and r["lang"] == "en"
            ]
            store.save_follow_failure(
                row["id"], "pending", "", datetime.now(UTC) - timedelta(seconds=1)
            )
            Follower(store, settings, ingester.rules).run()

        Follower(store, settings, ingester.rules).run()
        before, version = updated_of(client), store.content_version()
        etag = client.get("/all.atom").headers["ETag"]
        assert len(before) > 10

        crlf = []
        for dump in settings.dumps:
            rewritten = tmp_path / Path(dump).name
            rewritten.write_bytes(Path(dump).read_bytes().replace(b"\n", b"\r\n"))
            assert b"\r\n" in rewritten.read_bytes()
            crlf.append(str(rewritten))
        reports = Ingester(store, settings).run(crlf)
        assert [(r.error, r.counts.new, r.counts.updated) for r in reports] == [(None, 0, 0)] * 2
        follow_again()
        assert (updated_of(client), store.content_version()) == (before, version)
        assert client.get("/all.atom").headers["ETag"] == etag

        answers[RELEASE] = news_with_documents(
            RELEASE, body=DOCUMENTS_BODY.replace("was signed", "was signed today")
        )
        follow_again()
        after = updated_of(client)
        moved = {entry for entry in before if after[entry] != before[entry]}
        assert len(moved) == 1
        (entry,) = moved
        assert after[entry] > before[entry]
        assert client.get("/all.atom").headers["ETag"] != etag


def test_a_dump_body_links_its_documents_too(settings: Settings, tmp_path: Path) -> None:
    """Before any follow (or without FOLLOW), the dump's own text is what readers see."""
    dump = tmp_path / "documents.txt"
    dump.write_text(
        "News\n"
        "The Ministry publishes its annual plan 10.01.2026\n"
        "The plan is at https://www.gov.kz/uploads/2026/1/10/annual_plan.pdf, the summary "
        "at http://gov.kz/uploads/2026/1/10/summary.docx and a copy at "
        "https://example.com/annual_plan.pdf.Source : "
        "https://www.gov.kz/memleket/entities/mfa/press/news/details/1200001?lang=en\n",
        encoding="utf-8",
    )
    settings = replace(settings, dumps=(str(dump),), follow=False)
    app = create_app(settings)
    Ingester(app.extensions["feeds"].store, settings).run(settings.dumps)
    client = app.test_client()
    (item,) = client.get("/all.json").get_json()["items"]
    assert item["attachments"] == [
        {
            "url": "https://www.gov.kz/uploads/2026/1/10/annual_plan.pdf",
            "mime_type": "application/pdf",
            "title": "annual_plan.pdf",
        },
        {
            "url": "https://www.gov.kz/uploads/2026/1/10/summary.docx",
            "mime_type": DOCX,
            "title": "summary.docx",
        },
    ]
    (entry,) = feedparser.parse(client.get("/all.rss").data).entries
    assert [(e.href, e.type) for e in entry.enclosures] == [
        ("https://www.gov.kz/uploads/2026/1/10/annual_plan.pdf", "application/pdf")
    ]
