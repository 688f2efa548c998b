"""What requests may store and render (issue 20): the shared `rendered` table holds only the
canonical pages (each feed's first page with no query) and old versions of them are deleted;
every variant (?limit=, cursors, ?lang=, an allowed host on another port) is rendered on
demand into a cache of this process bounded in bytes, at most MAX_VARIANT_RENDERS at once."""

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

from feeds.errors import StoreDisconnected, StoreUnavailable
from feeds.ingest import Ingester
from feeds.publish.feedservice import encode_cursor
from feeds.settings import Settings
from feeds.store.engine import store_error
from feeds.web.app import create_app
from tests.conftest import SAMPLE_DUMPS, wait_for

CANONICAL = ["/all.atom", "/all.rss", "/agencies/mfa.atom", "/topics/news.json"]


def served(settings: Settings, **changes: object) -> Flask:
    app = create_app(replace(settings, **changes))
    Ingester(app.extensions["feeds"].store, settings).run(settings.dumps)
    return app


def variants(count: int) -> list[str]:
    paths = [f"/all.atom?limit={n}" for n in range(1, count + 1)]
    paths += [f"/agencies/mfa.rss?after={encode_cursor((10**15 - n, n))}" for n in range(count)]
    paths += ["/all.json?lang=ru", "/topics/news.atom?lang=en&limit=3"]
    return paths


def test_only_canonical_pages_are_stored(settings: Settings) -> None:
    app = served(settings)
    client = app.test_client()
    store = app.extensions["feeds"].store
    for path in CANONICAL:
        assert client.get(path).status_code == 200
        assert client.get(path, headers={"Accept-Encoding": "gzip"}).status_code == 200
    stored = store.rendered_keys()
    assert len(stored) == len(CANONICAL)  # one row holds both encodings
    for path in variants(40):
        assert client.get(path).status_code == 200, path
        assert client.get(path, headers={"Host": "localhost:9999"}).status_code == 200
    for path in CANONICAL:  # an allowed host on another port than the server's
        assert client.get(path, headers={"Host": "127.0.0.1:9999"}).status_code == 200
    assert store.rendered_keys() == stored
    service = app.extensions["feeds"]
    assert len(service.variants) == 2 * len(variants(40)) + len(CANONICAL)
    assert service.renders == len(CANONICAL) + len(service.variants)


def test_old_versions_of_shared_pages_are_deleted(settings: Settings, tmp_path: Path) -> None:
    app = served(settings)
    client = app.test_client()
    store = app.extensions["feeds"].store
    for path in CANONICAL:
        client.get(path)
    before = store.rendered_keys()
    edited = tmp_path / "edited.txt"
    edited.write_text(
        SAMPLE_DUMPS[0].read_text(encoding="utf-8").replace("Almaty Zoo has", "The Zoo has"),
        encoding="utf-8",
    )
    Ingester(store, settings).run([str(edited)])
    assert store.rendered_keys() == []  # the change deleted every older version
    for path in CANONICAL:
        client.get(path)
    after = store.rendered_keys()
    assert [key for key, _, _ in after] == [key for key, _, _ in before]
    assert {version for _, version, _ in after} == {store.content_version()} == {3}


def test_variants_are_kept_within_their_bound_in_bytes(settings: Settings) -> None:
    bound = 400_000
    app = served(settings, variant_cache_bytes=bound)
    client = app.test_client()
    service = app.extensions["feeds"]
    for path in variants(60):
        assert client.get(path).status_code == 200
    assert 0 < service.variants.size <= bound
    assert len(service.variants) < len(variants(60))  # the least recently used went
    newest = variants(60)[-1]
    renders = service.renders
    assert client.get(newest).status_code == 200
    assert service.renders == renders  # still kept: served from memory


def test_renders_on_demand_are_limited_per_process(settings: Settings) -> None:
    app = served(settings, max_variant_renders=2)
    client = app.test_client()
    service = app.extensions["feeds"]
    assert client.get("/all.atom?limit=3").status_code == 200  # rendered before: kept
    with service.rendering_slot(), service.rendering_slot():  # two renders under way
        busy = client.get("/all.atom?limit=4")
        assert (busy.status_code, busy.headers["Retry-After"], busy.text) == (
            503,
            "5",
            "503 Service Unavailable: too many pages being rendered on demand; try again later\n",
        )
        assert client.get("/agencies/mfa?limit=5").status_code == 503  # an HTML page too
        assert client.get("/agencies/mfa").status_code == 200  # not a variant
        assert client.get("/all.atom?limit=3").status_code == 200
        assert client.get("/all.atom").status_code == 200  # canonical pages: never limited
        assert (
            client.get("/agencies/mfa.atom", headers={"Sec-Fetch-Dest": "document"}).status_code
            == 200
        )
    assert client.get("/all.atom?limit=4").status_code == 200


def test_concurrent_renders_beyond_the_limit_get_503(settings: Settings) -> None:
    app = served(settings, max_variant_renders=1)
    service = app.extensions["feeds"]
    render, release = service._render, threading.Event()

    def slow_render(*args: object) -> object:  # the first render waits until told
        release.wait(timeout=30)
        return render(*args)

    service._render = slow_render
    statuses: list[int] = []

    def request(n: int) -> None:
        statuses.append(app.test_client().get(f"/all.atom?limit={n}").status_code)

    first = threading.Thread(target=request, args=(1,))
    first.start()
    assert wait_for(lambda: service._rendering._value == 0, 10)  # the slot is taken
    others = [threading.Thread(target=request, args=(n,)) for n in range(2, 6)]
    for thread in others:
        thread.start()
    for thread in others:
        thread.join()
    assert statuses == [503, 503, 503, 503]
    release.set()
    first.join()
    assert statuses == [503, 503, 503, 503, 200]
    assert app.test_client().get("/all.atom?limit=2").status_code == 200


@pytest.mark.parametrize("bad", ["0", "-1", "ten", "1.5"])
def test_bad_bounds_are_refused_naming_the_setting(bad: str) -> None:
    from feeds.errors import SettingsError
    from feeds.settings import load_settings

    for name in ("VARIANT_CACHE_BYTES", "MAX_VARIANT_RENDERS"):
        with pytest.raises(
            SettingsError, match=f"FEEDS_{name}: setting {name}: expected a positive"
        ):
            load_settings(env={f"FEEDS_{name}": bad})


def dropped(store: object, method: str, times: int) -> list[int]:
    """Make the store's `method` fail `times` times as a connection dropped mid-request does
    (after the pool's ping found it alive); the calls made."""
    real, calls = getattr(store, method), []

    def failing(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) <= times:
            raise StoreDisconnected("OperationalError: terminating connection")
        return real(*args, **kwargs)

    setattr(store, method, failing)
    return calls


def test_a_render_whose_connection_drops_is_made_on_a_new_one(settings: Settings) -> None:
    app = served(settings)
    expected = app.test_client().get("/all.atom?limit=3").data
    calls = dropped(app.extensions["feeds"].store, "feed_rows", 1)
    response = app.test_client().get("/all.atom?limit=4")
    assert (response.status_code, len(calls)) == (200, 2)
    assert response.data.count(b"</entry>") == expected.count(b"</entry>") + 1 == 4


def test_a_connection_that_drops_again_is_a_503(settings: Settings) -> None:
    app = served(settings)
    calls = dropped(app.extensions["feeds"].store, "feed_rows", 2)
    response = app.test_client().get("/all.atom?limit=4")
    assert (response.status_code, len(calls)) == (503, 2)  # one retry, not a loop


def test_a_dropped_connection_is_told_from_other_failures() -> None:
    drop = OperationalError("SELECT 1", {}, Exception("server closed"), connection_invalidated=True)
    busy = OperationalError("SELECT 1", {}, Exception("database is locked"))
    assert type(store_error(drop)) is StoreDisconnected
    assert type(store_error(busy)) is StoreUnavailable
