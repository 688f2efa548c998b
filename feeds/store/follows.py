"""Following items' gov.kz links (SPEC section 8): which items are due, what the API gave
(stored apart from the dump's text) and the back-off state of the items that failed."""

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from feeds.dumps.records import sort_key
from feeds.portal.enrich import Enrichment
from feeds.store.engine import StoreBase
from feeds.store.items import TopicsOf, merge_origins, write_topics
from feeds.store.models import DueFollow, FollowPause, FollowStats, Touched
from feeds.store.schema import follows, item_topics, items
from feeds.store.search import index_items
from feeds.store.state import bump_version, read_state, set_state

PAUSED_UNTIL = "follow_host_paused_until"
PAUSE_REASON = "follow_host_pause_reason"


class FollowsMixin(StoreBase):
    def due_follows(self, now: datetime, limit: int) -> list[DueFollow]:
        """Items whose gov.kz link should be followed now: those never failed first, longest
        waiting first; then those that failed before, fewest failures first. A few items
        that keep failing never hold the head of the queue."""
        due = (
            select(follows.c.item_id, items.c.govkz_id, items.c.lang, follows.c.attempts)
            .join(items, items.c.id == follows.c.item_id)
            .where(follows.c.next_try <= now)
        )
        # Two queries on the next_try index rather than one ORDER BY attempts: the first
        # skips only the failing items that are due, the second reads only those.
        fresh = due.where(follows.c.attempts == 0).order_by(follows.c.next_try, follows.c.item_id)
        failing = due.where(follows.c.attempts > 0).order_by(
            follows.c.attempts, follows.c.next_try, follows.c.item_id
        )
        with self._connect() as connection:
            rows = list(connection.execute(fresh.limit(limit)))
            if len(rows) < limit:
                rows += connection.execute(failing.limit(limit - len(rows)))
        return [DueFollow(*row) for row in rows]

    def save_enrichment(
        self, item_id: int, enrichment: Enrichment, now: datetime, topics_of: TopicsOf
    ) -> Touched:
        """Store what the API gave; the feeds it changed (none when it changed nothing)."""
        with self._begin() as connection:
            stored = connection.scalar(
                select(follows.c.content_hash).where(follows.c.item_id == item_id)
            )
            done = {
                "status": "ok",
                "attempts": 0,
                "last_error": None,
                "next_try": None,
                "followed_at": now,
            }
            if stored == enrichment.content_hash:
                connection.execute(
                    update(follows).where(follows.c.item_id == item_id).values(**done)
                )
                return Touched()
            connection.execute(
                update(follows)
                .where(follows.c.item_id == item_id)
                .values(
                    **done,
                    title=enrichment.title or None,
                    body_html=enrichment.body_html or None,
                    published=enrichment.published,
                    image=enrichment.image,
                    content_hash=enrichment.content_hash,
                )
            )
            touched = _apply_enrichment(connection, item_id, enrichment, now, topics_of)
            bump_version(connection)
        return touched

    def save_follow_failure(
        self, item_id: int, status: str, error: str, next_try: datetime | None
    ) -> None:
        with self._begin() as connection:
            connection.execute(
                update(follows)
                .where(follows.c.item_id == item_id)
                .values(
                    status=status,
                    attempts=follows.c.attempts + 1,
                    last_error=error[:500],
                    next_try=next_try,
                )
            )

    def follow_stats(self) -> FollowStats:
        counts = select(follows.c.status, func.count()).group_by(follows.c.status)
        oldest = (
            select(follows.c.next_try)
            .where(follows.c.status == "pending", follows.c.next_try.is_not(None))
            .order_by(follows.c.next_try)
            .limit(1)
        )
        with self._connect() as connection:
            by_status = dict(connection.execute(counts).all())
            since = connection.scalar(oldest)
        return FollowStats(
            *(by_status.get(status, 0) for status in ("pending", "ok", "failed", "gone")), since
        )

    def follow_pause(self, now: datetime) -> FollowPause | None:
        """The pause of gov.kz in force at `now`, with its reason; None when there is none."""
        with self._connect() as connection:
            until, reason = (read_state(connection, n) for n in (PAUSED_UNTIL, PAUSE_REASON))
        if not until or datetime.fromisoformat(until) <= now:
            return None
        return FollowPause(datetime.fromisoformat(until), reason or "")

    def put_follow_pause(self, until: datetime, reason: str) -> None:
        with self._begin() as connection:
            set_state(connection, PAUSED_UNTIL, until.isoformat())
            set_state(connection, PAUSE_REASON, reason[:500])

    def follow_state(self, item_id: int) -> dict[str, Any] | None:
        """An item's row of the follows table (for inspection and tests)."""
        with self._connect() as connection:
            row = connection.execute(select(follows).where(follows.c.item_id == item_id)).first()
        return row._asdict() if row else None


def _apply_enrichment(
    connection: Connection,
    item_id: int,
    enrichment: Enrichment,
    now: datetime,
    topics_of: TopicsOf,
) -> Touched:
    """The item's time, order and topics as the API's text and time say."""
    columns = (
        items.c.published,
        items.c.position,
        items.c.sections,
        items.c.title,
        items.c.body,
    )
    item = connection.execute(
        select(*columns, items.c.agency, items.c.lang, items.c.shown, items.c.origins).where(
            items.c.id == item_id
        )
    ).one()
    published = enrichment.published or item.published
    key = sort_key(published, item.position)
    origins = merge_origins(item.origins, "api")
    connection.execute(
        update(items)
        .where(items.c.id == item_id)
        .values(published=published, updated=now, sort_key=key, origins=origins)
    )
    row = {
        "row_id": item_id,
        "title": enrichment.title or item.title,
        "body": enrichment.body_text or item.body,
        "sections": item.sections,
        "sort_key": key,
        "lang": item.lang,
        "shown": item.shown,
    }
    topics = write_topics(connection, [row], topics_of)
    index_items(connection, [item_id])  # the API's text is searched too
    touched = Touched({item.agency} if item.agency else set(), topics)
    if enrichment.published:
        touched.add(_time_other_versions(connection, item_id, enrichment.published, now))
    return touched


def _time_other_versions(
    connection: Connection, item_id: int, published: datetime, now: datetime
) -> Touched:
    """The exact time is the release's: its other versions that no answer of their own gave
    a time yet take it too, so the release's versions stay side by side in time."""
    release = select(items.c.release).where(items.c.id == item_id).scalar_subquery()
    own_time = select(follows.c.item_id).where(follows.c.published.is_not(None))
    others = connection.execute(
        select(items.c.id, items.c.position, items.c.agency, items.c.published).where(
            items.c.release == release, items.c.id != item_id, items.c.id.not_in(own_time)
        )
    ).all()
    touched = Touched()
    for other in others:
        if other.published == published:
            continue
        key = sort_key(published, other.position)
        connection.execute(
            update(items)
            .where(items.c.id == other.id)
            .values(published=published, updated=now, sort_key=key)
        )
        connection.execute(
            update(item_topics).where(item_topics.c.item_id == other.id).values(sort_key=key)
        )
        touched.add(_touched_by(connection, other.id, other.agency))
    return touched


def _touched_by(connection: Connection, item_id: int, agency: str | None) -> Touched:
    topics = select(item_topics.c.topic).where(item_topics.c.item_id == item_id)
    return Touched({agency} if agency else set(), set(connection.scalars(topics)))
