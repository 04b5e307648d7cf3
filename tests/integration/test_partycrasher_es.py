"""The Elasticsearch bucketing engine against a real Elasticsearch node and a real PostgreSQL:
the reports index and its analyzers, the outbox (drained, across an outage, emptied by
delete-all), more-like-this candidates, back-to-back and concurrent posts, agreement with the
PostgreSQL engine on labelled reports, and search."""
import concurrent.futures
import datetime
import threading
import time
import uuid as uuidlib

import psycopg2
import pytest

from crashgate.bucketing.features import TOP_FRAME_WEIGHTS, report_terms
from crashgate.bucketing.metrics import clustering_scores
from crashgate.bucketing.thresholds import parse_threshold
from crashgate.bucketing.tokenizers import load_tokenizer
from crashgate.errors import BackendUnavailable, BadArgument
from crashgate.external.elasticsearch import bucketing
from crashgate.external.elasticsearch.backend import ElasticsearchBackend
from crashgate.external.elasticsearch.indexer import run_in_thread
from crashgate.external.elasticsearch.reports_index import (ReportsIndexer, ensure_index,
                                                            index_document, report_fields)
from crashgate.external.postgresql.backend import PostgreSQLBackend
from crashgate.external.postgresql.partycrasher import implementations as pg
from crashgate.external.postgresql.partycrasher.pipeline import QueryTerm
from crashgate.fakedata.labelled import generate_labelled_reports
from crashgate.ingest.report_document import parse_reports
from tests.conftest import UNREACHABLE_ES, make_config

UTC = datetime.timezone.utc
PC_TABLES = ("pc_bucket_members", "pc_reports", "pc_terms", "pc_projects",
             "pc_reports_index_outbox")
STACK_A = ["QCommonStyle::drawControl", "QWidget::paintEvent", "g_main_context_dispatch",
           "g_main_loop_run", "main"]
STACK_B = ["nbd_server_read_request", "nbd_negotiate", "handle_connection", "accept_loop"]
STACK_C = ["png_decode_row", "png_do_expand", "gdk_pixbuf_loader_write", "main"]


def sql(dsn, query, params=None):
    conn = psycopg2.connect(dsn, options="-c TimeZone=UTC")
    try:
        with conn, conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else cur.rowcount
    finally:
        conn.close()



@pytest.fixture
def index(es):
    """A reports index name of one test, deleted afterwards."""
    name = f"cgtest-reports-{uuidlib.uuid4().hex[:8]}"
    yield name
    es.indices.delete(index=name, ignore_unavailable=True)


@pytest.fixture
def pc_db(clean_db):
    """The clean database without any PartyCrasher report and with an empty outbox."""
    sql(clean_db, "TRUNCATE " + ", ".join(PC_TABLES) + " RESTART IDENTITY")
    sql(clean_db, "DELETE FROM pc_reports_index_outbox")  # the truncation's reset marker
    return clean_db


@pytest.fixture
def config_for(pc_db, es_url, index):
    def make(*argv, url=es_url):
        return make_config(pc_db, f"--elasticsearch.urls={url}",
                           f"--elasticsearch.reports_index={index}",
                           "--database.max_connections=12", "--database.pool_wait_seconds=60",
                           "--elasticsearch.timeout_seconds=60", *argv)
    return make


@pytest.fixture
def closing():
    """``closing(thing)``: close it after the test."""
    things = []
    yield lambda thing: things.append(thing) or thing
    for thing in reversed(things):
        thing.close()


@pytest.fixture
def engine(config_for, closing):
    """``engine(*argv)``: (Reports, Search) of the Elasticsearch engine."""
    def make(*argv, url=None):
        backend = closing(ElasticsearchBackend(config_for(*argv, **({"url": url} if url else {}))))
        return bucketing.Reports(backend), bucketing.Search(backend)
    return make


@pytest.fixture
def pg_engine(config_for, closing):
    backend = closing(PostgreSQLBackend(config_for()))
    return pg.Reports(backend), pg.Search(backend)


@pytest.fixture
def indexer(config_for, closing):
    def make(url=None, **overrides):
        config = config_for(**({"url": url} if url else {}))
        return closing(ReportsIndexer.from_config(config, **overrides))
    return make


def doc(database_id, stack, date="2017-01-05T08:00:00", **fields):
    return dict({"database_id": database_id, "date": date,
                 "stacktrace": [{"function": name} for name in stack]}, **fields)


def post(reports, body, project="proj", dry_run=False):
    return reports.ingest(parse_reports(body, project), dry_run=dry_run)


def drain_all(indexer):
    total = 0
    while moved := indexer.drain_once():
        total += moved
    return total


def es_ids(es, index):
    es.indices.refresh(index=index)
    hits = es.search(index=index, body={"size": 10000, "query": {"match_all": {}}})
    return {hit["_id"]: hit["_source"] for hit in hits["hits"]["hits"]}


def outbox_size(dsn):
    return sql(dsn, "SELECT count(*) FROM pc_reports_index_outbox")[0][0]


# -- the index ------------------------------------------------------------------------------
@pytest.mark.parametrize("tokenizer", ["camel", "lerch", "space"])
def test_index_analyzer_tokenizes_like_the_python_tokenizer(es, index, tokenizer):
    ensure_index(es, index, tokenizer)
    tokenize = load_tokenizer(tokenizer)
    for text in ["call MooseX::FTPClass2_beta", "QCommonStyle::drawControl",
                 "g_main_context_dispatch", "/usr/lib/libQtGui.so.4", "nbd-server.c:1546",
                 "a little bit of tea", "Überfall::ÄrgerNis42x"]:
        analyzed = es.indices.analyze(index=index, body={"analyzer": "report_text",
                                                         "text": text})
        assert [token["token"] for token in analyzed["tokens"]] == tokenize(text), text


def test_report_document_keeps_the_mapping_small(es, index):
    ensure_index(es, index, "camel")
    deep = {"a": {"b": {"c": {"d": {"e": {"f": "deepValue"}}}}}}
    many = {f"key{n}": f"value{n}" for n in range(100)}
    row = {"id": 1, "database_id": "x1", "project": "p",
           "date": datetime.datetime(2017, 1, 5, tzinfo=UTC),
           "document": dict(doc("x1", STACK_A, address="0x0804cbd3"), **deep, **many,
                            uuid="4340edb8-360d-495b-2c10-e9ccf2261023")}
    text = index_document(row)["text"]
    assert text["a__b__c__d"] == ["deepValue"]  # cut at four keys
    assert len(text) == 64 + 1 and len(text["other"]) > 30  # the rest in "other"
    assert text["stacktrace__top0"] == ["QCommonStyle::drawControl"] * TOP_FRAME_WEIGHTS[0]
    assert text["stacktrace__function"] == STACK_A
    assert "address" not in text  # only a hexadecimal number: left out
    assert "uuid" not in text and "database_id" not in text and "date" not in text
    es.index(index=index, id="x1", body=index_document(row), refresh=True)
    fields = es.indices.get_mapping(index=index)[index]["mappings"]["properties"]["text"]
    assert len(fields["properties"]) == 65


def test_crash_index_template_matching_the_reports_index_adds_no_alias(es, index):
    from crashgate.external.elasticsearch.indices import install_template

    prefix = index[:len("cgtest-")]  # "cgtest-": the crash template now matches the index
    install_template(es, prefix)
    try:
        ensure_index(es, index, "camel")
        assert es.indices.get_alias(index=index)[index]["aliases"] == {}
        analyzed = es.indices.analyze(index=index, body={"analyzer": "report_text",
                                                         "text": "FTPClass"})
        assert [token["token"] for token in analyzed["tokens"]] == ["FTP", "Class"]
    finally:
        es.indices.delete_template(name=f"{prefix}template")


# -- the outbox -----------------------------------------------------------------------------
def test_outbox_drains_into_the_index_and_survives_an_outage(pc_db, es, index, engine,
                                                             indexer, config_for):
    reports, _ = engine()
    post(reports, [doc(f"r{n}", [STACK_A, STACK_B, STACK_C][n % 3]) for n in range(30)])
    assert outbox_size(pc_db) == 30  # queued in the storing transaction

    down = indexer(url=UNREACHABLE_ES)
    with pytest.raises(BackendUnavailable):
        down.drain_once()
    assert (down.backlog(), down.failed()) == (30, 0)  # nothing lost
    backing_off = ReportsIndexer.from_config(config_for(url=UNREACHABLE_ES))
    stop_indexer = run_in_thread(backing_off)
    deadline = time.monotonic() + 30
    while backing_off.failures < 3:  # backing off, not crashing
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stop_indexer()
    assert outbox_size(pc_db) == 30

    up = indexer(batch_size=7)
    assert drain_all(up) == 30 and up.backlog() == 0
    stored = sql(pc_db, "SELECT r.id, r.database_id, p.name AS project, r.date, r.document "
                        "FROM pc_reports r JOIN pc_projects p ON p.id = r.project_id")
    expected = {row[1]: index_document(dict(zip(("id", "database_id", "project", "date",
                                                 "document"), row))) for row in stored}
    assert es_ids(es, index) == expected  # count and content equal PostgreSQL's


def test_rejected_report_is_set_aside_and_requeued_after_the_fix(pc_db, es, index, engine,
                                                                 indexer):
    reports, _ = engine()
    post(reports, doc("a1", STACK_A))
    drain = indexer()
    drain_all(drain)
    fields = len(es.indices.get_mapping(index=index)[index]["mappings"]["properties"]["text"]
                 ["properties"])
    es.indices.put_settings(index=index, body={"index.mapping.total_fields.limit": fields + 6})
    post(reports, [doc("odd", STACK_B, **{f"new{n}": "value" for n in range(10)}),
                   doc("a2", STACK_A)])
    assert drain.drain_once() == 2
    assert (drain.backlog(), drain.failed()) == (0, 1)  # the queue moves on
    assert set(es_ids(es, index)) == {"a1", "a2"}
    [(error,)] = sql(pc_db, "SELECT error FROM pc_reports_index_outbox")
    assert "Limit of total fields" in error

    es.indices.put_settings(index=index, body={"index.mapping.total_fields.limit": 5000})
    assert drain.requeue_failed() == 1 and drain.drain_once() == 1
    assert set(es_ids(es, index)) == {"a1", "a2", "odd"}
    es.indices.delete(index=index)  # e.g. to change the tokenizer: recreated, refilled
    assert drain.requeue_all() == 3 and drain_all(drain) == 4  # with the reset row
    assert set(es_ids(es, index)) == {"a1", "a2", "odd"}


def test_ingestion_with_elasticsearch_down_is_unavailable_and_stores_nothing(pc_db, engine):
    reports, _ = engine(url=UNREACHABLE_ES)
    post(reports, doc("seed", STACK_A))  # the first report of a project needs no search
    with pytest.raises(BackendUnavailable, match="Elasticsearch is unavailable"):
        post(reports, doc("a2", STACK_A))
    assert sql(pc_db, "SELECT database_id FROM pc_reports") == [("seed",)]


def test_http_ingestion_routed_to_elasticsearch_answers_503_json_when_it_is_down(pc_db,
                                                                               config_for):
    from crashgate.middleware.app import make_wsgi_app
    from crashgate.runtime import build_gateway
    from tests.wsgiclient import WSGIClient

    config = config_for("--implementations.service_overrides="
                        "pc_reports: elasticsearch, pc_dry_run: elasticsearch",
                        url=UNREACHABLE_ES)
    gateway = build_gateway(config)
    try:
        client = WSGIClient(make_wsgi_app(gateway))
        first = client.post_json("/proj/reports", doc("a1", STACK_A))
        assert first.status == 201 and first.headers["X-Crashgate-Backend"] == "elasticsearch"
        second = client.post_json("/proj/reports", doc("a2", STACK_A))
        assert second.status == 503
        assert second.json["error"]["message"].startswith("Elasticsearch is unavailable")
        dry = client.post_json("/proj/reports/dry-run", doc("a3", STACK_A))
        assert dry.status == 503 and dry.json["error"]["type"] == second.json["error"]["type"]
    finally:
        for backend in gateway.backends.values():
            backend.close()
    assert sql(pc_db, "SELECT database_id FROM pc_reports") == [("a1",)]


def test_delete_all_empties_the_index(pc_db, es, index, engine, indexer):
    reports, _ = engine("--bucketing.allow_delete_all=true")
    post(reports, [doc("a1", STACK_A), doc("b1", STACK_B)])
    drain = indexer()
    drain_all(drain)
    assert set(es_ids(es, index)) == {"a1", "b1"}
    assert reports.delete_all() == 2
    post(reports, doc("c1", STACK_C))
    assert drain_all(drain) == 2  # the reset, then c1
    assert set(es_ids(es, index)) == {"c1"}


# -- candidates -----------------------------------------------------------------------------
def test_more_like_this_finds_the_similar_reports(pc_db, es, index, engine, indexer):
    reports, _ = engine()
    stored = post(reports, [doc("a1", STACK_A), doc("b1", STACK_B), doc("a2", STACK_A[:4]),
                            doc("c1", STACK_C), doc("b2", STACK_B[1:])])
    post(reports, [doc("x1", STACK_A)], project="other")
    drain_all(indexer())
    assert outbox_size(pc_db) == 0  # every candidate must come from the index
    finder = reports.finder
    like = bucketing.terms_document(_query_terms(doc("q", STACK_A)))
    assert set(finder.more_like_this("proj", like, 25, 20)) >= {"a1", "a2"}
    assert set(finder.more_like_this("proj", like, 25, 2)) == {"a1", "a2"}
    whole = report_fields(doc("q", STACK_A))  # the report itself as the like document
    assert set(finder.more_like_this("proj", whole, 25, 2)) == {"a1", "a2"}
    [result] = post(reports, doc("a3", STACK_A[:3]))
    assert result.top_match.database_id in ("a1", "a2")
    lowest = min(result.buckets)
    assert result.buckets[lowest] == stored[0].buckets[lowest]


def _query_terms(report):
    return [QueryTerm(term, 1.0, 1, None)
            for term in report_terms(report, load_tokenizer("camel"))]


def test_reports_posted_back_to_back_bucket_together_without_refresh(pc_db, es, index,
                                                                     engine, indexer):
    reports, _ = engine()
    post(reports, doc("old", STACK_B))
    drain_all(indexer())
    es.indices.put_settings(index=index, body={"refresh_interval": "-1"})
    for n in range(5):  # no indexer running, no refresh: only the outbox can find them
        [result] = post(reports, doc(f"a{n}", STACK_A))
        if n:
            assert result.top_match.database_id == "a0" and result.top_match.score == 10.0
    buckets = [r.buckets for r in post(reports, [doc(f"a{n}", STACK_A) for n in range(5)])]
    assert all(b == buckets[0] for b in buckets)
    assert outbox_size(pc_db) == 5


def test_a_batch_sees_its_own_earlier_items(pc_db, engine):
    reports, _ = engine()
    post(reports, doc("seed", STACK_C))
    first, second = post(reports, [doc("a1", STACK_A), doc("a2", STACK_A)])
    assert second.top_match.database_id == "a1" and second.buckets == first.buckets


def test_dry_run_stores_nothing(pc_db, engine):
    reports, _ = engine()
    post(reports, [doc("a1", STACK_A), doc("b1", STACK_B)])
    [result] = post(reports, doc("a2", STACK_A), dry_run=True)
    assert result.top_match.database_id == "a1" and result.created
    assert outbox_size(pc_db) == 2
    assert sql(pc_db, "SELECT count(*) FROM pc_reports") == [(2,)]


def test_concurrent_similar_posts_found_exactly_one_bucket(pc_db, engine, indexer, config_for):
    reports, _ = engine()
    post(reports, [doc("b1", STACK_B), doc("c1", STACK_C)])  # unrelated reports
    stop_indexer = run_in_thread(ReportsIndexer.from_config(config_for()))
    barrier = threading.Barrier(8)

    def post_one(n):
        barrier.wait()
        return post(reports, doc(f"a{n}", STACK_A))[0]

    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(post_one, range(8)))
    finally:
        stop_indexer()
    founders = [result for result in results
                if result.top_match is None or result.top_match.database_id[0] != "a"]
    assert len(founders) == 1  # the seven others joined an "a" report
    for threshold in results[0].buckets:
        assert len({result.buckets[threshold] for result in results}) == 1


# -- agreement with the PostgreSQL engine ---------------------------------------------------
def timed_ingest(reports, documents, project):
    """Post one report per request; (results, seconds per report)."""
    started = time.perf_counter()
    results = [post(reports, document, project=project)[0] for document in documents]
    return results, (time.perf_counter() - started) / len(documents)


def test_same_buckets_as_the_postgresql_engine_on_labelled_reports(pc_db, engine, pg_engine,
                                                                   config_for):
    """The same labelled reports, one per request, with the PostgreSQL engine into project A
    and the Elasticsearch engine into project B (indexer running: candidates come from the
    index and the outbox as it happens). Scores are exact on both, so the engines differ only
    where one candidate search misses the best match; one different top match moves whole
    chains of reports at low thresholds, hence the partition is compared with BCubed F1."""
    labelled = generate_labelled_reports(200, seed=5)
    documents = [dict(report, project="A") for report, _ in labelled]
    copies = [dict(report, project="B", database_id="B-" + report["database_id"],
                   uuid="bbbbbbbb" + report["uuid"][8:]) for report, _ in labelled]
    stop_indexer = run_in_thread(
        ReportsIndexer.from_config(config_for("--elasticsearch.indexer_idle_seconds=0.1")))
    try:
        pg_results, pg_seconds = timed_ingest(pg_engine[0], documents, "A")
        es_results, es_seconds = timed_ingest(engine()[0], copies, "B")
    finally:
        stop_indexer()
    same_match = sum(
        (a.top_match and (a.top_match.database_id, a.top_match.score))
        == (b.top_match and (b.top_match.database_id[2:], b.top_match.score))
        for a, b in zip(pg_results, es_results)) / len(labelled)
    thresholds = sorted(pg_results[0].buckets)
    partition_f1 = {t: clustering_scores(
        (b.buckets[t], a.buckets[t]) for a, b in zip(pg_results, es_results)).bcubed_f1
        for t in thresholds}
    default = parse_threshold(config_for().bucketing.default_threshold)
    gold = {name: clustering_scores((r.buckets[default], label) for r, (_, label)
                                    in zip(results, labelled)).bcubed_f1
            for name, results in (("pg", pg_results), ("es", es_results))}
    print(f"\ningest per report: PostgreSQL engine {pg_seconds * 1000:.1f} ms, "
          f"Elasticsearch engine {es_seconds * 1000:.1f} ms; same top match (report and "
          f"score) {same_match:.1%}; BCubed F1 of the ES partition against PG's: "
          + ", ".join(f"{t}: {f1:.3f}" for t, f1 in partition_f1.items())
          + f"; F1 against the labels at {default}: PG {gold['pg']:.3f}, "
            f"ES {gold['es']:.3f}")
    assert same_match >= 0.95
    assert partition_f1[default] >= 0.9 and min(partition_f1.values()) >= 0.8
    assert gold["es"] >= gold["pg"] - 0.03


# -- search ---------------------------------------------------------------------------------
def test_search_matches_postgresql_search(pc_db, engine, pg_engine, indexer):
    es_reports, es_search = engine()
    _, pg_search = pg_engine
    post(es_reports, [doc(f"r{n}", [STACK_A, STACK_B, STACK_C][n % 3],
                          date=f"2017-01-{n + 1:02d}T08:00:00") for n in range(12)])
    post(es_reports, doc("o1", STACK_A), project="other")
    drain_all(indexer())
    since = datetime.datetime(2017, 1, 2, 8, tzinfo=UTC)  # strict: r1 is out
    until = datetime.datetime(2017, 1, 12, tzinfo=UTC)
    for q in ["drawControl", "stacktrace.function:nbd", "main Style", None]:
        for offset, size in [(0, 10), (2, 3), (20, 5)]:
            found = es_search.search("proj", q, since, until, offset, size)
            expected = pg_search.search("proj", q, since, until, offset, size)
            assert found == expected, (q, offset, size)
    everywhere = es_search.search(None, "drawControl", None, None, 0, 50)
    assert everywhere["total"] == 5 and {r["project"] for r in everywhere["reports"]} == \
        {"proj", "other"}
    assert es_search.search("proj", "stacktrace.function:nbd", since, until, 0, 10)["total"] == 3


def test_search_rejects_a_bad_query_string_and_a_deep_page(pc_db, engine):
    _, search = engine()
    with pytest.raises(BadArgument) as bad_q:
        search.search("proj", "stacktrace.function:(unbalanced", None, None, 0, 10)
    assert bad_q.value.parameter == "q"
    with pytest.raises(BadArgument) as deep:
        search.search("proj", None, None, None, 9995, 10)
    assert deep.value.parameter == "from"
