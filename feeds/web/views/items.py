"""One item's page, /items/<uid>."""

import re

from flask import Flask, Response, render_template

from feeds.web import pages
from feeds.web.views.respond import base_url, plain, service

# An item's uid as feeds.dumps.records.item_uid writes it.
_UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def register(app: Flask) -> None:
    app.get("/items/<uid>")(item_page)


def item_page(uid: str) -> Response | str:
    # Only what could be one of our uids is looked up: any other text is unknown, and
    # some (a NUL) PostgreSQL would refuse with an error instead of finding nothing.
    row = service().item(uid) if _UID.fullmatch(uid) else None
    if row is None:
        return plain(404, f"unknown item {uid[:40]!r}")
    agency = service().agencies.get(row.agency) if row.agency else None
    return render_template(
        "item.html",
        entry=service().entry(row, base_url()),
        agency=agency,
        is_govkz=pages.is_govkz,
    )
