"""The portal's official RSS in the store (issue 27): its new releases written as a source's
items, and the exact time it gives to versions the store has already.

What wins (SPEC section 8): the API's answer, then the RSS, then the dump. A version the RSS
brings first is stored from it (its title, its description as the text, its time); a dump
that has it later brings its fuller text, and the RSS's time stays (a dump's update never
moves `published`). A version a dump brought first keeps its text and takes the RSS's time,
unless the API gave it one. Each version records where it came from (`items.origins`).
"""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from feeds.dumps.records import ItemRecord, sort_key
from feeds.store.engine import StoreBase
from feeds.store.follows import _time_other_versions, _touched_by
from feeds.store.items import BATCH, TopicsOf, merge_origins
from feeds.store.models import IngestCounts, Touched
from feeds.store.schema import follows, item_topics, items
from feeds.store.search import TermsOf
from feeds.store.state import read_state, record_source, set_state

RSS_STATE = "rss:{url}"


class RssMixin(StoreBase):
    def write_rss(
        self,
        url: str,
        records: Sequence[ItemRecord],
        now: datetime,
        *,
        topics_of: TopicsOf,
        languages: Sequence[str],
        terms_of: TermsOf,
        validators: dict[str, str | None],
    ) -> IngestCounts:
        """One read of a feed, in one transaction: its versions new to the store written,
        the others timed; the feed's validators kept for the next conditional read."""
        with self.source_ingest(url, now, topics_of, languages, terms_of, "rss") as session:
            known = _known(session.connection, [record.key for record in records])
            new = [record for record in records if record.key not in known]
            session.counts.found = len(records)
            session.write(new)
            timed = [record for record in records if record.key in known]
            touched, retimed = _take_times(session.connection, timed, known, now)
            session.counts.touched.add(touched)
            session.counts.updated += retimed
            session.counts.unchanged += len(timed) - retimed
            return session.finish({**validators, "items_found": len(records), "problems": 0})

    def note_rss_read(self, url: str, now: datetime, *, clear_failure: bool) -> None:
        """A read answered 304: the feed's validators stay, its last read moves (and a
        failure in a row before it is over)."""
        with self._begin() as connection:
            record_source(connection, url, {"last_ingest": now})
            if clear_failure:
                set_state(connection, RSS_STATE.format(url=url), "{}")

    def rss_failure(self, url: str) -> dict[str, Any]:
        """The feed's failures in a row and the last one's reason and time ({} if none)."""
        with self._connect() as connection:
            return json.loads(read_state(connection, RSS_STATE.format(url=url)) or "{}")

    def put_rss_failure(self, url: str, failure: dict[str, Any]) -> None:
        with self._begin() as connection:
            set_state(connection, RSS_STATE.format(url=url), json.dumps(failure, sort_keys=True))


def _known(connection: Connection, keys: list[str]) -> dict[str, Any]:
    """The stored versions of these keys, with whether the API gave them a time."""
    query = select(
        items.c.key,
        items.c.id,
        items.c.published,
        items.c.position,
        items.c.agency,
        items.c.origins,
        follows.c.published.label("api_time"),
    ).outerjoin(follows, follows.c.item_id == items.c.id)
    found: dict[str, Any] = {}
    for start in range(0, len(keys), BATCH):
        chunk = keys[start : start + BATCH]
        rows = connection.execute(query.where(items.c.key.in_(chunk)))
        found.update({row.key: row for row in rows})
    return found


def _take_times(
    connection: Connection, records: list[ItemRecord], known: dict[str, Any], now: datetime
) -> tuple[Touched, int]:
    """The RSS's exact time on each version the API did not time, and on the release's other
    versions with no time of their own; `rss` among the origins of each. The feeds touched
    and how many versions took a new time."""
    touched = Touched()
    retimed = 0
    for record in records:
        row = known[record.key]
        origins = merge_origins(row.origins, "rss")
        if row.api_time is not None or row.published == record.published:
            if origins != row.origins:
                connection.execute(
                    update(items).where(items.c.id == row.id).values(origins=origins)
                )
            continue
        key = sort_key(record.published, row.position)
        connection.execute(
            update(items)
            .where(items.c.id == row.id)
            .values(published=record.published, updated=now, sort_key=key, origins=origins)
        )
        connection.execute(
            update(item_topics).where(item_topics.c.item_id == row.id).values(sort_key=key)
        )
        touched.add(_touched_by(connection, row.id, row.agency))
        touched.add(_time_other_versions(connection, row.id, record.published, now))
        retimed += 1
    return touched, retimed
