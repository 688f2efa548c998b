"""The web application (Flask): feeds, HTML pages, OPML and health (SPEC section 5); the
routes are in views/, one module per page.

`create_app(settings)` builds everything from settings it is given; nothing is read at
import time and no scheduler is started here (gunicorn forks workers; see wsgi.py).
"""

import logging
import math

from flask import Flask
from werkzeug.routing import BaseConverter

from feeds.errors import StoreError
from feeds.metrics import RENDERS, REQUESTS
from feeds.publish.catalog import load_agencies
from feeds.publish.feedmodel import FORMATS
from feeds.publish.feedservice import FeedService
from feeds.publish.fingerprint import pages_fingerprint
from feeds.settings import Settings, load_settings
from feeds.store import Store
from feeds.text.classify import load_topics
from feeds.text.links import LANGUAGE_SELF_NAMES, SLUG
from feeds.web import pages, views
from feeds.web.fastpath import FeedFastPath
from feeds.web.hosts import AllowedHosts, Hosts
from feeds.web.stale import StalePages
from feeds.web.views.errors import MAX_QUERY_BYTES, keep_for_outages

__all__ = ["MAX_QUERY_BYTES", "create_app"]
log = logging.getLogger(__name__)


class SlugConverter(BaseConverter):
    regex = SLUG


class FormatConverter(BaseConverter):
    regex = "|".join(FORMATS)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__)
    app.url_map.converters["slug"] = SlugConverter
    app.url_map.converters["fmt"] = FormatConverter
    app.config["FEEDS_SETTINGS"] = settings
    app.jinja_env.globals["language_name"] = lambda lang: LANGUAGE_SELF_NAMES.get(lang, lang)
    store = Store(settings.database_url, migrate=False)
    agencies, rules = load_agencies(settings.agencies_file), load_topics(settings.topics_file)
    fingerprint = pages_fingerprint(settings)
    _open(store, fingerprint)
    service = FeedService(
        store,
        agencies,
        rules,
        settings.site_url,
        on_render=RENDERS.inc,
        hub=settings.websub_hub,
        fingerprint=fingerprint,
        variant_bytes=settings.variant_cache_bytes,
        max_renders=settings.max_variant_renders,
        ttl=math.ceil(settings.ingest_interval / 60),
    )
    hosts = Hosts(settings.site_url, settings.allowed_hosts)
    app.extensions["feeds"] = service
    app.extensions["feeds.web.hosts"] = hosts
    app.extensions["feeds.web.stale"] = StalePages(settings.variant_cache_bytes)
    views.register(app)
    # after_request functions run last registered first: Vary is set before a copy is
    # kept, and the requests are counted with their final status (a 304 from `keep`).
    app.after_request(keep_for_outages)
    app.after_request(pages.feeds_for_browsers)
    count = lambda route, status: REQUESTS.labels(route, status).inc()  # noqa: E731
    fast = FeedFastPath(app.wsgi_app, service, int(settings.ingest_interval), count)
    app.wsgi_app = AllowedHosts(fast, hosts)  # type: ignore[method-assign]
    return app


def _open(store: Store, fingerprint: str) -> None:
    """Migrate the store and delete the shared pages of another fingerprint. A store that
    cannot be reached at all does not stop the process: gunicorn halts every worker when one
    fails to start, so a worker started again during an outage would take the others down;
    this one answers 503 until the store is back (`feeds serve` and `feeds db upgrade`
    migrate before any worker starts). A migration that fails is still an error."""
    try:
        store.revision()
    except StoreError as exc:
        log.warning("store unreachable at start (%s): answering 503 until it is back", exc)
        return
    store.migrate()
    store.keep_pages_of(fingerprint)
