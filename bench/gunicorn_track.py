"""gunicorn config (`-c bench/gunicorn_track.py`) for the memory benchmark only: each worker
appends the path of every request it served to BENCH_TRACK_DIR/<pid>.paths, so the
benchmark knows when every worker has served every feed."""

import os


def post_request(worker, req, environ, resp):
    folder = os.environ.get("BENCH_TRACK_DIR")
    if folder:
        with open(os.path.join(folder, f"{os.getpid()}.paths"), "a") as handle:
            handle.write(req.path + "\n")
