"""feeds: Atom, RSS and JSON feeds of Kazakhstan's government news (gov.kz)."""

__version__ = "0.1.0"
