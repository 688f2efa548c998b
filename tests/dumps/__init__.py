"""Tests of feeds.dumps: decoding, splitting, parsing and ingesting dumps."""
