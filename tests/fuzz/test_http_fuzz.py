"""Every service, every method, through the real WSGI app on a real PostgreSQL:
CRASHGATE_FUZZ_URLS (default 10,000) hostile requests each -- SQL injection, oversized
values, wrong types, broken encodings. No answer >= 500, every answer JSON, every 4xx names
a parameter the request changed, and no stored row altered (checksums of every table)."""
import pytest

from crashgate.middleware import plugins
from tests.fuzz import dataset
from tests.fuzz.conftest import SEED, URLS_PER_OPERATION, WORKERS
from tests.fuzz.harness import WorkerPool, build_client, close, operations, send

# Writes and the tables they may touch; every other table must stay identical. They run in
# one process: their requests race for the same rows otherwise.
WRITES = {
    "products_builds:POST": {"may_grow": {"releases_raw"}},
    "priorityjobs:POST": {"may_grow": {"priorityjobs"}},
    "pc_reports:POST": {"may_grow": {"pc_reports", "pc_bucket_members",
                                     "pc_reports_index_outbox"},
                        "may_change": {"pc_terms", "pc_projects"}},
    "pc_reports:DELETE": {},
}
OPERATIONS = sorted((f"{name}:{method}" for name, service in
                     plugins.load_group(plugins.SERVICES).items()
                     for method in service.methods),
                    key=lambda name: (name in WRITES, name))
FIGURES = {}


@pytest.fixture(scope="module")
def fuzz_app(fuzz_db):
    """(DSN, WSGI client, {operation name: Operation}, worker pool) on the seeded data."""
    dsn, seeded = fuzz_db
    base = dataset.base_requests(seeded)
    gateway, client = build_client(dsn)
    pool = WorkerPool(dsn, base, WORKERS)
    yield dsn, client, operations(gateway, base), pool
    pool.close()
    close(gateway)
    if FIGURES:
        print(f"\nfuzz: {len(FIGURES)} operations, {sum(n for n, _, _ in FIGURES.values())} "
              f"requests, {sum(e for _, e, _ in FIGURES.values())} answers >= 500, "
              f"{sum(s for _, _, s in FIGURES.values()):.1f} s")


def test_every_operation_has_a_succeeding_base_request(fuzz_app):
    _, client, found, _ = fuzz_app
    assert sorted(found) == sorted(OPERATIONS)
    for name, operation in found.items():
        for seed in range(8):  # each route template and parameter placement
            response = send(client, operation.base_request(seed))
            expected = {403} if name == "pc_reports:DELETE" else set(range(200, 304))
            assert response.status in expected, (name, operation.base_request(seed), response)


@pytest.mark.parametrize("name", OPERATIONS)
def test_fuzzed_requests(fuzz_app, name):
    dsn, _, _, pool = fuzz_app
    before = dataset.row_checksums(dsn)
    statuses, failures, seconds = pool.run(name, URLS_PER_OPERATION, SEED,
                                           workers=1 if name in WRITES else None)
    after = dataset.row_checksums(dsn)
    server_errors = sum(n for status, n in statuses.items() if status != "failed"
                        and status >= 500)
    FIGURES[name] = (URLS_PER_OPERATION, server_errors, seconds)
    print(f"\n{name}: {URLS_PER_OPERATION} requests in {seconds:.1f} s, "
          f"{dict(sorted(statuses.items(), key=str))}")
    assert not failures, "\n".join(failures)
    assert dataset.changed_tables(before, after, **WRITES.get(name, {})) == {}
