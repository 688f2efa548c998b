"""Settings: declared once, documented, overridable by file and environment, clear errors."""

import re
import tomllib
from pathlib import Path

import pytest

from feeds.errors import SettingsError
from feeds.settings import DEFAULT_CONFIG, Settings, load_settings
from tests.conftest import PROJECT


def test_every_setting_is_in_the_config_file_with_its_default_and_help() -> None:
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    in_file = tomllib.loads(text)
    declared = Settings.declared()
    assert list(in_file) == [name for name, _, _ in declared]
    for name, default, help_text in declared:
        expected = list(default) if isinstance(default, tuple) else default
        assert in_file[name] == expected, name
        assert f"# {help_text}\n{name} = " in text, name


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    for name, _, help_text in Settings.declared():
        assert re.search(rf"^\| `{name}` \|.*\| {re.escape(help_text)} \|$", readme, re.M), name


def test_defaults_resolve_against_the_project() -> None:
    settings = load_settings(env={})
    assert settings.dumps == (str(PROJECT / "dumps" / "*.txt"),)
    assert settings.database_url == f"sqlite:///{PROJECT / 'var' / 'feeds.sqlite3'}"
    assert (settings.ingest_interval, settings.follow, settings.follow_rate) == (900.0, True, 1.0)
    assert settings.govkz_base_url == "https://www.gov.kz"


def test_environment_values_are_json_or_strings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        env={
            "FEEDS_DUMPS": '["a.txt", "b/*.txt", "https://example.test/d.txt"]',
            "FEEDS_FOLLOW": "false",
            "FEEDS_INGEST_INTERVAL": "2",
            "FEEDS_GOVKZ_BASE_URL": "http://127.0.0.1:5000/",
            "FEEDS_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1/db",
        }
    )
    assert settings.dumps == (
        str(tmp_path / "a.txt"),
        str(tmp_path / "b/*.txt"),
        "https://example.test/d.txt",
    )
    assert (settings.follow, settings.ingest_interval) == (False, 2.0)
    assert settings.govkz_base_url == "http://127.0.0.1:5000"
    assert settings.database_url == "postgresql+psycopg://u@127.0.0.1/db"
    assert load_settings(env={"FEEDS_DUMPS": "x.txt, y.txt"}).dumps == (
        str(tmp_path / "x.txt"),
        str(tmp_path / "y.txt"),
    )
    assert load_settings(env={"FEEDS_INGEST_INTERVAL": "1h"}).ingest_interval == 3600.0


def test_config_file_paths_are_relative_to_it(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "mine.toml"
    config.parent.mkdir()
    config.write_text(
        'DUMPS = ["../in/*.txt"]\nDATABASE_URL = "sqlite:///db.sqlite3"\nINGEST_INTERVAL = 60\n'
    )
    settings = load_settings(env={"FEEDS_CONFIG": str(config)})
    assert settings.dumps == (str(tmp_path / "in" / "*.txt"),)
    assert settings.database_url == f"sqlite:///{tmp_path / 'conf' / 'db.sqlite3'}"
    assert settings.ingest_interval == 60.0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"FEEDS_FOLLOW": "maybe"},
            "environment variable FEEDS_FOLLOW: setting FOLLOW: expected true or false, got 'maybe'",
        ),
        (
            {"FEEDS_INGEST_INTERVAL": "soon"},
            "environment variable FEEDS_INGEST_INTERVAL: setting INGEST_INTERVAL: "
            'expected a duration such as 900, "15 minutes" or "1h", got \'soon\'',
        ),
        (
            {"FEEDS_GOVKZ_BASE_URL": "ftp://x"},
            "environment variable FEEDS_GOVKZ_BASE_URL: setting GOVKZ_BASE_URL: "
            "expected an http(s) URL, got 'ftp://x'",
        ),
        (
            {"FEEDS_DUMPS": "5"},
            "environment variable FEEDS_DUMPS: setting DUMPS: expected a list of paths, globs or "
            "URLs, got 5",
        ),
        (
            {"FEEDS_LANGUAGES": '["en", "ru"]'},
            "environment variable FEEDS_LANGUAGES: setting LANGUAGES: expected each of kk, ru, "
            "en exactly once, in order of preference, got ['en', 'ru']",
        ),
        (
            {"FEEDS_DATABASE_URL": "nonsense"},
            "environment variable FEEDS_DATABASE_URL: setting DATABASE_URL: expected "
            "an SQLAlchemy URL such as sqlite:///var/feeds.sqlite3, got 'nonsense'",
        ),
    ],
)
def test_bad_environment_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(env=env)
    assert str(error.value) == message


def test_languages_are_an_order_of_preference() -> None:
    assert load_settings(env={}).languages == ("en", "ru", "kk")
    assert load_settings(env={"FEEDS_LANGUAGES": "RU, kk,en"}).languages == ("ru", "kk", "en")
    assert load_settings(env={"FEEDS_LANGUAGES": '["kk","en","ru"]'}).languages == (
        "kk",
        "en",
        "ru",
    )


def test_bad_config_files_name_the_file(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("DUMP = []\n")
    with pytest.raises(
        SettingsError, match=rf"^{re.escape(str(unknown))}: unknown setting DUMP \(known: "
    ):
        load_settings(env={"FEEDS_CONFIG": str(unknown)})
    broken = tmp_path / "broken.toml"
    broken.write_text("DUMPS = [\n")
    with pytest.raises(SettingsError, match=rf"^{re.escape(str(broken))}: not valid TOML: "):
        load_settings(env={"FEEDS_CONFIG": str(broken)})
    missing = tmp_path / "missing.toml"
    with pytest.raises(SettingsError) as error:
        load_settings(env={"FEEDS_CONFIG": str(missing)})
    assert str(error.value) == f"{missing}: cannot read settings file: No such file or directory"
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('FOLLOW_RATE = "fast"\n')
    with pytest.raises(SettingsError) as error:
        load_settings(env={"FEEDS_CONFIG": str(wrong)})
    assert (
        str(error.value) == f"{wrong}: setting FOLLOW_RATE: expected a positive number, got 'fast'"
    )
