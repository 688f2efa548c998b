"""The search page, /search (its feeds are feeds.web.views.feed's /search.<fmt>)."""

from flask import Flask, Response, render_template, request

from feeds.web import searchpage
from feeds.web.views.respond import base_url, service, with_link


def register(app: Flask) -> None:
    app.get("/search")(search_page)


def search_page() -> Response:
    return search_page_response()


def search_page_response(fmt: str = "") -> Response:
    status, context = searchpage.search_context(
        service(), request.args.to_dict(flat=False), base_url()
    )
    html = render_template("search.html", **context)
    response = Response(html, status=status, mimetype="text/html")
    if status != 200:
        return response
    return with_link(response, searchpage.SEARCH, fmt, context["query"])
