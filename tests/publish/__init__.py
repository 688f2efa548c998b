"""Tests of feeds.publish: the catalog, fingerprints, aggregates, variants."""
