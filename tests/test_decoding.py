"""Dumps in other encodings and with undecodable bytes: readable text, named problems."""

import codecs

from feeds.decoding import decode_dump
from feeds.errors import Problem
from feeds.ingest import parse_bytes

RUSSIAN = (
    "News\nВопросы развития села и малых городов рассмотрены 09.01.2026\n"
    "Вице-министр национальной экономики Бауыржан Омарбеков провёл приём граждан в общественной "
    "приёмной Центрального аппарата партии. В ходе встречи были обсуждены актуальные вопросы "
    "социально-экономического развития сельских территорий и малых городов.\n"
)


def test_utf8_with_and_without_bom() -> None:
    assert decode_dump(RUSSIAN.encode(), "a.txt") == (RUSSIAN, [])
    assert decode_dump(codecs.BOM_UTF8 + RUSSIAN.encode(), "a.txt") == (RUSSIAN, [])


def test_utf16_with_bom() -> None:
    assert decode_dump(RUSSIAN.encode("utf-16"), "a.txt") == (RUSSIAN, [])


def test_windows_1251_is_read_and_reported() -> None:
    text, problems = decode_dump(RUSSIAN.encode("cp1251"), "ru.txt")
    assert text == RUSSIAN
    assert problems == [
        Problem("ru.txt", None, "not UTF-8; read as cp1251 (guessed), please write dumps in UTF-8")
    ]


def test_undecodable_byte_names_line_and_keeps_the_rest() -> None:
    data = (
        "News\nTitle one 01.02.2026\nGood body.\nTitle two 01.02.2026\nÜber ".encode()
        + b"\xff"
        + b" body."
    )
    parsed = parse_bytes(data, "bad.txt")
    assert [r.title for r in parsed.records] == ["Title one", "Title two"]
    assert parsed.records[1].body == "Über \ufffd body."
    assert parsed.problems == [
        Problem(
            "bad.txt",
            5,
            "undecodable byte 0xff at byte 7 of the line (not UTF-8); replaced by U+FFFD",
        )
    ]
