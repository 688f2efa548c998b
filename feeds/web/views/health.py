"""What operators read: /healthz (200, or 503 with the store's state), /metrics, and the
count of every answer by route and status."""

from typing import Any

from flask import Flask, Response, request

from feeds.errors import StoreError
from feeds.metrics import REQUESTS, exposition
from feeds.web.views.respond import service


def register(app: Flask) -> None:
    app.get("/metrics")(metrics)
    app.after_request(count)
    app.get("/healthz")(healthz)


def metrics() -> Response:
    body, content_type = exposition(service().store)
    return Response(body, content_type=content_type)


def count(response: Response) -> Response:
    rule = request.url_rule.rule if request.url_rule else "unmatched"
    REQUESTS.labels(rule, str(response.status_code)).inc()
    return response


def healthz() -> tuple[dict[str, Any], int]:
    try:
        return service().health(), 200
    except StoreError as exc:
        return {"status": "error", "error": f"store unavailable: {exc.__class__.__name__}"}, 503
