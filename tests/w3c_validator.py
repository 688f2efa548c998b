"""Run the W3C feed validator (github.com/w3c/feedvalidator) locally and offline.

The validator's sources are never imported into the calling process: each `validate` call runs
them in a subprocess (``sys.executable``) with the validator's ``src`` directory on ``sys.path``,
the feed on stdin and its messages returned as JSON on stdout. In that subprocess every socket
connection and name lookup is refused and libxml2 (DTD validation) is hidden, so nothing is ever
fetched. The validator needs ``html5lib`` in the interpreter running the tests (and ``rdflib``
for RSS 1.0 RDF checks, which are skipped silently without it).

Where the sources come from, see `validator_dir`. Usage from the command line::

    python tests/w3c_validator.py [--url URL] [--content-type TYPE] FILE...
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_GIT_DIR = "/work/.mirror/w3c+feedvalidator/repo"
DEFAULT_URL = "http://127.0.0.1/feed.atom"
_COMMIT_FILE = ".commit"
_UNAVAILABLE_EXIT = 3

# Runs in the subprocess: argv = [src_dir, url, content_type]; the feed's bytes on stdin.
_RUNNER = """
import io, json, socket, sys

src, url, content_type = sys.argv[1], sys.argv[2], sys.argv[3] or None
sys.path.insert(0, src)
out, sys.stdout = sys.stdout, sys.stderr


def _offline(*args, **kwargs):
    raise OSError("network access disabled by tests/w3c_validator.py")


for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr",
             "create_connection"):
    setattr(socket, name, _offline)
socket.socket.connect = socket.socket.connect_ex = _offline
sys.modules["libxml2"] = None  # its DTD validation could load DTDs from the network

try:
    import html5lib  # imported lazily by feedvalidator.validators; fail early and clearly
    import feedvalidator
    import feedvalidator.validators
    from feedvalidator import compatibility
    from feedvalidator.formatter.text_plain import Formatter
    from feedvalidator.logging import Error, ValidationFailure
except ImportError as exc:
    print(f"cannot import the feed validator: {exc!r}", file=sys.stderr)
    sys.exit(3)

data = sys.stdin.buffer.read()
try:
    events = feedvalidator.validateStream(
        io.BytesIO(data), firstOccurrenceOnly=0, contentType=content_type, base=url
    )["loggedEvents"]
except ValidationFailure as failure:
    events = [failure.event]
events = compatibility.AA(events)  # errors and warnings, as the online validator shows
formatter = Formatter(events)
messages = []
for event in events:
    line, column = event.params.get("line"), event.params.get("column")
    messages.append({
        "level": "error" if isinstance(event, Error) else "warning",
        "type": type(event).__name__,
        "text": formatter.getMessage(event),
        "line": line if isinstance(line, int) else None,
        "column": column if isinstance(column, int) else None,
    })
json.dump(messages, out)
"""


class ValidatorUnavailable(RuntimeError):
    """The validator's sources or its dependencies (html5lib) cannot be found."""


@dataclass(frozen=True)
class Message:
    level: str  # "error" or "warning"
    type: str  # the validator's message class, e.g. "MissingElement"
    text: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line is not None else ""
        return f"{where}{self.level} {self.type}: {self.text}"


def _git(git_dir: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], capture_output=True, check=True, timeout=120
    )


@functools.cache
def _extract(git_dir: str) -> Path | None:
    """Extract HEAD of `git_dir` (``src`` and ``LICENSE``) once into the temporary directory."""
    if shutil.which("git") is None or not Path(git_dir).is_dir():
        return None
    try:
        sha = _git(git_dir, "rev-parse", "--verify", "HEAD^{commit}").stdout.decode().strip()
        target = Path(tempfile.gettempdir()) / f"feedvalidator-{sha[:12]}"
        if (target / _COMMIT_FILE).is_file():
            return target
        archive = _git(git_dir, "archive", "--format=tar", sha, "--", "src", "LICENSE").stdout
    except (OSError, subprocess.SubprocessError):
        return None
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(staging, filter="data")
            else:  # Python < 3.11.4; the archive comes from our own git, not from outside
                tar.extractall(staging)
        (staging / _COMMIT_FILE).write_text(sha + "\n", encoding="ascii")
        try:
            staging.rename(target)
        except OSError:  # extracted concurrently by another process
            if not (target / _COMMIT_FILE).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def validator_dir() -> Path | None:
    """The validator's source tree (the directory holding ``src/feedvalidator``).

    ``$FEEDVALIDATOR_DIR`` if set; otherwise HEAD of the git directory ``$FEEDVALIDATOR_GIT``
    (default ``/work/.mirror/w3c+feedvalidator/repo``), extracted once to
    ``<tempdir>/feedvalidator-<commit>``. None if neither is there.
    """
    configured = os.environ.get("FEEDVALIDATOR_DIR")
    if configured:
        path = Path(configured).expanduser().resolve()
        return path if _src_dir(path) else None
    return _extract(os.environ.get("FEEDVALIDATOR_GIT") or DEFAULT_GIT_DIR)


def _src_dir(root: Path) -> Path | None:
    for candidate in (root / "src", root):
        if (candidate / "feedvalidator" / "__init__.py").is_file():
            return candidate
    return None


def commit() -> str | None:
    """The commit of the validator in use, if known."""
    root = validator_dir()
    if root is None:
        return None
    marker = root / _COMMIT_FILE
    if marker.is_file():
        return marker.read_text(encoding="ascii").strip()
    if not (root / ".git").exists():  # a plain export: its commit is not recorded
        return None
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            check=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.decode().strip() or None


def validate(
    feed_bytes: bytes,
    url: str = DEFAULT_URL,
    *,
    content_type: str | None = None,
) -> list[Message]:
    """The validator's errors and warnings for a feed.

    `url` is the feed's supposed location: it is the base for relative links and what
    ``rel="self"`` links are compared with (a mismatch is a ``SelfDoesntMatchLocation`` warning).
    `content_type` is the HTTP Content-Type header to check as well, e.g.
    ``"application/atom+xml; charset=utf-8"``; None checks none.

    Raises ValidatorUnavailable if the sources or html5lib are missing.
    """
    root = validator_dir()
    src = _src_dir(root) if root is not None else None
    if src is None:
        raise ValidatorUnavailable(
            "feed validator sources not found: set FEEDVALIDATOR_DIR or FEEDVALIDATOR_GIT"
        )
    env = {**os.environ, "LANGUAGE": "en", "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(src), url, content_type or ""],
        input=feed_bytes,
        capture_output=True,
        env=env,
        timeout=300,
    )
    stderr = result.stderr.decode("utf-8", "replace").strip()
    if result.returncode == _UNAVAILABLE_EXIT:
        raise ValidatorUnavailable(stderr)
    if result.returncode != 0:
        raise RuntimeError(f"feed validator failed (exit {result.returncode}):\n{stderr}")
    return [Message(**message) for message in json.loads(result.stdout)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate feed files with the W3C validator.")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "--url", default=DEFAULT_URL, help="the feed's location (default: %(default)s)"
    )
    parser.add_argument("--content-type", help="HTTP Content-Type to check as well")
    args = parser.parse_args(argv)
    try:
        print(f"feed validator {commit() or '(unknown commit)'} in {validator_dir()}")
        failed = False
        for path in args.files:
            messages = validate(path.read_bytes(), args.url, content_type=args.content_type)
            errors = sum(message.level == "error" for message in messages)
            print(f"{path}: {errors} error(s), {len(messages) - errors} warning(s)")
            for message in messages:
                print(f"  {message}")
            failed = failed or errors > 0
    except ValidatorUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
