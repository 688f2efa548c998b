"""Dumps in other encodings and with undecodable bytes: readable text, named problems."""

import codecs
from pathlib import Path

import pytest

from feeds.dumps.decoding import decode_dump
from feeds.errors import Problem
from feeds.ingest import parse_bytes
from tests.conftest import SAMPLE_DUMPS

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


@pytest.mark.parametrize("encoding", ["cp1251", "kz1048", "koi8_r", "cp866", "cp1252"])
@pytest.mark.parametrize("dump", SAMPLE_DUMPS, ids=lambda path: path.name[:3])
def test_a_sample_dump_in_a_legacy_encoding_reads_as_its_text(encoding: str, dump: Path) -> None:
    """gov.kz's texts in the encodings they were written in before UTF-8: every character
    the encoding holds comes back (charset-normalizer alone read the cp1251 English dump as
    cp850, garbling its quotes and its Russian titles)."""
    data = dump.read_text(encoding="utf-8").encode(encoding, errors="replace")
    text, problems = decode_dump(data, dump.name)
    assert text == data.decode(encoding)
    (problem,) = problems
    assert problem.line is None and problem.message.startswith("not UTF-8; read as ")
    assert parse_bytes(data, dump.name).records == parse_bytes(text.encode(), dump.name).records


def test_a_kazakh_dump_in_kz1048_keeps_its_letters() -> None:
    kazakh = (
        "News\nҚазақстан мен Өзбекстан ынтымақтастығы талқыланды 09.01.2026\n"
        "Сыртқы істер министрі Қазақстанның өңірлік саясатының басымдықтарын атап өтті.\n"
    )
    text, problems = decode_dump(kazakh.encode("kz1048"), "kk.txt")
    assert text == kazakh
    assert problems == [
        Problem("kk.txt", None, "not UTF-8; read as kz1048 (guessed), please write dumps in UTF-8")
    ]


def test_items_appended_in_cp1251_to_a_utf8_dump_are_read_as_cp1251() -> None:
    """Another scraper's items, in Windows-1251, after UTF-8 ones: each of their lines is read
    as cp1251 and named; they used to be U+FFFD titles, the second taken for the first."""
    utf8 = SAMPLE_DUMPS[0].read_bytes()
    lines = utf8.count(b"\n") + 1
    appended = (
        "Вопросы развития села рассмотрены 08.01.2026\nВице-министр провёл приём граждан.\n"
        "Налоговые изменения обсуждены 08.01.2026\nОбсуждены «налоговые» изменения.\n"
    )
    parsed = parse_bytes(utf8 + b"\n" + appended.encode("cp1251"), "mixed.txt")
    alone = parse_bytes(utf8, "mixed.txt")
    assert parsed.records[: len(alone.records)] == alone.records
    added = parsed.records[len(alone.records) :]
    assert [(r.title, r.body, r.lang) for r in added] == [
        ("Вопросы развития села рассмотрены", "Вице-министр провёл приём граждан.", "ru"),
        ("Налоговые изменения обсуждены", "Обсуждены «налоговые» изменения.", "ru"),
    ]
    message = "not UTF-8; read as cp1251 (guessed), please write dumps in UTF-8"
    assert parsed.problems == alone.problems + [
        Problem("mixed.txt", line, message) for line in range(lines + 1, lines + 5)
    ]


def test_a_damaged_byte_in_an_ascii_line_is_not_taken_for_an_encoding() -> None:
    data = b"News\nTitle one 01.02.2026\nA \xff body.\nTitle two 01.02.2026\nMinis\xffter.\n"
    text, problems = decode_dump(data, "bad.txt")
    assert (
        text
        == "News\nTitle one 01.02.2026\nA \ufffd body.\nTitle two 01.02.2026\nMinis\ufffdter.\n"
    )
    assert [(p.line, p.message[:30]) for p in problems] == [
        (3, "undecodable byte 0xff at byte "),
        (5, "undecodable byte 0xff at byte "),
    ]


def test_a_byte_the_guessed_encoding_has_no_character_for_is_replaced_and_told() -> None:
    """cp1251 has no 0x98: the strict decode of the chosen encoding used to raise."""
    text, problems = decode_dump(RUSSIAN.encode("cp1251") + b"stray \x98 byte\n", "ru.txt")
    assert text == RUSSIAN + "stray \ufffd byte\n"
    assert problems == [
        Problem(
            "ru.txt",
            None,
            "not UTF-8; read as cp1251 (guessed), please write dumps in UTF-8; "
            "1 byte(s) that cp1251 has no character for replaced by U+FFFD",
        )
    ]


def test_an_english_utf8_dump_with_few_quotes_and_cp1251_items_appended_is_read_by_line() -> None:
    """Its Cyrillic bytes outnumber its UTF-8 quotes, yet it is a UTF-8 dump: whole lines of
    it are good UTF-8 (read whole as Mac Cyrillic, every quote became "вАЬ")."""
    link = "https://www.gov.kz/memleket/entities/akimat/press/news/details/{}?lang=en"
    english = "World\n" + "".join(
        f"Minister “Smith” opened plant {i} 20.12.2025\nThe mayor’s words.\n"
        f"Source : {link.format(i)}\n"
        for i in range(1, 6)
    )
    russian = "Министерство финансов сообщает о налогах и бюджете страны 10.01.2026\n" * 6
    text, problems = decode_dump(english.encode() + russian.encode("cp1251"), "d.txt")
    assert text == english + russian
    message = "not UTF-8; read as cp1251 (guessed), please write dumps in UTF-8"
    assert problems == [Problem("d.txt", line, message) for line in range(17, 23)]


def test_kazakh_typed_in_cp1251_with_latin_letters_for_its_own_is_read_as_cp1251() -> None:
    """cp1251 has no қ, ң, ә, і: people type к, н, а and a Latin "i". A Latin letter beside a
    Cyrillic one counted against the table, and the dump came out as U+FFFD."""
    typed = (
        "Жаналыктар\nКазакстан Республикасынын Каржы министрлiгi салык ережелерiн жариялады "
        "10.01.2026\nМинистрлiк мaлiметi бойынша, бул озгерiстер бизнеске комектеседi.\n"
    ) * 20
    text, problems = decode_dump(typed.encode("cp1251"), "kk.txt")
    assert text == typed
    assert problems == [
        Problem("kk.txt", None, "not UTF-8; read as cp1251 (guessed), please write dumps in UTF-8")
    ]


def test_an_undecodable_byte_is_named_at_its_line_in_a_file_of_cr_line_ends() -> None:
    """Lines end as an editor ends them (CR, CRLF, LF): they were counted by LF alone."""
    data = b"News\rTitle one 01.02.2026\r\nBody \xff one.\rTitle two 01.02.2026\nOk."
    text, problems = decode_dump(data, "cr.txt")
    assert text == "News\rTitle one 01.02.2026\r\nBody \ufffd one.\rTitle two 01.02.2026\nOk."
    assert problems == [
        Problem(
            "cr.txt",
            3,
            "undecodable byte 0xff at byte 6 of the line (not UTF-8); replaced by U+FFFD",
        )
    ]
