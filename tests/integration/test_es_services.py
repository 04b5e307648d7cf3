"""The crash services on a real Elasticsearch node, over WSGI round trips with
``force_api_impl/elasticsearch/``: each answer is checked for itself and against PostgreSQL's."""
import datetime
import re
from urllib.parse import quote

import psycopg2
import pytest

from crashgate.external.elasticsearch import search as es_search
from crashgate.fakedata import TRICKY_SIGNATURES
from crashgate.services.search_filters import TEXT_TERMS
from crashgate.external.elasticsearch.backend import ElasticsearchBackend
from crashgate.external.elasticsearch.indexer import Indexer
from tests.conftest import make_config
from tests.es_helpers import es_client, gateway, reindex
from tests.factories import crash_doc, store, uuid_for
from tests.search_cases import (FILTER_CASES, FREQUENCY_OF_JS, frequency_crash_set,
                                search_crash_set)

PREFIX = "es-services-"
UTC = datetime.timezone.utc
DAY = datetime.datetime(2012, 11, 7, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)
TRICKY = ["this/is+a=C|signature", "100% CPU", "ns'Quote\"d \\ back", "Ünïcödé::función",
          "a b  c", "x'; DROP TABLE reports; --", "star*and?question", *TRICKY_SIGNATURES]
WINDOW = f"from/{DAY - 2 * HOUR * 24:%Y-%m-%d}/to/{DAY + 2 * HOUR * 24:%Y-%m-%d}/"


def q(value, times=1):
    for _ in range(times):
        value = quote(value, safe="")
    return value


def encodings(value):
    """Single and double percent-encoding; only double when the text itself holds %XX."""
    return [q(value, 2)] if re.search("%[0-9A-Fa-f]{2}", value) else [q(value), q(value, 2)]


@pytest.fixture
def load(clean_db, es_url):
    """``load(docs, products=None)``: store crashes in PostgreSQL and index them."""
    def load(docs, products=None):
        store(clean_db, docs, products=products)
        reindex(es_url, clean_db, PREFIX)
    reindex(es_url, clean_db, PREFIX)  # nothing left from the previous test
    return load


@pytest.fixture
def client(clean_db, es_url):
    with gateway(clean_db, es_url, PREFIX) as client:
        yield client


def es(client, path, status=200):
    """The Elasticsearch answer (checked equal to PostgreSQL's when ``status`` is 200)."""
    joiner = "&" if "?" in path else "?"
    response = client.get(f"{path}{joiner}force_api_impl=elasticsearch")
    assert response.status == status, response
    if status == 200:
        assert response.headers["X-Crashgate-Backend"] == "elasticsearch"
        postgresql = client.get(f"{path}{joiner}force_api_impl=postgresql")
        assert response.body == postgresql.body, path
    return response.json


# -- /report/list, /search/crashes -----------------------------------------------------------

def test_report_list_round_trips_tricky_signatures(client, load):
    load([crash_doc(DAY, s, url="http://x.example/") for s in TRICKY]
         + [crash_doc(DAY, "other")])
    for signature in TRICKY:
        for encoded in encodings(signature):
            body = es(client, f"/report/list/signature/{encoded}/{WINDOW}")
            assert body["total"] == 1, (signature, encoded)
            assert body["hits"][0]["signature"] == signature
            query = f"/report/list/?signature={encoded}&from=2012-11-01&to=2012-11-08"
            assert es(client, query)["total"] == 1
    hit = es(client, f"/report/list/signature/{q(TRICKY[0], 2)}/{WINDOW}")["hits"][0]
    assert hit["date_processed"] == "2012-11-07T00:00:00+00:00"
    assert hit["install_time"] == "2012-11-06T22:59:00+00:00"
    assert "email" not in hit and isinstance(hit["uptime"], int)
    es(client, "/report/list/", status=400)


def test_report_list_paging_dates_and_deep_pages(client, load, monkeypatch):
    docs = [crash_doc(DAY - i * HOUR, "paged") for i in range(1, 8)]
    docs.append(crash_doc(DAY - datetime.timedelta(days=10), "paged"))
    load(docs)
    since = f"from/{DAY - 3 * HOUR * 24:%Y-%m-%d}/to/{DAY:%Y-%m-%d}/"
    page = es(client, f"/report/list/signature/paged/{since}result_number/3/result_offset/2/")
    assert page["total"] == 7
    assert [h["date_processed"] for h in page["hits"]] == [
        (DAY - i * HOUR).isoformat() for i in (3, 4, 5)]
    until = (DAY - 5 * HOUR).isoformat()
    assert es(client, f"/report/list/signature/paged/from/2012-10-01/to/{q(until)}/")["total"] == 3
    assert es(client, f"/report/list/signature/paged/{since}result_offset/7/")["hits"] == []
    monkeypatch.setattr(es_search, "HIT_WINDOW", 2)  # page with search_after past the window
    for offset, number in ((0, 3), (1, 5), (3, 100), (6, 2), (8, 1)):
        es(client, f"/report/list/signature/paged/from/2012-10-01/to/2012-11-08/"
                   f"result_number/{number}/result_offset/{offset}/")


# -- /search/signatures and the shared filters ------------------------------------------------

@pytest.fixture
def search_crashes(load):
    load(*search_crash_set(DAY))


def signatures(client, path):
    return {h["signature"]: h["count"] for h in es(client, path)["hits"]}


def test_search_signatures_socorro_case(client, search_crashes):
    body = es(client, f"/search/signatures/{WINDOW}products/WaterWolf/"
                      "versions/WaterWolf:1.0+WaterWolf:3.0b2/os/win/build_ids/20001212010203/"
                      "reasons/STACK_OVERFLOW/")
    assert body == {"total": 2, "hits": [
        {"signature": "sig1", "count": 2, "is_windows": 2, "is_mac": 0, "is_linux": 0,
         "numhang": 1, "numplugin": 1, "numcontent": 0},
        {"signature": "sig2", "count": 2, "is_windows": 2, "is_mac": 0, "is_linux": 0,
         "numhang": 0, "numplugin": 0, "numcontent": 0}]}


@pytest.mark.parametrize("path, expected", FILTER_CASES)
def test_search_filters(client, search_crashes, path, expected):
    assert signatures(client, f"/search/signatures/{WINDOW}{path}") == expected


def test_many_and_long_terms(client, search_crashes):
    most = [f"t{n}" for n in range(TEXT_TERMS - 1)] + ["sig3"]
    assert signatures(client, f"/search/signatures/{WINDOW}for/{'+'.join(most)}/in/signature/"
                      ) == {"sig3": 1}
    too_many = client.get(f"/search/signatures/{WINDOW}for/{'+'.join(most + ['t'])}/"
                          "force_api_impl/elasticsearch/")
    assert too_many.status == 400 and too_many.json["error"]["parameter"] == "terms"
    assert signatures(client, f"/search/signatures/{WINDOW}for/{'x' * 3000}/") == {}
    assert signatures(client, f"/search/signatures/{WINDOW}for/{'ED ON SIG3 AGAIN' * 3}/") == {}
    assert signatures(client, f"/search/signatures/{WINDOW}for/CRASHED%20ON%20SIG3%20AGAIN/"
                              "in/user_comments+url/") == {"Foo::Bar": 1}
    assert signatures(client, f"/search/signatures/{WINDOW}for/CRASHED%20ON%20SIG3%20AGAIN/"
                              "in/user_comments/search_mode/starts_with/") == {"Foo::Bar": 1}


def test_search_crashes_and_signatures_paging_and_total(client, search_crashes):
    body = es(client, f"/search/crashes/{WINDOW}products/WaterWolf/result_number/2/")
    assert body["total"] == 7 and len(body["hits"]) == 2
    rest = es(client, f"/search/crashes/{WINDOW}?products=WaterWolf&result_number=10"
                      "&result_offset=2")
    assert rest["total"] == 7 and len(rest["hits"]) == 5
    paged = es(client, f"/search/signatures/{WINDOW}result_number/1/result_offset/1/")
    assert paged["total"] == 5 and len(paged["hits"]) == 1
    assert es(client, f"/search/signatures/{WINDOW}result_offset/100/") == {"hits": [], "total": 5}
    assert es(client, f"/search/signatures/{WINDOW}result_number/0/") == {"hits": [], "total": 5}


# -- /crashes/comments, /crashes/frequency, /crashes/paireduuid ------------------------------

def test_comments(client, load):
    load([crash_doc(DAY - HOUR, "c", user_comments="I <3 crashes", email="a@example.com"),
          crash_doc(DAY - 2 * HOUR, "c", user_comments="second", email=""),
          crash_doc(DAY - 3 * HOUR, "c"),
          crash_doc(DAY - 4 * HOUR, "c", user_comments=""),
          crash_doc(DAY - 5 * HOUR, "c", user_comments="long " * 2000),
          crash_doc(DAY - HOUR, "d", user_comments="other signature")])
    assert es(client, f"/crashes/comments/{WINDOW}") is None
    body = es(client, f"/crashes/comments/signature/c/{WINDOW}")
    assert body["total"] == 3
    assert body["hits"][:2] == [
        {"date_processed": (DAY - HOUR).isoformat(), "user_comments": "I <3 crashes",
         "uuid": body["hits"][0]["uuid"], "email": "a@example.com"},
        {"date_processed": (DAY - 2 * HOUR).isoformat(), "user_comments": "second",
         "uuid": body["hits"][1]["uuid"], "email": None}]
    assert len(es(client, f"/crashes/comments/signature/c/{WINDOW}result_offset/1/")["hits"]) == 2


def test_frequency_is_a_real_frequency(client, load):
    load(frequency_crash_set(DAY) + [crash_doc(DAY, "js", build=None)])
    body = es(client, f"/crashes/frequency/signature/js/{WINDOW}")
    assert body == FREQUENCY_OF_JS
    windows_only = es(client, f"/crashes/frequency/signature/js/{WINDOW}os/windows/")["hits"]
    assert [(h["build_date"], h["count"], h["total"]) for h in windows_only] == [
        ("2012033117", 1, 1), ("2012033116", 1, 1)]
    assert es(client, f"/crashes/frequency/signature/none/{WINDOW}") == {"hits": [], "total": 0}
    es(client, "/crashes/frequency/", status=400)


def test_paireduuid(client, load):
    yesterday = DAY - datetime.timedelta(days=1)
    ids = {name: uuid_for(DAY if name != "c2" else yesterday, prefix=name) for name in
           ("a1", "a2", "a3", "b1", "c1", "c2", "d1")}
    load([crash_doc(DAY - HOUR, uuid=ids["a1"], hangid="ab1"),
          crash_doc(DAY - HOUR, uuid=ids["a2"], hangid="ab1", process_type="plugin"),
          crash_doc(DAY - HOUR, uuid=ids["a3"], hangid="ab1"),
          crash_doc(DAY - HOUR, uuid=ids["b1"], hangid="xxx"),
          crash_doc(DAY - HOUR, uuid=ids["c1"], hangid="cb1"),
          crash_doc(yesterday, uuid=ids["c2"], hangid="cb1"),
          crash_doc(DAY - datetime.timedelta(days=3), uuid=ids["d1"], hangid="cb1")])
    one = es(client, f"/crashes/paireduuid/uuid/{ids['a1']}/hangid/ab1/")
    assert one == {"hits": [{"uuid": min(ids["a2"], ids["a3"])}], "total": 1}
    both = es(client, f"/crashes/paireduuid/uuid/{ids['a1']}/")
    assert sorted(h["uuid"] for h in both["hits"]) == sorted([ids["a2"], ids["a3"]])
    assert es(client, f"/crashes/paireduuid/uuid/{ids['b1']}/") == {"hits": [], "total": 0}
    assert es(client, f"/crashes/paireduuid/uuid/{ids['c1']}/")["hits"] == [{"uuid": ids["c2"]}]
    unknown = uuid_for(DAY, prefix="ffff")  # dated by its YYMMDD ending
    assert es(client, f"/crashes/paireduuid/uuid/{unknown}/hangid/cb1/")["total"] == 1
    assert es(client, "/crashes/paireduuid/uuid/unknown/") == {"hits": [], "total": 0}
    es(client, "/crashes/paireduuid/", status=400)


# -- /extensions, /signatureurls, /crashes/signatures ---------------------------------------

def test_extensions_need_the_exact_date(client, load):
    a1, a2 = uuid_for(DAY, "a1"), uuid_for(DAY, "a2")
    load([crash_doc(DAY, uuid=a1, extensions=[{"id": f"id{i}", "version": f"version{i}"}
                                              for i in (1, 2, 3)] + [{"id": "x", "version": None}]),
          crash_doc(DAY, uuid=a2)])
    body = es(client, f"/extensions/uuid/{a1}/date/{DAY.isoformat()}/")
    assert [(h["extension_key"], h["extension_id"], h["extension_version"]) for h in body["hits"]] \
        == [(0, "id1", "version1"), (1, "id2", "version2"), (2, "id3", "version3"), (3, "x", None)]
    assert body["hits"][0]["date_processed"] == DAY.isoformat()
    assert isinstance(body["hits"][0]["report_id"], int)
    assert es(client, f"/extensions/uuid/{a2}/date/{DAY.isoformat()}/") == {"hits": [], "total": 0}
    assert es(client, f"/extensions/uuid/nope/date/{DAY.isoformat()}/")["total"] == 0
    for moment in (DAY + datetime.timedelta(seconds=1), DAY + datetime.timedelta(microseconds=1)):
        assert es(client, f"/extensions/uuid/{a1}/date/{q(moment.isoformat())}/")["total"] == 0
    es(client, "/extensions/", status=400)


def test_signatureurls(client, load):
    sig = "EMPTY: no crashing thread identified; corrupt dump"
    url = "http://deusex.wikia.com/wiki/Praxis_kit"
    load([crash_doc(DAY, sig, version="11.0", url=url),
          crash_doc(DAY, sig, version="11.0", url=url),
          crash_doc(DAY, sig, version="11.0", url="http://b.example/"),
          crash_doc(DAY, sig, version="11.0", url=""),
          crash_doc(DAY, sig, version="12.0", url="http://c.example/"),
          crash_doc(DAY, sig, product="Fennec", version="11.0", url="http://d.example/")])
    base = (f"/signatureurls/signature/{q(sig, 2)}/start_date/{q((DAY - HOUR).isoformat())}/"
            f"end_date/{q((DAY + HOUR).isoformat())}/")
    body = es(client, base + "products/Firefox/versions/Firefox:10.0+Firefox:11.0/")
    assert body == {"total": 2, "hits": [{"url": url, "crash_count": 2},
                                         {"url": "http://b.example/", "crash_count": 1}]}
    assert es(client, base + "products/Fennec/versions/Firefox:11.0/")["total"] == 0
    assert es(client, base + "products/ALL/versions/ALL/")["total"] == 4
    es(client, "/signatureurls/signature/x/", status=400)


def test_top_crashers_ranks_against_previous_period(client, load):
    today = DAY
    current, previous = today - datetime.timedelta(days=1), today - datetime.timedelta(days=8)
    load([crash_doc(current, "rising") for _ in range(3)]
         + [crash_doc(current, "steady", os_name="Mac OS X", hangid="h")]
         + [crash_doc(current, "newcomer", process_type="plugin", uptime=10)]
         + [crash_doc(current - HOUR, "b-tie"), crash_doc(current, "a-tie", version="17.0b1"),
            crash_doc(current, "a-tie")]
         + [crash_doc(previous, "steady") for _ in range(3)]
         + [crash_doc(previous, "rising"), crash_doc(today, "rising")]
         + [crash_doc(previous - datetime.timedelta(days=30), "rising", version="15.0")]
         + [crash_doc(current, "other version", version="17.0b1")])
    base = f"/crashes/signatures/product/Firefox/version/16.0.2/end_date/{today.date()}/"
    body = es(client, base + "duration/168/")
    assert body["totalNumberOfCrashes"] == 7
    assert body["start_date"] == (today - datetime.timedelta(days=7)).isoformat()
    assert [c["signature"] for c in body["crashes"]] == [
        "rising", "a-tie", "b-tie", "newcomer", "steady"]
    rows = {c["signature"]: c for c in body["crashes"]}
    assert rows["rising"]["changeInRank"] == 1 and rows["rising"]["versions"] == "15.0, 16.0.2"
    oldest = previous - datetime.timedelta(days=30)
    assert rows["rising"]["first_report"] == oldest.date().isoformat()
    assert rows["newcomer"]["changeInRank"] == "new" and rows["newcomer"]["previousRank"] is None
    assert rows["a-tie"]["versions"] == "16.0.2, 17.0b1"
    for path in ("crash_type/plugin/", "crash_type/browser/", "os/mac/limit/1/",
                 "duration/1/", "duration/25/", "limit/2/", "os/windows/crash_type/content/"):
        es(client, base + path)
    es(client, f"/crashes/signatures/product/Firefox/version/16.0.2/"
               f"end_date/{q((today - HOUR).isoformat())}/duration/30/")
    empty = es(client, "/crashes/signatures/product/Firefox/version/9.0a1/")
    assert empty["crashes"] == [] and empty["totalNumberOfCrashes"] == 0


def test_values_longer_than_keywords_keep_are_a_documented_difference(client, load):
    """docs/api.md: values over 8191 (and up to 10,922) characters are found by
    contains/starts_with only."""
    long_comment, long_url = "C" * 9000, "http://x/" + "U" * 9000
    load([crash_doc(DAY, "short", user_comments=long_comment),
          crash_doc(DAY, "short", url=long_url)])

    def totals(path):
        return tuple(client.get(f"{path}force_api_impl/{backend}/").json["total"]
                     for backend in ("postgresql", "elasticsearch"))

    urls = (f"/signatureurls/signature/short/start_date/{DAY - 2 * HOUR * 24:%Y-%m-%d}/"
            f"end_date/{DAY + 2 * HOUR * 24:%Y-%m-%d}/products/ALL/versions/ALL/")
    assert totals(urls) == (1, 0)
    assert totals(f"/search/crashes/{WINDOW}for/{long_comment}/in/user_comments/"
                  "search_mode/is_exactly/") == (1, 0)
    contains = f"/search/crashes/{WINDOW}for/{long_comment[1:8500].lower()}/in/user_comments/"
    assert totals(contains) == (1, 1)
    assert es(client, f"/crashes/comments/signature/short/{WINDOW}")["hits"][0]["user_comments"] \
        == long_comment


def test_oversized_values_are_indexed_and_a_documented_difference(clean_db, es_url, client):
    """Values over 32,766 UTF-8 bytes (Lucene's term limit) are indexed through the outbox,
    not rejected; docs/api.md: over 10,922 characters only exact crash lists show them."""
    huge = "Ünïcödé " + "Qz" * 20000  # 40,010 bytes, 40,008 characters
    store(clean_db, [crash_doc(DAY, "oversized", user_comments=huge, url="http://x/" + huge,
                               reason=huge, app_notes="Z" * 40000,
                               frames=[{"function": huge}])])
    with es_client(es_url) as es_:
        es_.indices.delete(index=f"{PREFIX}*", ignore_unavailable=True)
    indexer = Indexer(clean_db, [es_url], index_prefix=PREFIX, index_period="week")
    try:
        assert indexer.drain_once() == 1
        assert (indexer.failed(), indexer.stats.indexed) == (0, 1)
    finally:
        indexer.close()
    with es_client(es_url) as es_:
        es_.indices.refresh(index=f"{PREFIX}*")
        lowered = es_.indices.get_mapping(index=f"{PREFIX}*")
    twins = [field["fields"]["lower"] for mapping in lowered.values()
             for field in mapping["mappings"]["properties"].values()
             if "lower" in field.get("fields", {})]
    assert twins and all(twin["ignore_above"] == 10922 for twin in twins)  # < 32,766 bytes

    def totals(path):
        return tuple(client.get(f"{path}force_api_impl/{backend}/").json["total"]
                     for backend in ("postgresql", "elasticsearch"))

    assert totals(f"/report/list/signature/oversized/{WINDOW}") == (1, 1)
    assert es(client, f"/report/list/signature/oversized/{WINDOW}")["hits"][0]["user_comments"] \
        == huge
    for field in ("user_comments", "url", "reason", "frames"):
        assert totals(f"/search/crashes/{WINDOW}for/{q('qzqz')}/in/{field}/") == (1, 0), field
    assert totals(f"/crashes/comments/signature/oversized/{WINDOW}") == (1, 0)
    assert totals(f"/signatureurls/signature/oversized/start_date/{DAY - HOUR:%Y-%m-%d}/"
                  f"end_date/{DAY + 24 * HOUR:%Y-%m-%d}/products/ALL/versions/ALL/") == (1, 0)


def test_long_ranges_search_every_index(clean_db, es_url):
    """backend.indices names the range's indices, or the <prefix>all alias past 366 days, past
    the calendar or past what a request line holds: for every service."""
    config = make_config(clean_db, f"--elasticsearch.urls={es_url}",
                         f"--elasticsearch.index_prefix={PREFIX}",
                         "--elasticsearch.index_period=day")
    backend = ElasticsearchBackend(config)
    try:
        assert backend.indices(DAY, DAY + 48 * HOUR) == f"{PREFIX}20121107,{PREFIX}20121108"
        assert backend.indices(DAY, DAY) == f"{PREFIX}none"
        far = datetime.datetime(9999, 12, 31, tzinfo=UTC)
        for start, end in ((DAY - 367 * 24 * HOUR, DAY),  # too long
                           (DAY - 200 * 24 * HOUR, DAY),  # 200 names: over 3000 characters
                           (far - 24 * HOUR, far + HOUR * 23)):  # the next period overflows
            assert backend.indices(start, end) == f"{PREFIX}all", (start, end)
    finally:
        backend.close()
    store(clean_db, [crash_doc(DAY, "everywhere", user_comments="hello", url="http://e/")])
    reindex(es_url, clean_db, PREFIX, period="day")
    years = "from/2010-01-01/to/2014-01-01/"
    with gateway(clean_db, es_url, PREFIX, "--elasticsearch.index_period=day") as client:
        for path in (f"/report/list/signature/everywhere/{years}",
                     f"/crashes/comments/signature/everywhere/{years}",
                     f"/search/crashes/{years}", f"/search/signatures/{years}"):
            assert es(client, path)["total"] == 1, path
        frequency = es(client, f"/crashes/frequency/signature/everywhere/{years}")
        assert frequency["hits"][0]["count"] == 1
        urls = es(client, "/signatureurls/signature/everywhere/start_date/2010-01-01/"
                          "end_date/2014-01-01/products/ALL/versions/ALL/")
        assert urls["hits"] == [{"url": "http://e/", "crash_count": 1}]


# -- routing and outages ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/products/", "/products/builds/product/Firefox/",
                                  "/util/versions_info/versions/Firefox:1.0/", "/job/uuid/x/",
                                  "/priorityjobs/uuid/x/"])
def test_services_elasticsearch_does_not_hold_list_postgresql(client, path):
    error = es(client, path, status=400)["error"]
    assert error["type"] == "unsupported_backend" and error["expected"] == ["postgresql"]


def test_service_overrides_route_to_elasticsearch(clean_db, es_url, load):
    load([crash_doc(DAY, "routed")])
    with gateway(clean_db, es_url, PREFIX,
                 "--implementations.service_overrides=report_list: elasticsearch") as client:
        response = client.get(f"/report/list/signature/routed/{WINDOW}")
        assert response.headers["X-Crashgate-Backend"] == "elasticsearch"
        assert response.json["total"] == 1
        other = client.get(f"/search/crashes/{WINDOW}")
        assert other.headers["X-Crashgate-Backend"] == "postgresql"
        forced = client.get(f"/report/list/signature/routed/{WINDOW}force_api_impl/postgresql/")
        assert forced.headers["X-Crashgate-Backend"] == "postgresql"


def test_heartbeat_shows_the_indexing_backlog(clean_db, es_url):
    store(clean_db, [crash_doc(DAY, "queued"), crash_doc(DAY, "rejected")])
    with psycopg2.connect(clean_db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE es_outbox SET failed_at = now(), error = 'mapper_parsing_exception', "
                    "enqueued_at = now() - interval '1 hour' WHERE uuid IN "
                    "(SELECT uuid FROM reports WHERE signature = 'rejected')")
    conn.close()
    with gateway(clean_db, es_url, PREFIX) as client:
        beat = client.get("/__heartbeat__").json["backends"]["elasticsearch"]
    assert beat["status"] == "ok"
    outbox = beat["outbox"]
    assert (outbox["pending"], outbox["failed"]) == (1, 1)
    assert 0 <= outbox["oldest_seconds"] < 600
    with gateway(clean_db, "http://127.0.0.1:1", PREFIX) as client:
        beat = client.get("/__heartbeat__").json["backends"]["elasticsearch"]
    assert beat["status"] == "error"
    assert beat["message"].startswith("Elasticsearch is unavailable")
    assert "; outbox: 1 crashes pending (oldest " in beat["message"]
    assert beat["message"].endswith(" s), 1 rejected")


def test_unreachable_elasticsearch_is_503_while_postgresql_answers(clean_db):
    store(clean_db, [crash_doc(DAY, "down")])
    with gateway(clean_db, "http://127.0.0.1:1", PREFIX) as client:
        for path in (f"/report/list/signature/down/{WINDOW}", f"/search/signatures/{WINDOW}",
                     "/crashes/paireduuid/uuid/x/",
                     "/crashes/signatures/product/Firefox/version/16.0.2/"):
            down = client.get(path + "force_api_impl/elasticsearch/")
            assert down.status == 503, path
            assert down.headers["Content-Type"].startswith("application/json")
            assert down.json["error"]["type"] == "backend_unavailable"
            assert down.headers["Retry-After"] == "1"
        answered = client.get(f"/report/list/signature/down/{WINDOW}")
        assert answered.status == 200 and answered.json["total"] == 1
