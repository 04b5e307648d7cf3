"""Access control over WSGI round trips on a real PostgreSQL (and a real Elasticsearch node for
the services it implements): every write endpoint against every kind of caller, personal data
with and without the pii scope on every service returning it, searches that would leak it,
tokens kept out of logs and answers, and the open (token-less) gateway unchanged."""
import contextlib
import datetime
import logging
import uuid as uuidlib

import psycopg2
import pytest

from crashgate.middleware.access import hash_token
from crashgate.middleware.app import make_wsgi_app
from crashgate.middleware.plugins import SERVICES, load_group
from crashgate.runtime import build_gateway, build_wsgi_app
from tests.conftest import make_config
from tests.es_helpers import reindex
from tests.factories import crash_doc, store
from tests.wsgiclient import WSGIClient

TOKENS = {"writer": "cg_writer-Tq8v1xZ", "reader": "cg_reader-Hk3m9aP",
          "both": "cg_both-Lr7w2nQ", "nothing": "cg_nothing-Ws5e4tB"}
SCOPES = {"writer": "write", "reader": "pii", "both": "write+pii", "nothing": ""}
ENTRIES = ",".join(f"{name}:{SCOPES[name]}:{hash_token(token)}"
                   for name, token in TOKENS.items())
WRONG = "cg_wrong-Zz9y8xW"
PREFIX = "access-crashes-"
UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
HOUR = datetime.timedelta(hours=1)
WINDOW = f"from_date={(NOW - 24 * HOUR).date()}&to_date={(NOW + 24 * HOUR).date()}"
CHALLENGE = 'Bearer realm="crashgate"'


def auth(name):
    token = TOKENS.get(name, name)
    return {"Authorization": f"Bearer {token}"} if name else {}


@contextlib.contextmanager
def secured_client(dsn, *argv):
    """A client of a gateway built from configuration with the tokens above."""
    gateway = build_gateway(make_config(dsn, f"--auth.tokens={ENTRIES}",
                                        "--bucketing.allow_delete_all=true", *argv))
    try:
        yield WSGIClient(make_wsgi_app(gateway))
    finally:
        for backend in gateway.backends.values():
            backend.close()


@pytest.fixture
def secured(clean_db):
    with secured_client(clean_db) as client:
        yield client


def test_configured_tokens_reach_the_gateway(clean_db):
    gateway = build_gateway(make_config(clean_db, f"--auth.tokens={ENTRIES}"))
    try:
        assert not gateway.access.open, \
            "runtime.build_gateway must pass access=AccessControl.from_config(config)"
        assert [e.name for e in gateway.access.store.entries] == list(TOKENS)
    finally:
        for backend in gateway.backends.values():
            backend.close()


def count(dsn, table):
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {table}")  # table names are constants here
            return cur.fetchone()[0]
    finally:
        conn.close()


# -- writes ----------------------------------------------------------------------------------

def write_endpoints():
    """(service, method, route template) of every write any installed service declares."""
    found = []
    for name, cls in sorted(load_group(SERVICES).items()):
        for template in cls.route_templates():
            found += [(name, method, template) for method in cls.methods
                      if method in ("POST", "PUT", "PATCH", "DELETE")]
    return found


WRITES = write_endpoints()
FORMS = {"products_builds": {"product": "Firefox", "version": "20.0", "platform": "macosx",
                             "build_id": "20120417012345", "build_type": "Release"},
         "priorityjobs": {"uuid": "0bba929f-8721-460c-dead-a43c20121114"}}
SUCCESS = {("products_builds", "POST"): 303, ("priorityjobs", "POST"): 200,
           ("pc_reports", "POST"): 201, ("pc_dry_run", "POST"): 200,
           ("pc_reports", "DELETE"): 200}
STORED_BY_WRITES = {"products_builds": "releases_raw", "priorityjobs": "priorityjobs",
                    "pc_reports": "pc_reports"}


def test_every_write_service_is_covered():
    assert {(name, method) for name, method, _ in WRITES} == set(SUCCESS)
    assert len(WRITES) == 10  # every route of each: /reports and /{project}/reports, ...


def write_request(client, service, method, template, headers):
    path = template.replace("{project}", "proj")
    assert "{" not in path, f"no sample value for {template}"
    if method == "DELETE":
        return client.delete(path, headers=headers)
    if service in FORMS:
        return client.post(path, FORMS[service], headers=headers)
    report = {"database_id": f"w-{uuidlib.uuid4().hex[:8]}",
              "stacktrace": [{"function": "main"}]}
    if "{project}" not in template:
        report["project"] = "proj"
    return client.post_json(path, report, headers=headers)


@pytest.mark.parametrize("service, method, template", WRITES)
def test_writes_need_a_token_with_scope_write(secured, clean_db, service, method, template):
    missing = write_request(secured, service, method, template, {})
    assert missing.status == 401, missing
    assert missing.headers["WWW-Authenticate"] == f'{CHALLENGE}, scope="write"'
    assert missing.json["error"]["type"] == "unauthorized"
    assert missing.json["error"]["scope"] == "write"

    wrong = write_request(secured, service, method, template, auth(WRONG))
    assert wrong.status == 401, wrong
    assert wrong.headers["WWW-Authenticate"] == f'{CHALLENGE}, error="invalid_token"'
    assert wrong.json["error"] == {"message": "The bearer token is not valid",
                                   "type": "invalid_token", "parameter": "Authorization"}

    for read_only in ("reader", "nothing"):
        refused = write_request(secured, service, method, template, auth(read_only))
        assert refused.status == 403, refused
        assert refused.headers["WWW-Authenticate"] == \
            f'{CHALLENGE}, error="insufficient_scope", scope="write"'
        error = refused.json["error"]
        assert (error["type"], error["scope"]) == ("insufficient_scope", "write")
        assert read_only in error["message"] and TOKENS[read_only] not in refused.body.decode()
    assert [count(clean_db, table) for table in STORED_BY_WRITES.values()] == [0, 0, 0]

    for writer in ("writer", "both"):
        done = write_request(secured, service, method, template, auth(writer))
        expected = 400 if method == "DELETE" and "{project}" in template else \
            SUCCESS[service, method]  # DELETE is only allowed on /reports (docs/api.md)
        assert done.status == expected, done
    if (service, method) != ("pc_dry_run", "POST") and expected < 400:
        stored = count(clean_db, STORED_BY_WRITES[service])
        assert stored == (0 if method == "DELETE" else 1 + (service == "pc_reports"))


def test_preflight_heartbeat_docs_and_reads_stay_open(secured):
    preflight = secured.request("OPTIONS", "/reports", headers={
        "Origin": "http://example.org", "Access-Control-Request-Method": "POST"})
    assert preflight.status == 204
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "WWW-Authenticate" in secured.get("/products/", headers={
        "Origin": "http://example.org"}).headers["Access-Control-Expose-Headers"]
    for path in ("/products/", "/__heartbeat__", "/__lbheartbeat__", "/openapi.json"):
        assert secured.get(path).status == 200, path
    assert secured.request("HEAD", "/products/").status == 200
    assert secured.get("/products/", headers=auth("nothing")).status == 200
    wrong = secured.get("/products/", headers=auth(WRONG))
    assert wrong.status == 401 and 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    malformed = secured.get("/products/", headers={"Authorization": f"Token {WRONG}"})
    assert malformed.status == 400
    assert malformed.json["error"]["type"] == "invalid_request"
    assert malformed.json["error"]["parameter"] == "Authorization"
    document = secured.get("/openapi.json").json
    assert document["paths"]["/priorityjobs"]["post"]["security"] == [{"bearer": []}]


# -- personal data of crashes, both backends -------------------------------------------------

SIGNATURE = "js::Personal::crash"
PERSONAL = {"url": "http://tracker.example/alice?id=7", "email": "alice@example.org",
            "user_comments": "Alice here: it crashed while paying"}


def crash_services():
    start, end = (NOW - 24 * HOUR).isoformat(), (NOW + HOUR).isoformat()
    return {
        "report_list": (f"/report/list/?signature={SIGNATURE}&{WINDOW}", "hits"),
        "search_crashes": (f"/search/crashes/?for={SIGNATURE}&in=signature&{WINDOW}", "hits"),
        "crashes_comments": (f"/crashes/comments/?signature={SIGNATURE}&{WINDOW}", "hits"),
        "signatureurls": (f"/signatureurls/?signature={SIGNATURE}&start_date={start}"
                          f"&end_date={end}&products=ALL&versions=ALL", "hits"),
    }


@pytest.fixture
def es_crashes(clean_db, es_url):
    """PostgreSQL holding crashes with personal data, indexed in Elasticsearch; a secured
    client reading both."""
    store(clean_db, [crash_doc(NOW - HOUR, SIGNATURE, **PERSONAL),
                     crash_doc(NOW - 2 * HOUR, "js::Other", url="http://other.example/")])
    assert reindex(es_url, clean_db, PREFIX) == 2
    with secured_client(clean_db, f"--elasticsearch.urls={es_url}",
                        f"--elasticsearch.index_prefix={PREFIX}") as client:
        yield client


@pytest.mark.parametrize("backend", ["postgresql", "elasticsearch"])
@pytest.mark.parametrize("service", sorted(crash_services()))
def test_personal_crash_fields_need_pii(es_crashes, backend, service):
    path, key = crash_services()[service]
    path += f"&force_api_impl={backend}"
    with_pii = es_crashes.get(path, headers=auth("reader"))
    assert with_pii.status == 200 and with_pii.headers["X-Crashgate-Backend"] == backend
    rows = with_pii.json[key]
    assert rows, with_pii
    shown = {field for row in rows for field in PERSONAL if field in row}
    assert shown and all(row[field] == PERSONAL[field] for row in rows for field in shown
                         if row[field] is not None)
    for caller in ("", "writer", "nothing"):
        answer = es_crashes.get(path, headers=auth(caller))
        assert answer.status == 200
        body = answer.json
        assert body["total"] == with_pii.json["total"]
        assert len(body[key]) == len(rows)
        for row, full in zip(body[key], rows):
            assert row == {k: v for k, v in full.items() if k not in PERSONAL}
            assert row  # the rest of the answer is there (uuid, signature, counts, ...)
        assert not any(value in answer.body.decode() for value in PERSONAL.values())


@pytest.mark.parametrize("backend", ["postgresql", "elasticsearch"])
def test_text_search_does_not_look_into_personal_data_without_pii(es_crashes, backend):
    forced = f"&force_api_impl={backend}"
    for service in ("crashes", "signatures"):
        by_url = f"/search/{service}/?for=alice&{WINDOW}{forced}"
        assert es_crashes.get(by_url, headers=auth("reader")).json["total"] == 1
        for caller in ("", "writer"):
            assert es_crashes.get(by_url, headers=auth(caller)).json["total"] == 0
        assert es_crashes.get(f"/search/{service}/?for=Personal&{WINDOW}{forced}"
                              ).json["total"] == 1  # other fields are still searched
        explicit = f"/search/{service}/?for=alice&in=signature&in=url&{WINDOW}{forced}"
        anonymous = es_crashes.get(explicit)
        assert anonymous.status == 401
        assert anonymous.json["error"]["parameter"] == "fields"
        assert anonymous.json["error"]["scope"] == "pii"
        refused = es_crashes.get(explicit.replace("in=url", "in=user_comments"),
                                 headers=auth("writer"))
        assert refused.status == 403
        assert (refused.json["error"]["parameter"], refused.json["error"]["scope"]) == \
            ("fields", "pii")
        assert es_crashes.get(explicit, headers=auth("both")).json["total"] == 1


# -- PartyCrasher reports --------------------------------------------------------------------

def report(database_id, **fields):
    return {"database_id": database_id, "date": (NOW - HOUR).isoformat(),
            "Title": "drawControl crashed", "url": "http://tracker.example/alice/42",
            "Email": "alice@example.org", "Comments": "Alice: lost my work",
            "ProcEnviron": "HOME=/home/alice", "crash": {"client_id": "c-9f3e", "os": "Linux"},
            "stacktrace": [{"function": "QCommonStyle::drawControl"},
                           {"function": "g_main_loop_run"}], **fields}


PC_PERSONAL = ("url", "Email", "Comments", "ProcEnviron")


def assert_report_redacted(document, full):
    assert not set(PC_PERSONAL) & set(document)
    assert document["crash"] == {"os": "Linux"}
    assert document["stacktrace"] == full["stacktrace"] and document["Title"] == full["Title"]


def test_partycrasher_reports_hide_personal_data_without_pii(secured):
    for database_id in ("P1", "P2"):
        assert secured.post_json("/proj/reports", report(database_id),
                                 headers=auth("both")).status == 201
    full = secured.get("/proj/reports/P2", headers=auth("reader")).json
    assert full["Email"] == "alice@example.org" and full["crash"]["client_id"] == "c-9f3e"
    bucket = full["buckets"]["5.0"]["bucket_id"]
    for caller in ("", "writer"):
        headers = auth(caller)
        assert_report_redacted(secured.get("/proj/reports/P2", headers=headers).json, full)
        page = secured.get(f"/proj/buckets/5.0/{bucket}", headers=headers).json
        assert page["total"] == 2
        for document in page["top_reports"]:
            assert_report_redacted(document, full)
        listed = secured.get("/proj/search", headers=headers).json
        assert listed["total"] == 2
        for document in listed["reports"]:
            assert_report_redacted(document, full)
        for path in ("/proj/reports/P2/summary", "/proj/reports/P2/compare/P1"):
            terms = secured.get(path, headers=headers).json["terms"]
            assert terms and not any(t["field"].split(".")[0] in PC_PERSONAL for t in terms)
            assert "alice" not in str(terms).lower()
    for path in ("/proj/reports/P2/summary", "/proj/reports/P2/compare/P1"):
        terms = secured.get(path, headers=auth("reader")).json["terms"]
        assert "url" in {t["field"] for t in terms}  # the same answer, whole, with pii


def test_partycrasher_query_needs_pii(secured):
    assert secured.post_json("/proj/reports", report("Q1"), headers=auth("writer")).status == 201
    for path in ("/proj/search?q=alice", "/proj/buckets/5.0?since=2000&q=alice"):
        anonymous = secured.get(path)
        assert anonymous.status == 401 and anonymous.json["error"]["parameter"] == "q"
        refused = secured.get(path, headers=auth("writer"))
        assert refused.status == 403 and refused.json["error"]["parameter"] == "q"
        assert secured.get(path, headers=auth("reader")).json["total"] == 1
    assert secured.get("/proj/buckets/5.0?since=2000").json["total"] == 1


def test_partycrasher_search_on_elasticsearch_hides_personal_data(clean_db, es_url):
    from crashgate.external.elasticsearch.reports_index import ReportsIndexer

    index = f"cgtest-access-{uuidlib.uuid4().hex[:8]}"
    argv = (f"--elasticsearch.urls={es_url}", f"--elasticsearch.reports_index={index}")
    with secured_client(clean_db, *argv) as client:
        assert client.post_json("/proj/reports", report("E1"),
                                headers=auth("writer")).status == 201
        indexer = ReportsIndexer.from_config(make_config(clean_db, *argv))
        try:
            while indexer.drain_once():
                pass
            forced = "force_api_impl=elasticsearch"
            full = client.get(f"/proj/search?q=alice&{forced}", headers=auth("reader"))
            assert full.headers["X-Crashgate-Backend"] == "elasticsearch"
            assert full.json["total"] == 1 and full.json["reports"][0]["Email"]
            assert client.get(f"/proj/search?q=alice&{forced}").status == 401
            listed = client.get(f"/proj/search?{forced}").json
            assert listed["total"] == 1
            assert_report_redacted(listed["reports"][0], full.json["reports"][0])
        finally:
            indexer.client.indices.delete(index=index, ignore_unavailable=True)
            indexer.close()


# -- logs, open mode -------------------------------------------------------------------------

def test_tokens_never_reach_logs_or_answers(clean_db, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    request_log = tmp_path / "requests.log"
    config = make_config(clean_db, f"--auth.tokens={ENTRIES}",
                         f"--web_server.request_log={request_log}")
    app = build_wsgi_app(config)  # with the request log
    client = WSGIClient(app)
    answers = [
        client.post("/priorityjobs/", {"uuid": "u1"}, headers=auth("writer")),
        client.post("/priorityjobs/", {"uuid": "u2"}, headers=auth("reader")),
        client.post("/priorityjobs/", {"uuid": "u3"}, headers=auth(WRONG)),
        client.get("/products/", headers=auth("both")),
        client.get("/products/", headers=auth(WRONG)),
        client.get("/products/", headers={"Authorization": f"Token {TOKENS['both']}"}),
        client.get("/products/", headers={"Authorization": f"Bearer {WRONG} {WRONG}"}),
        client.get(f"/search/crashes/?for=x&in=url&{WINDOW}", headers=auth("nothing")),
    ]
    assert [a.status for a in answers] == [200, 403, 401, 200, 401, 400, 400, 403]
    assert "unknown bearer token refused" in caplog.text  # the log was captured
    app.flush()
    assert request_log.read_text().count("crashgate.requests: ") == len(answers)
    logged = (caplog.text + "".join(str(r.args) + str(r.__dict__) for r in caplog.records)
              + request_log.read_text())
    for secret in [*TOKENS.values(), WRONG]:
        assert secret not in logged
        assert hash_token(secret) not in logged
        assert not any(secret in a.body.decode() or secret in str(a.header_list)
                       for a in answers)


def test_open_gateway_is_unchanged_and_warns(client, clean_db, caplog):
    store(clean_db, [crash_doc(NOW - HOUR, SIGNATURE, **PERSONAL)])
    assert client.post("/priorityjobs/", {"uuid": "u1"}).json is True
    assert client.delete("/reports").status == 403  # bucketing.allow_delete_all, as before
    row = client.get(f"/report/list/?signature={SIGNATURE}&{WINDOW}").json["hits"][0]
    assert (row["url"], row["user_comments"]) == (PERSONAL["url"], PERSONAL["user_comments"])
    assert client.get(f"/search/crashes/?for=alice&{WINDOW}").json["total"] == 1
    assert client.get(f"/search/crashes/?for=alice&in=url&{WINDOW}").json["total"] == 1
    assert client.get("/products/", headers=auth(WRONG)).status == 200  # no tokens: ignored
    preflight = client.request("OPTIONS", "/reports", headers={"Origin": "http://a.example"})
    assert preflight.headers["Access-Control-Allow-Headers"] == "Content-Type, Authorization"
    assert "securitySchemes" not in client.get("/openapi.json").json.get("components", {})
    caplog.set_level(logging.INFO)
    build_gateway(make_config(clean_db))
    assert any(r.levelname == "WARNING" and "ACCESS CONTROL IS OFF" in r.getMessage()
               for r in caplog.records)
    caplog.clear()
    build_gateway(make_config(clean_db, f"--auth.tokens={ENTRIES}"))
    assert "access control on: bearer tokens 4 (2 with write, 2 with pii)" in caplog.text
    assert "ACCESS CONTROL IS OFF" not in caplog.text
