"""The baseline: a bare Flask app that answers with bytes it was given, nothing else.

`gunicorn bench.bare_app:app` with BENCH_BARE_MANIFEST naming a JSON file
`{"/all.atom": {"file": "...", "media_type": "...", "content_encoding": "gzip"}, ...}`:
each path answers 200 with that file's bytes (read once at start), whatever the request.
It measures what Flask and gunicorn cost, so the feeds app can be given as a ratio of it.
"""

import json
import os
from pathlib import Path

from flask import Flask, Response, abort


def create_app(manifest: str | None = None) -> Flask:
    manifest = manifest or os.environ["BENCH_BARE_MANIFEST"]
    answers = {}
    for path, spec in json.loads(Path(manifest).read_text()).items():
        answers[path] = (
            Path(spec["file"]).read_bytes(),
            spec["media_type"],
            spec.get("content_encoding"),
        )
    app = Flask(__name__)

    @app.get("/<path:path>")
    def answer(path: str) -> Response:
        found = answers.get(f"/{path}")
        if found is None:
            abort(404)
        body, media_type, encoding = found
        response = Response(body, mimetype=media_type)
        if encoding:
            response.content_encoding = encoding
        return response

    return app


app = create_app() if os.environ.get("BENCH_BARE_MANIFEST") else None
