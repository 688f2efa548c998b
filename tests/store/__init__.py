"""Tests of feeds.store on SQLite and PostgreSQL."""
