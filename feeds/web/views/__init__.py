"""The web application's views, one module per page or concern, as datasette's are:

- `feed`: the Atom, RSS and JSON feeds (everything, an agency, a topic, a search);
- `feedpages`: a feed's HTML page, at its own URL and at a feed URL opened in a browser;
- `search`: the search page;
- `index`: the index of every feed and the OPML;
- `items`: one item's page;
- `health`: /healthz, /metrics and the count of every answer;
- `errors`: the query-string limit, stale-if-error in outages, busy renders, HTTP errors;
- `respond`: what they share (the feed service, the public base, plain and 503 answers).

Views are registered on the app itself, not on blueprints: their endpoint names (`index`,
`agency_page`, `all_feed`...) are what the templates' `url_for` calls and
`feeds.web.stale.STORE_PAGES` name.
"""

from flask import Flask

from feeds.web.views import errors, feed, feedpages, health, index, items, search


def register(app: Flask) -> None:
    """Every route, hook and error handler, in the order the app has always had them (the
    after-request hooks run in reverse order of registration)."""
    errors.register_limit(app)
    feed.register(app)
    search.register(app)
    feedpages.register(app)
    index.register(app)
    items.register(app)
    health.register(app)
    errors.register_handlers(app)
