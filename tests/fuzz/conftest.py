"""Fixtures of the fuzz tests: the seeded database and the sizes of the run."""
import os

import pytest

from tests.conftest import truncate_data_tables
from tests.fuzz import dataset
from tests.fuzz.harness import build_client, close

# CI-sized defaults; raise them for a longer hunt (docs/testing.md).
URLS_PER_OPERATION = int(os.environ.get("CRASHGATE_FUZZ_URLS", "10000"))
ES_URLS_PER_OPERATION = int(os.environ.get("CRASHGATE_FUZZ_ES_URLS", "1000"))
WORKERS = int(os.environ.get("CRASHGATE_FUZZ_WORKERS", "2"))
SEED = os.environ.get("CRASHGATE_FUZZ_SEED", "crashgate")


@pytest.fixture(scope="module")
def fuzz_db(pg_dsn):
    """(DSN, Seeded) of the test database holding only the fuzz data set."""
    truncate_data_tables(pg_dsn)
    gateway, client = build_client(pg_dsn)
    try:
        seeded = dataset.seed(pg_dsn, client)
    finally:
        close(gateway)
    return pg_dsn, seeded
