"""Dump sources: expand paths, globs and URLs, and read their bytes."""

import codecs
import glob
import hashlib
import os
from collections.abc import Iterable, Iterator
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


CHUNK = 1 << 20  # bytes read at a time: a dump is never held whole unless it is not UTF-8
_BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class DumpBytes:
    """A dump checked by a first read: its sha256 (an unchanged file is skipped), its size,
    and whether it is UTF-8 (then it is read again chunk by chunk; another encoding is
    decoded whole by `feeds.dumps.decoding`). A URL's body is held, as it was fetched."""

    name: str
    sha256: str
    utf8: bool
    size: int
    path: str | None = None
    stamp: tuple[int, int] | None = None  # a file's (size, mtime in ns) at the first read
    data: bytes | None = None

    def chunks(self) -> Iterator[bytes]:
        """Its bytes again, chunk by chunk; a file that changed since the first read fails."""
        if self.data is not None:
            yield self.data
            return
        # A file rewritten since the first read has another size or time (what rsync and
        # make trust too): hashing it again would cost a tenth of a grown dump's ingest.
        self._check_unchanged()
        yield from _file_chunks(str(self.path), None)
        self._check_unchanged()

    def _check_unchanged(self) -> None:
        try:
            now = _stamp(os.stat(str(self.path)))
        except OSError as exc:
            raise SourceError(f"{self.name}: cannot read: {exc.strerror or exc}") from None
        if now != self.stamp:
            raise SourceError(f"{self.name}: changed while it was read; nothing of it was stored")

    def whole(self) -> bytes:
        return self.data if self.data is not None else b"".join(self.chunks())


def _file_chunks(path: str, max_bytes: int | None) -> Iterator[bytes]:
    try:
        with open(path, "rb") as handle:
            size = 0
            while chunk := handle.read(CHUNK):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise SourceError(f"{path}: larger than MAX_DUMP_BYTES ({max_bytes} bytes)")
                yield chunk
    except IsADirectoryError:
        raise SourceError(f"{path}: is a directory, not a dump") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _check(chunks: Iterable[bytes]) -> tuple[str, bool, int]:
    """(sha256, whether the bytes after a UTF-8 BOM are UTF-8, size) in one pass."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, first, size = True, True, 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        if first:
            first = False
            chunk = chunk.removeprefix(_BOM)
        if utf8:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return digest.hexdigest(), utf8, size


def _stamp(status: os.stat_result) -> tuple[int, int]:
    return status.st_size, status.st_mtime_ns


def scan_file(path: str, max_bytes: int) -> DumpBytes:
    """A dump file checked by one read, chunk by chunk (nothing of it kept)."""
    try:
        stamp = _stamp(os.stat(path))
    except OSError:
        stamp = None  # reading it says why
    return DumpBytes(path, *_check(_file_chunks(path, max_bytes)), path=path, stamp=stamp)


def scan_bytes(name: str, data: bytes) -> DumpBytes:
    return DumpBytes(name, *_check([data]), data=data)
