"""Tests of feeds.web over HTTP: feeds, pages, hosts, the fast path, browsers."""
