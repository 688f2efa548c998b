"""Tests of feeds.text: citations, topics, search terms and queries."""
