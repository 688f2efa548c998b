"""A deploy that renames an agency and a topic (issue 14): after a restart with the same
SITE_URL and the same store, and no ingest, every feed, page and the OPML show the new names;
the shared pages of the configuration before are deleted, never read."""

import shutil
from dataclasses import replace
from pathlib import Path

from flask import Flask

from feeds.ingest import Ingester
from feeds.settings import Settings
from feeds.web.app import create_app
from tests.conftest import PROJECT
from tests.reliability import opml_paths

SITE = "https://feeds.example.kz"
OLD_AGENCY = "Embassy of the Republic of Kazakhstan in the United States of America"
NEW_AGENCY = "Kazakh Embassy in Washington (renamed)"
OLD_TOPIC = "Diplomacy and foreign policy"
NEW_TOPIC = "Foreign relations (renamed)"


def every_answer(app: Flask) -> dict[str, str]:
    """Every feed of the OPML in every format, a second page, its HTML page, the index and
    the OPML, as text."""
    client = app.test_client()
    paths = ["/", "/feeds.opml"]
    for atom in opml_paths(client):
        feed = atom.removesuffix(".atom")
        paths += [f"{feed}.{fmt}" for fmt in ("atom", "rss", "json")]
        paths += [f"{feed}.atom?limit=5", "/" if feed == "/all" else feed]
    answers = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        answers[path] = response.text
    return answers


def test_renamed_agency_and_topic_show_everywhere_after_a_restart(
    settings: Settings, tmp_path: Path
) -> None:
    agencies, topics = tmp_path / "agencies.toml", tmp_path / "topics.toml"
    shutil.copy(PROJECT / "config" / "agencies.toml", agencies)
    shutil.copy(PROJECT / "config" / "topics.toml", topics)
    settings = replace(
        settings, agencies_file=str(agencies), topics_file=str(topics), site_url=SITE
    )
    before = create_app(settings)
    store = before.extensions["feeds"].store
    Ingester(store, settings).run(settings.dumps)
    old = every_answer(before)
    shared_before = {key for key, _, _ in store.rendered_keys()}
    named = {"agency": OLD_AGENCY, "topic": OLD_TOPIC}
    showing = {
        what: sorted(p for p, text in old.items() if name in text) for what, name in named.items()
    }
    assert "/agencies/mfa-washington.atom" in showing["agency"]
    assert "/all.atom" in showing["agency"]  # its entries' author
    assert "/topics/diplomacy.json" in showing["topic"] and "/feeds.opml" in showing["topic"]

    agencies.write_text(agencies.read_text(encoding="utf-8").replace(OLD_AGENCY, NEW_AGENCY))
    topics.write_text(topics.read_text(encoding="utf-8").replace(OLD_TOPIC, NEW_TOPIC))
    version = store.content_version()
    after = create_app(settings)  # the restart: same store, same SITE_URL, no ingest
    new = every_answer(after)
    assert store.content_version() == version
    assert [p for p, text in new.items() if OLD_AGENCY in text or OLD_TOPIC in text] == []
    assert sorted(p for p, text in new.items() if NEW_AGENCY in text) == showing["agency"]
    assert sorted(p for p, text in new.items() if NEW_TOPIC in text) == showing["topic"]
    shared_after = {key for key, _, _ in store.rendered_keys()}
    assert len(shared_after) == len(shared_before) and shared_after.isdisjoint(shared_before)
