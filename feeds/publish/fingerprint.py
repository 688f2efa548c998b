"""What shapes a page's bytes besides the store's content: the catalog (agency names), the
topic names, the templates, the code, the WebSub hub and the ingest interval (the RSS
`<ttl>`). Shared pages and the shared Summary
are keyed by this fingerprint as well as by the content version, so that a deploy that
renames an agency or changes the code is seen in every page after a restart, even when no
ingest moved the content version."""

import hashlib
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from feeds.settings import Settings

PACKAGE = Path(__file__).resolve().parent.parent  # feeds/, all of it


@cache
def code_digest() -> str:
    """sha256 of the package's code, templates and static files, and its version."""
    digest = hashlib.sha256()
    try:
        digest.update(version("feeds").encode())
    except PackageNotFoundError:  # run from a source tree that is not installed
        digest.update(b"uninstalled")
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and path.suffix not in (".pyc", ".pyo"):
            digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def pages_fingerprint(settings: Settings) -> str:
    """32 hex digits; the same in every process of a deployment with the same files."""
    digest = hashlib.sha256(code_digest().encode())
    for path in (settings.agencies_file, settings.topics_file):
        digest.update(b"\0" + Path(path).read_bytes())
    digest.update(b"\0" + settings.websub_hub.encode())
    digest.update(b"\0" + repr(settings.ingest_interval).encode())  # the RSS <ttl>
    return digest.hexdigest()[:32]
