"""`make soak`: the long reliability runs of issue 9, with the fixtures of tests/ (a store on
SQLite, and on PostgreSQL when FEEDS_TEST_POSTGRES_URL is set)."""

from tests.conftest import (  # noqa: F401  (fixtures and the report header, re-exported)
    database_url,
    postgres_url,
    pytest_report_header,
    settings,
    store,
)
