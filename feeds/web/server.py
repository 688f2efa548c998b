"""Serving the web application with gunicorn from `feeds serve` (the same server as
`gunicorn wsgi:app` in production)."""

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from feeds.settings import Settings


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn with options from code; each worker builds its own app (and database pool)
    after the fork, so no connection is shared between processes."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from feeds.web.app import create_app

        return create_app(self.settings)


def serve(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run gunicorn; `on_ready` runs in the master once it listens (`feeds serve` starts
    its scheduler process there, so exactly one runs however many workers there are)."""
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "accesslog": "-",
        "loglevel": settings.log_level.lower(),
    }
    if on_ready:
        options["when_ready"] = lambda arbiter: on_ready()
    GunicornServer(settings, options).run()
