"""Benchmarks of the feeds service (issue 8): `make bench`, see BENCHMARKS.md."""
