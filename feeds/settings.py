"""Settings (SPEC section 7): each declared once here, with its default and help text.

Values come, lowest first, from these defaults, the TOML file (`config/feeds.toml`, or the
file named by `FEEDS_CONFIG`), then environment variables `FEEDS_<NAME>` (read as JSON
when they parse as JSON, else as a plain string, like Flask's `from_prefixed_env`).
Relative paths are resolved against the directory of the file that gave them (the
project's `config/` for defaults, the current directory for environment variables).
"""

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feeds.errors import SettingsError
from feeds.text.links import LANGUAGE_ORDER, LANGUAGES
from feeds.tomlfile import read_toml

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_DIR / "config" / "feeds.toml"
ENV_PREFIX = "FEEDS_"

Parser = Callable[[Any, Path], Any]


def _text(value: Any, base: Path) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _flag(value: Any, base: Path) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"on", "yes", "true", "off", "no", "false"}:
        return value.lower() in {"on", "yes", "true"}
    raise ValueError(f"expected true or false, got {value!r}")


def _positive_number(value: Any, base: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"expected a positive number, got {value!r}")
    return float(value)


def _positive_int(value: Any, base: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"expected a positive whole number, got {value!r}")
    return value


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|seconds?|m|min|minutes?|h|hours?)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def _duration(value: Any, base: Path) -> float:
    """Seconds, from a number of seconds or a text such as "15 minutes", "90s", "1h"."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(
                f'expected a duration such as 900, "15 minutes" or "1h", got {value!r}'
            )
        value = float(match[1]) * _UNIT_SECONDS[(match[2] or "s")[0]]
    return _positive_number(value, base)


def _path_or_url(spec: str, base: Path) -> str:
    if urlsplit(spec).scheme in {"http", "https"}:
        return spec
    return os.path.normpath(base / Path(spec).expanduser())


def _path(value: Any, base: Path) -> str:
    return os.path.normpath(base / Path(_text(value, base)).expanduser())


def _sources(value: Any, base: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of paths, globs or URLs, got {value!r}")
    return tuple(_path_or_url(spec, base) for spec in value)


def _database_url(value: Any, base: Path) -> str:
    url = _text(value, base)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            return f"sqlite:///{(base / relative).resolve()}"
    if "://" not in url:
        raise ValueError(
            f"expected an SQLAlchemy URL such as sqlite:///var/feeds.sqlite3, got {value!r}"
        )
    return url


def _http_url(value: Any, base: Path) -> str:
    url = _text(value, base).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    return url


def _optional_http_url(value: Any, base: Path) -> str:
    return "" if value in ("", None) else _http_url(value, base)


def _languages(value: Any, base: Path) -> tuple[str, ...]:
    """An order of preference of the portal's languages: each once, every one of them."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f'expected a list of languages such as ["en", "ru", "kk"], got {value!r}')
    found = [v.lower() for v in value]
    if sorted(found) != sorted(LANGUAGES):
        raise ValueError(
            f"expected each of {', '.join(LANGUAGES)} exactly once, in order of preference, "
            f"got {value!r}"
        )
    return tuple(found)


def _path_on_host(value: Any, base: Path) -> str:
    path = _text(value, base)
    if not path.startswith("/") or urlsplit(path).scheme or "//" in path:
        example = "/api/v1/public/_/c/k6"
        raise ValueError(f"expected a path on GOVKZ_BASE_URL such as {example}, got {value!r}")
    return path


RSS_FROM_DUMPS = "dumps"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,127}$")


def _rss_agencies(value: Any, base: Path) -> str | tuple[str, ...]:
    """`dumps` (every agency the dumps name), `off` (or false), or a list of agency slugs."""
    if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "")):
        return ()
    if isinstance(value, str) and value.strip().lower() == RSS_FROM_DUMPS:
        return RSS_FROM_DUMPS
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f'expected "dumps", "off" or a list of agency slugs, got {value!r}')
    bad = [slug for slug in value if not _SLUG.match(slug)]
    if bad:
        raise ValueError(f"expected agency slugs such as mfa or kgd-vko, got {bad[0]!r}")
    return tuple(dict.fromkeys(value))


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])$")  # or an IPv6 literal


def _host_names(value: Any, base: Path) -> tuple[str, ...]:
    """Host names (no scheme, port or path), from a list or a comma-separated text."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of host names, got {value!r}")
    bad = [name for name in value if not _HOST_NAME.match(name.lower())]
    if bad:
        raise ValueError(
            f"expected host names such as localhost or feeds.example.kz (no scheme, port or "
            f"path), got {bad[0]!r}"
        )
    return tuple(name.lower() for name in value)


def setting(default: Any, help: str, parse: Parser) -> Any:
    return field(default=default, metadata={"help": help, "parse": parse})


@dataclass(frozen=True)
class Settings:
    database_url: str = setting(
        "sqlite:///../var/feeds.sqlite3",
        "Any SQLAlchemy URL; PostgreSQL (postgresql+psycopg://...) for multi-process deployments.",
        _database_url,
    )
    dumps: tuple[str, ...] = setting(
        ("../dumps/*.txt",), "Paths, globs or http(s) URLs of the dumps to re-ingest.", _sources
    )
    ingest_interval: float = setting(
        "15 minutes",
        'How often the scheduler re-ingests (seconds, or "15 minutes", "1h").',
        _duration,
    )
    govkz_base_url: str = setting(
        "https://www.gov.kz",
        "Where gov.kz links are followed (tests point it at a local server).",
        _http_url,
    )
    follow: bool = setting(
        True, "Follow gov.kz links to get full text, exact time and image.", _flag
    )
    follow_rate: float = setting(
        1.0, "Politeness limit: requests per second per host.", _positive_number
    )
    portal_ticket_path: str = setting(
        "/api/v1/public/_/c/k6",
        "Where on GOVKZ_BASE_URL the news API's ticket is asked for (POST {}), when the API "
        "answers notAllowed.",
        _path_on_host,
    )
    portal_pause: float = setting(
        "15 minutes",
        "How long following waits when the portal refuses us (no ticket to be had, or "
        "refused with a fresh one).",
        _duration,
    )
    rss: str | tuple[str, ...] = setting(
        RSS_FROM_DUMPS,
        'Agencies whose official gov.kz RSS is read (in en, ru and kk): "dumps" (every agency '
        'the dumps name), a list of slugs, or "off". Off when FOLLOW is off.',
        _rss_agencies,
    )
    rss_interval: float = setting(
        "15 minutes",
        "How often each agency's official RSS is read, at most (seconds, or a duration).",
        _duration,
    )
    site_url: str = setting(
        "",
        "Public base URL of every link (feeds, pages, OPML); empty: the request's host, "
        "one of ALLOWED_HOSTS.",
        _optional_http_url,
    )
    allowed_hosts: tuple[str, ...] = setting(
        ("localhost", "127.0.0.1", "[::1]"),
        "Host names a request may name when SITE_URL is empty (any port); others get 400.",
        _host_names,
    )
    websub_hub: str = setting(
        "",
        "WebSub hub URL: feeds link to it and changed feeds are published to it; empty: off.",
        _optional_http_url,
    )
    fetch_timeout: float = setting(
        20.0,
        "Seconds to wait for a dump URL or a gov.kz answer before giving up.",
        _positive_number,
    )
    follow_max_bytes: int = setting(
        2_000_000,
        "Largest gov.kz API answer read, in bytes; a bigger one fails that item.",
        _positive_int,
    )
    max_dump_bytes: int = setting(
        200_000_000, "Largest dump accepted from a URL or a file, in bytes.", _positive_int
    )
    ingest_workers: int = setting(
        2,
        "Processes that parse and classify a large dump's new items while the ingest writes; "
        "1: parse in the ingest's own process.",
        _positive_int,
    )
    variant_cache_bytes: int = setting(
        32_000_000,
        "Bytes of pages rendered on demand (?limit=, cursors, ?lang=) each web process keeps, "
        "and as many of the HTML pages with a query, item and search pages it keeps for store "
        "outages; least recently used first out.",
        _positive_int,
    )
    max_variant_renders: int = setting(
        2,
        "Pages rendered on demand at once by each web process; more at once get 503 "
        "with Retry-After.",
        _positive_int,
    )
    languages: tuple[str, ...] = setting(
        LANGUAGE_ORDER,
        "Order of preference of a release's versions: a feed without ?lang= shows each "
        "release once, in the first of these languages it has.",
        _languages,
    )
    log_level: str = setting("INFO", "Logging level: DEBUG, INFO, WARNING or ERROR.", _text)
    agencies_file: str = setting(
        "agencies.toml", "Agency names, kinds and parents (config/agencies.toml).", _path
    )
    topics_file: str = setting(
        "topics.toml", "Section names and subject-topic rules (config/topics.toml).", _path
    )

    @classmethod
    def declared(cls) -> list[tuple[str, Any, str]]:
        """(NAME, default, help) of every setting, in declaration order."""
        return [(f.name.upper(), f.default, f.metadata["help"]) for f in fields(cls)]


def _parse(name: str, value: Any, base: Path, origin: str) -> Any:
    spec = {f.name: f for f in fields(Settings)}[name]
    try:
        return spec.metadata["parse"](value, base)
    except ValueError as exc:
        raise SettingsError(f"{origin}: setting {name.upper()}: {exc}") from None


def _from_file(path: Path) -> dict[str, Any]:
    data = read_toml(path, "settings")
    known = {f.name for f in fields(Settings)}
    values = {}
    for key, value in data.items():
        if key.lower() not in known:
            raise SettingsError(
                f"{path}: unknown setting {key} (known: {', '.join(sorted(known)).upper()})"
            )
        values[key.lower()] = _parse(key.lower(), value, path.parent, str(path))
    return values


def _env_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values = {}
    for spec in fields(Settings):
        name = ENV_PREFIX + spec.name.upper()
        if name in env:
            values[spec.name] = _parse(
                spec.name, _env_value(env[name]), Path.cwd(), f"environment variable {name}"
            )
    return values


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from defaults, the config file and the environment; `overrides` (already
    typed, as tests pass them) win over everything."""
    env = os.environ if env is None else env
    defaults = {
        f.name: _parse(f.name, f.default, DEFAULT_CONFIG.parent, "default")
        for f in fields(Settings)
    }
    config = Path(env["FEEDS_CONFIG"]) if env.get("FEEDS_CONFIG") else DEFAULT_CONFIG
    from_file = _from_file(config) if config.exists() or env.get("FEEDS_CONFIG") else {}
    return replace(Settings(**defaults), **{**from_file, **_from_env(env), **overrides})
