"""WSGI entry point for production: `gunicorn wsgi:app`.

Builds the web application from the settings (config/feeds.toml, FEEDS_* variables). It
never starts a scheduler: gunicorn forks workers, and exactly one scheduler must run
(`feeds schedule`, or `feeds serve` in-process).
"""

from feeds.web.app import create_app

app = create_app()
