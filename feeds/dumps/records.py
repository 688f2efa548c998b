"""Pure mapping of parsed dump items to store records: identity, dates, content hash.

Identity (SPEC section 3): a *release* with a gov.kz link is its link's content kind and id;
one without is its normalized title and date. A release has a version per language of its
text, and each version is an entry: its key is the release's plus that language. The Atom id
is a UUID derived from the version key alone, so it is the same in every feed, after
restarts, in any ingest order and in a rebuilt database.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from feeds.dumps.dumpparse import ParsedItem
from feeds.errors import Problem
from feeds.text.language import detect_language
from feeds.text.textclean import normalize_title

KAZAKHSTAN = timezone(
    timedelta(hours=5), "+05:00"
)  # Asia/Almaty has been UTC+5 all year since 2024
_ID_NAMESPACE = uuid.UUID("6f3f2a5e-1c1b-4b53-9d7e-2f8a51c0a6d1")  # fixed forever: ids depend on it


@dataclass(frozen=True)
class ItemRecord:
    key: str  # the version: release + language
    release: str
    kind: str | None
    govkz_id: str | None
    agency: str | None
    link: str | None
    link_lang: str | None
    other_sources: tuple[str, ...]
    section: str | None
    title: str
    body: str
    day: date
    published: datetime
    lang: str
    content_hash: str
    position: int
    line: int

    @property
    def sort_key(self) -> int:
        return sort_key(self.published, self.position)


MAX_KEY = 512  # items.key is VARCHAR(512): PostgreSQL refuses a longer one (and the ingest)
MAX_RELEASE = MAX_KEY - 8  # room for the version's "#" + language
_KEPT_TITLE = 400  # of a too long normalized title, kept readable before its hash


def release_key(item: ParsedItem) -> str:
    if item.link:
        return f"govkz:{item.link.kind}:{item.link.id}"
    return bounded_release(f"title:{item.day.isoformat()}:{normalize_title(item.title)}")


def bounded_release(key: str) -> str:
    """A release key that fits the column: a title of thousands of characters keeps its
    start, then a hash of the whole, so titles differing only near their end stay apart."""
    if len(key) <= MAX_RELEASE:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[:_KEPT_TITLE]}:sha256:{digest}"


def version_key(release: str, lang: str) -> str:
    """The key of a release's version in one language: what the Atom id derives from."""
    return f"{release}#{lang}"


_NAMESPACE_BYTES = _ID_NAMESPACE.bytes


def item_uid(key: str) -> str:
    """The permanent UUID of a version key: its Atom id and its permalink. It is
    `str(uuid.uuid5(_ID_NAMESPACE, key))`, made as uuid5 makes it (SHA-1 of the namespace and
    the key, its version and variant bits set) without a UUID object, whose checks, integer
    and formatting were two thirds of its cost (5 µs an item ingested, and one per entry of
    every feed rendered)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + key.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the variant of RFC 4122
    hexed = digest.hex()
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"


def atom_id(key: str) -> str:
    """The permanent entry id for a version key."""
    return f"urn:uuid:{item_uid(key)}"


def day_start(day: date) -> datetime:
    """When a dump's day starts: midnight in Kazakhstan."""
    return datetime.combine(day, time(0, 0), KAZAKHSTAN)


LANGUAGE_SAMPLE = 1500  # characters of the body enough to tell its language
POSITIONS = 1_000_000  # items of one day keep the dump's order up to this many


def sort_key(published: datetime, position: int) -> int:
    """One integer ordering items newest first, then in dump order within the same time."""
    return int(published.timestamp()) * POSITIONS + (POSITIONS - 1 - min(position, POSITIONS - 1))


# `json.dumps(parts, ensure_ascii=False, default=str)` made an encoder at every call (1.5 µs).
_JSON = json.JSONEncoder(ensure_ascii=False, default=str)
# The bytes JSON writes escaped, besides the quote, the backslash and the line end.
_CONTROLS = bytes(range(0x20)).replace(b"\n", b"")


def content_hash(*parts: object) -> str:
    """sha256 of the parts as JSON (`json_bytes`): stored with every item, so an item whose
    text, link, sources and day are unchanged is known unchanged."""
    return hashlib.sha256(json_bytes(parts)).hexdigest()


def json_bytes(parts: tuple[object, ...]) -> bytes:
    """`json.dumps(parts, ensure_ascii=False, default=str).encode()`, exactly (the stored
    hashes depend on it). Each string is escaped in its UTF-8 bytes by a few C passes (JSON
    escapes only ASCII characters, and no byte of a longer UTF-8 sequence is one): the
    encoder's pass over every character of a body was 7 µs an item (issue 31)."""
    return b"[" + b", ".join(map(_json_part, parts)) + b"]"


def _json_part(part: object) -> bytes:
    if isinstance(part, str):
        data = part.encode()  # a lone surrogate raises here, as json.dumps(...).encode() did
        if len(data.translate(None, _CONTROLS)) == len(data):  # else: \u00XX, the encoder's
            escaped = data.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\n", b"\\n")
            return b'"' + escaped + b'"'
    elif part is None:
        return b"null"
    elif isinstance(part, tuple | list):
        return b"[" + b", ".join(map(_json_part, part)) + b"]"
    elif isinstance(part, date):  # default=str: its ISO form, in which JSON escapes nothing
        return b'"' + str(part).encode() + b'"'
    return _JSON.encode(part).encode()


def to_record(item: ParsedItem) -> ItemRecord:
    link = item.link
    release = release_key(item)
    lang = detect_language(f"{item.title}\n{item.body[:LANGUAGE_SAMPLE]}")
    return ItemRecord(
        key=version_key(release, lang),
        release=release,
        kind=link.kind if link else None,
        govkz_id=link.id if link else None,
        agency=link.agency if link else None,
        link=link.url if link else None,
        link_lang=link.lang if link else None,
        other_sources=item.other_sources,
        section=item.section,
        title=item.title,
        body=item.body,
        day=item.day,
        published=day_start(item.day),
        lang=lang,
        content_hash=content_hash(
            item.title, item.body, link.url if link else None, item.other_sources, item.day
        ),
        position=item.position,
        line=item.line,
    )


def to_records(items: list[ParsedItem], source: str) -> tuple[list[ItemRecord], list[Problem]]:
    """Records of a dump's items; a repeated version keeps its first (newest) occurrence
    (the same release in another language is another version, kept too)."""
    first_line: dict[str, int] = {}
    records: list[ItemRecord] = []
    problems: list[Problem] = []
    for item in items:
        record = to_record(item)
        if record.key in first_line:
            problems.append(
                Problem(
                    source, item.line, f"same item as line {first_line[record.key]}; kept the first"
                )
            )
            continue
        first_line[record.key] = item.line
        records.append(record)
    return records, problems
