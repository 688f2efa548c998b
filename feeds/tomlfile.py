"""Reading a TOML configuration file: the one user of tomllib. Every problem is a
SettingsError naming the file, and what kind of file it should have been."""

import tomllib
from pathlib import Path
from typing import Any

from feeds.errors import SettingsError


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """The file's table; `what` ("settings", "agencies", "topics") names it in errors."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read {what} file: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
