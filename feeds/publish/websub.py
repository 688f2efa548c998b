"""WebSub publishing (W3C Recommendation, section 7): after a run changed feeds, tell the
hub which ones, so subscribers (FreshRSS, Feedly, Inoreader...) fetch them at once.
"""

import logging
from collections.abc import Iterable

from feeds.errors import FetchError
from feeds.portal.http import FormPoster
from feeds.publish.catalog import Agencies
from feeds.publish.feedmodel import FORMATS, FeedRef
from feeds.store import Touched

log = logging.getLogger(__name__)


def changed_feeds(touched: Touched, agencies: Agencies) -> list[FeedRef]:
    """Every feed whose content a change touched: everything, each touched agency and its
    ancestors (parents' feeds include their children), each touched topic."""
    if not touched:
        return []
    slugs = set(touched.agencies)
    for slug in touched.agencies:
        slugs.update(agencies.ancestors(slug))
    return [
        FeedRef("all"),
        *(FeedRef("agency", slug) for slug in sorted(slugs)),
        *(FeedRef("topic", slug) for slug in sorted(touched.topics)),
    ]


def feed_urls(feeds: Iterable[FeedRef], site_url: str) -> list[str]:
    """The URLs subscribers use (the feeds' rel=self of their first page)."""
    return [f"{site_url}{ref.path(fmt)}" for ref in feeds for fmt in FORMATS]


class Publisher:
    def __init__(self, hub: str, timeout: float, poster: FormPoster | None = None) -> None:
        self.hub = hub
        self.poster = poster or FormPoster(timeout)

    def publish(self, urls: list[str]) -> list[str]:
        """One `hub.mode=publish` ping per URL; the URLs the hub did not accept."""
        failed = []
        for url in urls:
            try:
                status = self.poster.post(self.hub, {"hub.mode": "publish", "hub.url": url})
                accepted, reason = 200 <= status < 300, f"HTTP {status}"
            except FetchError as exc:
                accepted, reason = False, str(exc)
            if not accepted:
                failed.append(url)
                log.warning("websub: hub %s did not take %s: %s", self.hub, url, reason)
        log.info("websub: published %d of %d changed feed URLs", len(urls) - len(failed), len(urls))
        return failed
