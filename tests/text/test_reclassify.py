"""Topic rules are data: editing the topics file re-classifies stored items at the next ingest."""

from dataclasses import replace
from pathlib import Path

import feedparser

from feeds.ingest import Ingester
from feeds.settings import Settings
from feeds.web.app import create_app

RULES = """
[sections.News]
slug = "news"
name = "News"

[topics.zoo]
name = "Zoos"
en = ["zoo*"]
"""


def topics_by_title(app) -> dict[str, list[str]]:
    rows = app.extensions["feeds"].store.feed_rows(limit=500).rows
    return {row.title: list(row.topics) for row in rows}


def test_new_rules_reclassify_stored_items(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings)
    store = app.extensions["feeds"].store
    Ingester(store, settings).run(settings.dumps)
    zoo_title = "Almaty Zoo announces a campaign to collect used New Year\u2019s trees"
    assert topics_by_title(app)[zoo_title] == ["news", "tourism-culture"]
    version = store.content_version()

    rules = tmp_path / "topics.toml"
    rules.write_text(RULES, encoding="utf-8")
    changed = replace(settings, topics_file=str(rules))
    Ingester(store, changed).run(changed.dumps)  # the dumps did not change; the rules did

    topics = topics_by_title(create_app(changed))
    assert topics[zoo_title] == ["news", "zoo"]
    assert topics["Kazakh Foreign Ministry and KazMunayGas Discuss Investment Attraction"] == [
        "news"
    ]
    assert topics[
        "Ambassador of Kazakhstan Presents Credentials to the President of the United States"
    ] == ["world"]
    assert store.content_version() == version + 1
    client = create_app(changed).test_client()
    assert [e.title for e in feedparser.parse(client.get("/topics/zoo.atom").data).entries] == [
        zoo_title
    ]
    assert client.get("/topics/diplomacy.atom").status_code == 404
    assert (
        store.reclassify(
            Ingester(store, changed).rules.topics_of, Ingester(store, changed).rules.fingerprint
        )
        == 0
    )
