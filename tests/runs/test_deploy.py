"""Multi-process deployment parts: shared rendered pages, one scheduler, WebSub, metrics."""

import re
import shutil
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs

import feedparser
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pytest_httpserver import HTTPServer

from feeds.ingest import Ingester
from feeds.scheduler import Tick
from feeds.settings import Settings
from feeds.store import Store
from feeds.web.app import create_app
from tests.conftest import SAMPLE_DUMPS

SITE = "https://feeds.example.kz"


def test_a_cold_worker_serves_pages_rendered_by_another(settings: Settings) -> None:
    first = create_app(settings)
    Ingester(first.extensions["feeds"].store, settings).run(settings.dumps)
    answer = first.test_client().get("/agencies/mfa.atom")
    second = create_app(settings)  # another worker: empty memory
    again = second.test_client().get("/agencies/mfa.atom")
    assert again.headers["ETag"] == answer.headers["ETag"]
    assert again.data == answer.data
    assert (first.extensions["feeds"].renders, second.extensions["feeds"].renders) == (1, 0)


def test_leader_lock_admits_one_holder(store: Store) -> None:
    one, two = store.leader_lock(), store.leader_lock()
    assert one.try_acquire() is True
    assert two.try_acquire() is False
    assert one.try_acquire() is True  # holding it again is fine
    one.release()
    assert two.try_acquire() is True
    two.release()


@pytest.fixture
def hub(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("/hub", method="POST").respond_with_data("", status=202)
    return httpserver


def pings(hub: HTTPServer) -> list[str]:
    found = []
    for request, _ in hub.log:
        form = parse_qs(request.get_data(as_text=True))
        assert form["hub.mode"] == ["publish"]
        found.extend(form["hub.url"])
    hub.clear_log()
    return found


def feeds_of(urls: list[str]) -> set[str]:
    paths = {url.removeprefix(SITE) for url in urls}
    bases = {re.sub(r"\.(atom|rss|json)$", "", path) for path in paths}
    assert paths == {f"{base}.{fmt}" for base in bases for fmt in ("atom", "rss", "json")}
    return bases


def test_websub_pings_exactly_the_changed_feeds(
    settings: Settings, hub: HTTPServer, tmp_path: Path
) -> None:
    dump = tmp_path / "news.txt"
    shutil.copy(SAMPLE_DUMPS[0], dump)
    settings = replace(
        settings, dumps=(str(dump),), follow=False, site_url=SITE, websub_hub=hub.url_for("/hub")
    )
    tick = Tick(Store(settings.database_url), settings)
    tick()
    first = pings(hub)
    assert len(first) == len(set(first))
    bases = feeds_of(first)
    assert {"/all", "/agencies/mfa", "/agencies/kgd", "/agencies/minfin", "/topics/news"} <= bases
    tick()
    assert pings(hub) == []  # nothing changed: no ping at all
    dump.write_text(
        dump.read_text(encoding="utf-8").replace("Almaty Zoo has launched", "Almaty Zoo launched"),
        encoding="utf-8",
    )
    tick()
    assert feeds_of(pings(hub)) == {
        "/all",
        "/agencies/almaty-almaly",
        "/agencies/almaty",
        "/topics/news",
        "/topics/tourism-culture",
    }


def test_feeds_link_to_the_hub(settings: Settings) -> None:
    app = create_app(replace(settings, websub_hub="https://hub.example/websub"))
    Ingester(app.extensions["feeds"].store, settings).run(settings.dumps)
    client = app.test_client()
    atom = feedparser.parse(client.get("/all.atom").data).feed
    assert {link.rel: link.href for link in atom.links}["hub"] == "https://hub.example/websub"
    assert (
        b'<atom:link rel="hub" href="https://hub.example/websub"/>' in client.get("/all.rss").data
    )
    assert client.get("/all.json").get_json()["hubs"] == [
        {"type": "WebSub", "url": "https://hub.example/websub"}
    ]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics(settings: Settings) -> None:
    app = create_app(replace(settings, follow=False))
    store = app.extensions["feeds"].store
    client = app.test_client()
    before = samples(client.get("/metrics").text)  # counters are per process: compare changes
    Tick(store, replace(settings, follow=False))()
    etag = client.get("/all.atom").headers["ETag"]
    client.get("/all.atom", headers={"If-None-Match": etag})
    client.get("/agencies/nope.atom")
    after = samples(client.get("/metrics").text)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)

    assert grew("feeds_http_requests_total", route="/all.<fmt:fmt>", status="200") == 1
    assert grew("feeds_http_requests_total", route="/all.<fmt:fmt>", status="304") == 1
    assert (
        grew("feeds_http_requests_total", route="/agencies/<slug:slug>.<fmt:fmt>", status="404")
        == 1
    )
    assert grew("feeds_renders_total") == 1
    assert after[("feeds_items", ())] == 37
    assert after[("feeds_ingest_runs_total", (("outcome", "ok"),))] == 1
    assert after[("feeds_follow_items", (("state", "pending"),))] == 33
    assert after[("feeds_ingest_last_duration_seconds", ())] > 0
