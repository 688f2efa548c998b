"""The parse's faster code (issue 31) against compact copies of the code before it (c52c569),
on generated hostile text: the same cleaned lines and counts of removed characters, the same
look-alike repairs, languages and gov.kz links, so the same records, hashes and entry ids;
and the bytes the content hash hashes against json.dumps's."""

import hashlib
import json
import re
import sys
import uuid
from urllib.parse import parse_qs

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.dumps.dumpparse import _cleaned, clean_line
from feeds.dumps.itemparse import parse_bytes
from feeds.dumps.records import _ID_NAMESPACE, content_hash, item_uid, json_bytes
from feeds.text.language import _KAZAKH, _KAZAKH_SHARE, detect_language
from feeds.text.links import (
    _ENTITY_PATH,
    DEFAULT_LANG,
    GOVKZ_HOSTS,
    LANGUAGES,
    MAX_KIND,
    GovkzLink,
    parse_govkz_link,
    split_url,
)
from feeds.text.textclean import (
    _MIXED_WORD,
    _REMOVED,
    _SCRIPTS_TOUCH,
    _fix_word,
    collapse_spaces,
    decode_references,
    fix_lookalikes,
    has_cyrillic,
    remove_unsafe_chars,
)
from tests.conftest import SAMPLE_DUMPS

PIECES = st.sampled_from(
    [
        "Majilis", "Рreventive", "Мажилис", "Қазақстан", "NҚ", "Кazakhstan", "іс", "Ӏ", "ԯ",
        "Ա", "ա", "\u0500", "\u052f", "\u0530", "\u04ff", "\u0400", "10.01.2026", "2026",
        "Source : https://www.gov.kz/memleket/entities/mfa/press/news/details/1?lang=en",
        "&amp;", "&#8238;", "&#10;", "&nbsp;", "&notify=1", "&", ";", " ", "  ", "\t", "\xa0",
        "\u2009", "\u3000", "\x85", "\u2028", "\x0b", "\x1c", "\x00", "\x7f", "\x9f", "\u00ad",
        "\ufeff", "\u200b", "\u200f", "\u202e", "\u2066", "\ufffe", "\ud800", "’", "«", "»",
        "é", "ſ", "😀", "a", "Z", "ж", "\u0301",
    ]
)  # fmt: skip
TEXTS = st.lists(PIECES, max_size=25).map("".join) | st.text(max_size=40)


def old_clean_line(raw: str) -> tuple[str, int]:
    text, removed = remove_unsafe_chars(decode_references(raw))
    return collapse_spaces(text), removed


_OLD_SCRIPTS_TOUCH = re.compile(
    "[A-Za-z\u00c0-\u024f][\u0400-\u052f]|[\u0400-\u052f][A-Za-z\u00c0-\u024f]"
)


def old_fix_lookalikes(text: str) -> str:
    if not re.search("[\u0400-\u052f]", text) or not _OLD_SCRIPTS_TOUCH.search(text):
        return text
    return _MIXED_WORD.sub(_fix_word, text)


def old_detect_language(text: str) -> str:
    if not re.search("[\u0400-\u04ff]", text):
        return "en"
    cyrillic = len(re.findall("[\u0400-\u04ff]", text))
    if cyrillic <= len(re.findall("[A-Za-z]", text)):
        return "en"
    return "kk" if len(_KAZAKH.findall(text)) >= _KAZAKH_SHARE * cyrillic else "ru"


def test_no_printable_character_is_removed_or_a_blank_but_the_space() -> None:
    # What the line cleaning's shortcut for printable lines rests on, for every code point.
    printable = [chr(point) for point in range(sys.maxunicode + 1) if chr(point).isprintable()]
    assert not [char for char in printable if _REMOVED.match(char)]
    assert [char for char in printable if char.isspace()] == [" "]


@settings(max_examples=4000, deadline=None)
@given(TEXTS)
def test_lines_cleaned_as_before(raw: str) -> None:
    assert _cleaned(raw) == old_clean_line(raw)
    assert clean_line(raw) == old_clean_line(raw)[0]


@settings(max_examples=3000, deadline=None)
@given(TEXTS)
def test_lookalikes_fixed_as_before(text: str) -> None:
    assert has_cyrillic(text) == bool(re.search("[\u0400-\u052f]", text))
    touch = _SCRIPTS_TOUCH.search(text) is not None
    assert touch == (_OLD_SCRIPTS_TOUCH.search(text) is not None)
    assert fix_lookalikes(text) == old_fix_lookalikes(text)


@settings(max_examples=3000, deadline=None)
@given(
    TEXTS
    | st.lists(st.sampled_from(["ә", "Қ", "о", "Z", "a", " ", "ж", "é"]), max_size=300).map("".join)
)
def test_language_detected_as_before(text: str) -> None:
    assert detect_language(text) == old_detect_language(text)


def old_parse_govkz_link(url: str) -> GovkzLink | None:
    parts = split_url(url)
    if parts is None or (parts.hostname or "").lower() not in GOVKZ_HOSTS or parts.username:
        return None
    if parts.port is not None and parts.port != {"http": 80, "https": 443}.get(
        parts.scheme.lower()
    ):
        return None
    match = _ENTITY_PATH.match(parts.path)
    if not match or len(match["kind"].strip("/")) > MAX_KIND:
        return None
    lang = parse_qs(parts.query).get("lang", [DEFAULT_LANG])[0].lower()
    return GovkzLink(
        url=url,
        agency=match["agency"].lower(),
        kind=match["kind"].strip("/").lower(),
        id=match["id"],
        lang=lang if lang in LANGUAGES else DEFAULT_LANG,
    )


URL_PIECES = st.sampled_from(
    [
        "https://", "http://", "HTTPS://", "https:/", "www.gov.kz", "gov.kz", "WWW.GOV.KZ",
        "www.gov.kz.evil", "user@", ":443", ":80", ":8080", ":x", "[", "/memleket/entities/",
        "/memleket/", "entities/", "mfa", "MFA", "mfa-washington", "_x", "-", "press/news/",
        "press/", "news/", "documents/", "details/", "1", "1143907", "0" * 33, "x" * 70,
        "/", "//", "?lang=", "?lang=en", "?lang=RU", "?lang=kk", "?lang=de", "&lang=ru",
        "?x=1", "#frag", "%20", " ", "\t", "\n", "\x00", "é", "ж", ";", ".", "?",
    ]
)  # fmt: skip
LINKS = st.lists(URL_PIECES, max_size=14).map("".join) | st.builds(
    "https://www.gov.kz/memleket/entities/{}/{}details/{}{}".format,
    st.sampled_from(["mfa", "MFA", "a" * 128, "a" * 129, "-x", "x_y", "ж"]),
    st.sampled_from(["press/news/", "", "press//", "a/" * 40, "Press/Article/"]),
    st.sampled_from(["1", "12345678901234567890123456789012", "1" * 33, "x", ""]),
    st.sampled_from(["", "/", "?lang=en", "?lang=ru", "?lang=kk", "?lang=EN", "?lang=", "#x"]),
)


@settings(max_examples=4000, deadline=None)
@given(LINKS)
def test_govkz_links_read_as_before(url: str) -> None:
    assert parse_govkz_link(url) == old_parse_govkz_link(url)


# Any character at all, lone surrogates too, with the ones JSON escapes often.
JSON_TEXT = st.text(
    st.characters(blacklist_categories=()) | st.sampled_from('"\\\n\r\t\x00\x1f\x7f’é'),
    max_size=40,
)
JSON_PARTS = st.tuples(
    JSON_TEXT,
    JSON_TEXT,
    st.none() | JSON_TEXT,
    st.lists(JSON_TEXT, max_size=3).map(tuple),
    st.dates() | st.datetimes(),
    st.none() | st.integers() | st.booleans() | st.lists(st.none() | JSON_TEXT, max_size=2),
)


def old_json_bytes(parts: tuple) -> bytes:
    """What content_hash hashed before issue 31."""
    return json.dumps(parts, ensure_ascii=False, default=str).encode()


@settings(max_examples=4000, deadline=None)
@given(JSON_PARTS)
def test_content_hashes_hash_the_same_json_as_before(parts: tuple) -> None:
    """The hash of an item's title, body, link, sources and day is stored: the bytes hashed
    are json.dumps's to the byte, and a text that cannot be UTF-8 fails as it did."""
    try:
        expected: bytes | type[Exception] = old_json_bytes(parts)
    except UnicodeEncodeError:
        expected = UnicodeEncodeError
    try:
        found: bytes | type[Exception] = json_bytes(parts)
    except UnicodeEncodeError:
        found = UnicodeEncodeError
    assert found == expected


def test_the_sample_dumps_items_keep_their_hashes() -> None:
    for dump in SAMPLE_DUMPS:
        for record in parse_bytes(dump.read_bytes(), dump.name).records:
            parts = (record.title, record.body, record.link, record.other_sources, record.day)
            assert content_hash(*parts) == hashlib.sha256(old_json_bytes(parts)).hexdigest()


@settings(max_examples=3000, deadline=None)
@given(JSON_TEXT)
def test_entry_ids_are_uuid5s_as_before(key: str) -> None:
    """An item's uid (its Atom id, its permalink) is uuid5 of its key, to the character;
    a key that cannot be UTF-8 fails as uuid5 fails."""
    try:
        expected = str(uuid.uuid5(_ID_NAMESPACE, key))
    except UnicodeEncodeError:
        expected = "UnicodeEncodeError"
    try:
        found = item_uid(key)
    except UnicodeEncodeError:
        found = "UnicodeEncodeError"
    assert found == expected


def test_the_sample_dumps_items_keep_their_entry_ids() -> None:
    for dump in SAMPLE_DUMPS:
        for record in parse_bytes(dump.read_bytes(), dump.name).records:
            assert item_uid(record.key) == str(uuid.uuid5(_ID_NAMESPACE, record.key))
