"""Dump sources: expand paths, globs and URLs, and read their bytes."""

import glob
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from feeds.errors import SourceError


@dataclass(frozen=True)
class Source:
    name: str  # the path or URL, as reported to the user and keyed in the store

    @property
    def is_url(self) -> bool:
        return urlsplit(self.name).scheme in {"http", "https"}


def expand(specs: list[str] | tuple[str, ...]) -> tuple[list[Source], list[SourceError]]:
    """Every source the specs name, in order, each once; a glob matching nothing is an error."""
    found: list[Source] = []
    errors: list[SourceError] = []
    seen: set[str] = set()
    for spec in specs:
        if urlsplit(spec).scheme in {"http", "https"} or not glob.has_magic(spec):
            names = [spec]
        else:
            names = sorted(glob.glob(os.path.expanduser(spec), recursive=True))
            if not names:
                errors.append(SourceError(f"{spec}: no file matches this pattern"))
        for name in names:
            if name not in seen:
                seen.add(name)
                found.append(Source(name))
    return found, errors


def read_file(path: str, max_bytes: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except IsADirectoryError:
        raise SourceError(f"{path}: is a directory, not a dump") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise SourceError(f"{path}: larger than MAX_DUMP_BYTES ({max_bytes} bytes)")
    return data
