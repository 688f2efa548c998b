"""The command line, run as users run it: a real `feeds` process, real files, a real HTTP
server on 127.0.0.1 for URL sources."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import PROJECT, SAMPLE_DUMPS
from tests.fake_portal import RawHeaders

SAMPLE = SAMPLE_DUMPS[0]
CONSOLE_SCRIPT = Path(sys.executable).with_name("feeds")  # pyproject's [project.scripts]


def feeds(
    *args: str, database: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")},
        "FEEDS_DATABASE_URL": f"sqlite:///{database}",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "feeds", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


TIMED = re.compile(r", in \d+\.\d s \([\d,]+ items/s\)$")


def untimed(stdout: str) -> list[str]:
    """The report's lines, each source's summary without its time and items/s (checked)."""
    lines = stdout.splitlines()
    for line in lines:
        if " items found, " in line:
            assert TIMED.search(line), line
    return [TIMED.sub("", line) for line in lines]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "cli.sqlite3"


def test_ingest_configured_dumps_then_again(database: Path) -> None:
    first = feeds("ingest", database=database)
    assert first.returncode == 0, first.stderr
    assert untimed(first.stdout) == [
        f"{SAMPLE_DUMPS[0]}: 19 items found, 19 new, 0 updated, 0 unchanged, 0 problems",
        f"{SAMPLE_DUMPS[1]}: 18 items found, 18 new, 0 updated, 0 unchanged, 0 problems",
        "total: 2 sources (0 not read), 37 new, 0 updated",
    ]
    assert first.stderr == ""
    second = feeds("ingest", database=database)
    assert untimed(second.stdout) == [
        f"{SAMPLE_DUMPS[0]}: unchanged since the last ingest, skipped (--force reads it)",
        f"{SAMPLE_DUMPS[1]}: unchanged since the last ingest, skipped (--force reads it)",
        "total: 2 sources (0 not read), 0 new, 0 updated",
    ]
    forced = feeds("ingest", "--force", database=database)
    assert (
        untimed(forced.stdout)[0]
        == f"{SAMPLE_DUMPS[0]}: 19 items found, 0 new, 0 updated, 19 unchanged, 0 problems"
    )


def test_ingest_glob_url_and_failures_keep_going(
    database: Path, tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/world.txt").respond_with_data(SAMPLE_DUMPS[1].read_bytes())
    httpserver.expect_request("/gone.txt").respond_with_data("no", status=404)
    missing = tmp_path / "missing.txt"
    result = feeds(
        "ingest",
        str(missing),
        str(SAMPLE.parent / "000_*.txt"),
        httpserver.url_for("/gone.txt"),
        httpserver.url_for("/world.txt"),
        str(tmp_path / "none-*.txt"),
        database=database,
    )
    assert result.returncode == 1
    assert untimed(result.stdout) == [
        f"{SAMPLE}: 19 items found, 19 new, 0 updated, 0 unchanged, 0 problems",
        f"{httpserver.url_for('/world.txt')}: 18 items found, 18 new, 0 updated, 0 unchanged, 0 problems",
        "total: 5 sources (3 not read), 37 new, 0 updated",
    ]
    assert result.stderr.splitlines() == [
        f"{tmp_path}/none-*.txt: NOT READ: {tmp_path}/none-*.txt: no file matches this pattern",
        f"{missing}: NOT READ: {missing}: cannot read: No such file or directory",
        f"{httpserver.url_for('/gone.txt')}: NOT READ: {httpserver.url_for('/gone.txt')}: HTTP 404 NOT FOUND",
    ]


def test_a_dump_url_redirecting_to_what_urllib_refuses_is_not_read_and_the_rest_is(
    database: Path, httpserver: HTTPServer
) -> None:
    """requests raises ValueError, no RequestException, for such a Location."""
    httpserver.expect_request("/moved.txt").respond_with_handler(
        lambda request: RawHeaders("", status=301, headers={"Location": "http://[::1/dump.txt"})
    )
    moved = httpserver.url_for("/moved.txt")
    result = feeds("ingest", moved, str(SAMPLE), database=database)
    assert result.returncode == 1
    assert untimed(result.stdout) == [
        f"{SAMPLE}: 19 items found, 19 new, 0 updated, 0 unchanged, 0 problems",
        "total: 2 sources (1 not read), 19 new, 0 updated",
    ]
    assert result.stderr.splitlines() == [
        f"{moved}: NOT READ: {moved}: a URL urllib cannot parse, asked or redirected to (Invalid IPv6 URL)"
    ]


def test_ingest_refused_connection_and_directory(database: Path, tmp_path: Path) -> None:
    result = feeds("ingest", "http://127.0.0.1:9/dump.txt", str(tmp_path), database=database)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "http://127.0.0.1:9/dump.txt: NOT READ: http://127.0.0.1:9/dump.txt: cannot connect: connection refused",
        f"{tmp_path}: NOT READ: {tmp_path}: is a directory, not a dump",
    ]


def test_bad_data_is_reported_with_lines_and_exit_zero(database: Path, tmp_path: Path) -> None:
    dump = tmp_path / "bad.txt"
    dump.write_bytes(
        b"News\nGood 01.02.2026\nBody\xff one.\nBad 31.02.2026\nLost.\nAlso good 01.02.2026\nBody two."
    )
    result = feeds("ingest", str(dump), database=database)
    assert result.returncode == 0
    assert untimed(result.stdout) == [
        f"{dump}: 2 items found, 2 new, 0 updated, 0 unchanged, 2 problems",
        f"  {dump}:3: undecodable byte 0xff at byte 5 of the line (not UTF-8); replaced by U+FFFD",
        f"  {dump}:4: title date 31.02.2026 is not a real date (day is out of range for month); item skipped",
        "total: 1 sources (0 not read), 2 new, 0 updated",
    ]
    assert "Traceback" not in result.stderr


def test_check_lists_items_and_problems(database: Path, tmp_path: Path) -> None:
    good = feeds("check", str(SAMPLE_DUMPS[1]), database=database)
    assert good.returncode == 0
    lines = good.stdout.splitlines()
    assert lines[0] == f"{SAMPLE_DUMPS[1]}: section World, 18 items"
    assert (
        lines[1]
        == "  line 2: 2025-12-20 [en] (no gov.kz link) A non-woven fabrics factory and a metal door plant opened in Shymkent."
    )
    assert (
        lines[7]
        == "  line 14: 2025-12-20 [en] duisastana/1129377 Preventive operation titled “Legal Order”"
    )
    assert len(lines) == 19
    dump = tmp_path / "bad.txt"
    dump.write_text("News\nOnly 30.02.2026\nx\n", encoding="utf-8")
    bad = feeds("check", str(dump), database=database)
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == [
        f"{dump}: section News, 0 items",
        f"  PROBLEM {dump}:2: title date 30.02.2026 is not a real date (day is out of range for month); item skipped",
    ]
    assert not database.exists()  # check never touches the store


def test_list_counts_agencies_sections_and_topics(database: Path, tmp_path: Path) -> None:
    feeds("ingest", database=database)
    paris = tmp_path / "paris.txt"
    paris.write_text(
        "World\nKazakh culture days in Paris 11.01.2026\nText.Source : "
        "https://www.gov.kz/memleket/entities/mfa-paris/press/news/details/42?lang=en",
        encoding="utf-8",
    )
    feeds("ingest", str(paris), database=database)
    lines = feeds("list", database=database).stdout.splitlines()
    assert lines[0] == "38 items"
    assert (
        "  mfa-washington                                3  last update 2026-01-09T19:00:00+00:00  "
        "Embassy of the Republic of Kazakhstan in the United States of America"
    ) in lines
    agencies_file = PROJECT / "config" / "agencies.toml"
    assert (
        "  mfa-paris                                     1  last update 2026-01-10T19:00:00+00:00  "
        f"Diplomatic mission: Paris  [unnamed: not in {agencies_file}]"
    ) in lines
    sections = lines.index("sections:")
    assert lines[sections + 1 : sections + 3] == [
        "  News                                         19  last update 2026-01-09T19:00:00+00:00",
        "  World                                        19  last update 2026-01-10T19:00:00+00:00",
    ]
    topics = lines[lines.index("topics:") + 1 :]
    assert (
        topics[3]
        == "  diplomacy                                    11  last update 2026-01-09T19:00:00+00:00  Diplomacy and foreign policy"
    )
    assert (
        topics[-1]
        == "  tourism-culture                               6  last update 2026-01-10T19:00:00+00:00  Tourism and culture"
    )
    assert len(topics) == 10  # subject topics with items (sections are listed above)


def test_bad_setting_is_a_clear_error(database: Path) -> None:
    result = feeds("list", database=database, env={"FEEDS_FOLLOW_RATE": "-1"})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: environment variable FEEDS_FOLLOW_RATE: setting FOLLOW_RATE: expected a positive number, got -1"
    )


def test_a_parsing_process_of_the_console_script_imports_no_store() -> None:
    """The ingest's parsing workers are spawned: each runs the `feeds` console script again
    under the name `__mp_main__` (multiprocessing's spawn does it with runpy.run_path; for
    `python -m feeds` it skips a package's `__main__`), then imports the parser. Neither may load SQLAlchemy or the store: a worker only parses text, and
    those imports cost each one about a quarter of a second at every ingest."""
    probe = (
        "import runpy, sys\n"
        f"runpy.run_path({str(CONSOLE_SCRIPT)!r}, run_name='__mp_main__')\n"
        "import feeds.dumps.parsepool\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'sqlalchemy', 'alembic'}"
        " or m.startswith(('feeds.store', 'feeds.ingest', 'feeds.following')))\n"
        "print(len(heavy), heavy[:5])\n"
    )
    assert CONSOLE_SCRIPT.is_file(), f"{CONSOLE_SCRIPT}: the package is not installed"
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=PROJECT
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "0 []\n"
