"""WebSub publishing (W3C Recommendation, section 7): after a run changed feeds, tell the
hub which ones, so subscribers (FreshRSS, Feedly, Inoreader...) fetch them at once.
"""

import logging
from collections.abc import Iterable

import requests

from feeds.catalog import Agencies
from feeds.feedmodel import FORMATS, FeedRef
from feeds.http import describe_error, make_post_session
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
    def __init__(self, hub: str, timeout: float, session: requests.Session | None = None) -> None:
        self.hub = hub
        self.timeout = timeout
        self.session = session or make_post_session()

    def publish(self, urls: list[str]) -> list[str]:
        """One `hub.mode=publish` ping per URL; the URLs the hub did not accept."""
        failed = []
        for url in urls:
            try:
                response = self.session.post(
                    self.hub, data={"hub.mode": "publish", "hub.url": url}, timeout=self.timeout
                )
                accepted = 200 <= response.status_code < 300
                reason = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                accepted, reason = False, describe_error(exc)
            if not accepted:
                failed.append(url)
                log.warning("websub: hub %s did not take %s: %s", self.hub, url, reason)
        log.info("websub: published %d of %d changed feed URLs", len(urls) - len(failed), len(urls))
        return failed
