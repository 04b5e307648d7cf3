"""A PostgreSQL program limit (SQLSTATE class 54) reached by the data a request sends is the
request's fault: 400 JSON, not a 503 outage; one our SQL reaches is a logged 500."""
import psycopg2.errors
import pytest

from crashgate.errors import BadRequest
from crashgate.external.postgresql.pool import ConnectionPool
from crashgate.middleware.app import make_wsgi_app
from crashgate.runtime import build_gateway
from tests.conftest import make_config
from tests.faults import scalar
from tests.wsgiclient import WSGIClient

RANDOM_TEXT = "SELECT string_agg(md5(n::text), '') FROM generate_series(1, %s) AS n"


def report(signature, database_id):
    return {"database_id": database_id, "product": "Firefox", "version": "16.0",
            "signature": signature, "date": "2012-11-14T10:00:00",
            "frames": [{"function": "f"}, {"function": "main"}]}


@pytest.mark.parametrize("field, size", [("signature", 2001), ("product", 101),
                                         ("version", 101)])
def test_an_over_long_indexed_field_is_a_400_naming_it(clean_db, field, size):
    gateway = build_gateway(make_config(clean_db))
    client = WSGIClient(make_wsgi_app(gateway))
    assert client.post_json("/firefox/reports", {**report("short", "at-limit"),
                                                 field: "é" * ((size - 1) // 2)}).status == 201
    too_long = {**report("short", "too-long-1"), field: "x" * size}
    answer = client.post_json("/firefox/reports", too_long)
    assert answer.status == 400 and answer.headers["Content-Type"].startswith(
        "application/json")
    error = answer.json["error"]
    assert error["parameter"] == field and f"at most {size - 1} bytes" in error["message"]
    assert scalar(clean_db, "SELECT count(*) FROM pc_reports") == 1  # the first one only
    assert client.post_json("/firefox/reports", report("short", "fine-1")).status == 201
    pool = gateway.backends["postgresql"].pool
    assert pool.state()["in_use"] == 0 and pool.state()["idle"] >= 1
    for backend in gateway.backends.values():
        backend.close()


@pytest.fixture
def pool(pg_dsn):
    pool = ConnectionPool(pg_dsn)
    yield pool
    pool.close()


def test_index_row_too_big_is_bad_request(pool):
    with pytest.raises(BadRequest, match="index row") as error:
        with pool.connection() as conn, conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE labels (label text) ON COMMIT DROP")
            cur.execute("CREATE INDEX ON labels (label)")
            cur.execute("INSERT INTO labels " + RANDOM_TEXT, (400,))
    assert error.value.status == 400 and error.value.details == {"sqlstate": "54000"}
    assert pool.state() == {"max": 8, "in_use": 0, "idle": 1, "waiting": 0}  # kept


def test_too_deeply_nested_value_is_bad_request(pool):
    nested = "[" * 100000 + "]" * 100000
    with pytest.raises(BadRequest, match="stack depth") as error:
        pool.fetch_all("SELECT %s::jsonb AS value", (nested,))
    assert error.value.details == {"sqlstate": "54001"}
    assert pool.fetch_all("SELECT 1 AS one") == [{"one": 1}]


def test_a_limit_our_sql_reaches_stays_an_error_for_the_log(pool):
    with pytest.raises(psycopg2.errors.TooManyArguments):  # the middleware logs it: 500
        pool.fetch_all("SELECT concat(" + ", ".join(["1"] * 101) + ")")
    assert pool.state() == {"max": 8, "in_use": 0, "idle": 1, "waiting": 0}


@pytest.mark.parametrize("frames_key", ["frames", "stacktrace"])
def test_an_over_long_function_name_is_stored_with_its_terms_cut(clean_db, frames_key):
    client = WSGIClient(make_wsgi_app(build_gateway(make_config(clean_db))))
    name = scalar(clean_db, RANDOM_TEXT, (400,))  # 12,800 incompressible characters
    first = {"database_id": "long-fn-1", frames_key: [{"function": name}, {"function": "main"}]}
    second = dict(first, database_id="long-fn-2")
    assert client.post_json("/firefox/reports", first).status == 201
    answer = client.post_json("/firefox/reports", second)
    assert answer.status == 201
    assert answer.json["top_match"]["report_id"] == "long-fn-1"  # still the best match
    stored = client.get("/firefox/reports/long-fn-1").json
    assert stored[frames_key][0]["function"] == name  # the report itself is kept whole
