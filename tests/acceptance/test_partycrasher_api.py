"""The PartyCrasher API over WSGI round trips, on both bucketing engines.

Adapted from PartyCrasher 0.2.0's REST tests (reference notes §4.1) to the spec and to
crashgate's decisions (docs/api.md, "PartyCrasher API"). The ``engine`` fixture routes the
ingestion services to PostgreSQL or to Elasticsearch (a real node) by configuration.
"""
import concurrent.futures
import copy
import json
import threading

import pytest

from tests.conftest import LAUNCHPAD_SAMPLES, make_config
from tests.wsgiclient import WSGIClient

BASE = "http://localhost"


def sample(name):
    report = json.loads((LAUNCHPAD_SAMPLES / f"{name}.json").read_text())
    report.pop("database_id", None)
    return report


@pytest.fixture(params=["postgresql", "elasticsearch"])
def engine(request):
    return request.param


ES_ENGINE_OVERRIDES = ("--implementations.service_overrides="
                      "pc_reports: elasticsearch, pc_dry_run: elasticsearch")


@pytest.fixture
def pc(request, clean_db, engine):
    """``pc(*options)``: a client whose ingestion runs on ``engine`` (for Elasticsearch: the
    session's node, a fresh reports index and the reports indexer running)."""
    from crashgate.middleware.app import make_wsgi_app
    from crashgate.runtime import build_gateway

    es_options = []
    if engine == "elasticsearch":
        es_url = request.getfixturevalue("es_url")
        es_options = [f"--elasticsearch.urls={es_url}", ES_ENGINE_OVERRIDES]
        _delete_reports_index(es_url)
    running = []

    def make(*options):
        config = make_config(clean_db, *es_options, *options)
        gateway = build_gateway(config)
        running.append((gateway, _start_reports_indexer(config) if es_options else None))
        return WSGIClient(make_wsgi_app(gateway))

    yield make
    for gateway, stop_indexer in running:
        if stop_indexer:
            stop_indexer()
        for backend in gateway.backends.values():
            backend.close()


def _start_reports_indexer(config):
    from crashgate.external.elasticsearch.indexer import run_in_thread
    from crashgate.external.elasticsearch.reports_index import ReportsIndexer

    return run_in_thread(ReportsIndexer.from_config(config))


def _delete_reports_index(url):
    from elasticsearch import Elasticsearch

    client = Elasticsearch([url])
    client.indices.delete(index="crashgate-reports", ignore_unavailable=True)
    client.close()


def post(client, uri, document, **kwargs):
    return client.post_json(uri, document, **kwargs)


def test_post_report_with_project_in_body(pc):
    client = pc()
    response = post(client, "/reports", {"database_id": "U1", "project": "alan_parsons",
                                         "date": "2017-01-05T08:18:45"})
    assert response.status == 201
    assert response.headers["Location"] == f"{BASE}/alan_parsons/reports/U1"
    body = response.json
    assert (body["database_id"], body["project"]) == ("U1", "alan_parsons")
    assert body["href"] == response.headers["Location"]
    assert body["date"] == "2017-01-05T08:18:45+00:00"
    assert list(body["buckets"]) == ["3.0", "4.0", "5.0", "5.5", "6.0", "6.5", "7.0", "7.5",
                                     "8.0", "9.0"]
    bucket = body["buckets"]["4.0"]
    assert bucket["id"] == bucket["bucket_id"] and len(bucket["id"]) == 16
    assert bucket["href"] == f"{BASE}/alan_parsons/buckets/4.0/{bucket['id']}"
    assert body["top_match"] is None


def test_post_report_to_project_url_and_default_date(pc):
    client = pc()
    response = post(client, "/alan_parsons/reports", {"database_id": "U2"})
    assert response.status == 201
    assert response.json["project"] == "alan_parsons"
    fetched = client.get("/alan_parsons/reports/U2").json
    assert fetched["date"] == response.json["date"]


def test_identical_id_answers_303_in_any_project_and_changes_nothing(pc):
    client = pc()
    first = post(client, "/alan_parsons/reports", {"database_id": "U3", "note": "one"})
    again = post(client, "/alan_parsons/reports", {"database_id": "U3", "note": "two"})
    assert again.status == 303
    assert again.headers["Location"] == first.headers["Location"]
    elsewhere = post(client, "/manhattan/reports", {"database_id": "U3"})
    assert elsewhere.status == 303
    assert elsewhere.headers["Location"] == first.headers["Location"]
    stored = client.get("/alan_parsons/reports/U3").json
    assert stored["note"] == "one"
    assert stored["buckets"] == first.json["buckets"]


def test_project_mismatch_is_400_and_stores_nothing(pc):
    client = pc()
    response = post(client, "/alan_parsons/reports", {"database_id": "U4",
                                                      "project": "manhattan"})
    assert response.status == 400
    error = response.json["error"]
    assert (error["type"], error["expected"], error["actual"]) == \
        ("project_mismatch", "alan_parsons", "manhattan")
    assert client.get("/alan_parsons/reports/U4").status == 404
    assert client.get("/manhattan/reports/U4").status == 404


@pytest.mark.parametrize("body, parameter", [
    ({"project": "p"}, "database_id"),
    ({"database_id": "x", "date": "not a date"}, "date"),
    ({"database_id": "x", "project": "reports"}, "project"),
])
def test_bad_reports_are_400_naming_the_field(pc, body, parameter):
    response = post(pc(), "/reports", dict({"project": "p"}, **body))
    assert response.status == 400
    assert response.json["error"]["parameter"] == parameter


def test_post_array_gives_per_item_results_in_order(pc):
    client = pc()
    post(client, "/alan_parsons/reports", {"database_id": "A0"})
    response = post(client, "/alan_parsons/reports",
                    [{"database_id": "A1"}, {"database_id": "A0"}, {"database_id": "A2"},
                     {"database_id": "A1"}])
    assert response.status == 201
    assert "Location" not in response.headers
    assert [(item["database_id"], item["status"]) for item in response.json] == \
        [("A1", 201), ("A0", 303), ("A2", 201), ("A1", 303)]
    assert all(item["href"].startswith(f"{BASE}/alan_parsons/reports/")
               for item in response.json)


def test_array_with_a_bad_item_stores_nothing(pc):
    client = pc()
    response = post(client, "/alan_parsons/reports",
                    [{"database_id": "B1"}, {"database_id": "B2", "project": "other"}])
    assert response.status == 400
    assert response.json["error"]["parameter"] == "reports[1].project"
    assert client.get("/alan_parsons/reports/B1").status == 404


def test_similar_reports_share_buckets_and_unrelated_ones_do_not(pc):
    client = pc()
    first = post(client, "/ubuntu/reports", dict(sample("1"), database_id="C1")).json
    second = post(client, "/ubuntu/reports", dict(sample("1"), database_id="C2")).json
    assert second["top_match"]["report_id"] == "C1"
    assert second["top_match"]["score"] == pytest.approx(10.0)
    assert second["buckets"] == first["buckets"]
    other = post(client, "/ubuntu/reports", dict(sample("3"), database_id="C3")).json
    assert other["buckets"]["9.0"]["id"] != first["buckets"]["9.0"]["id"]
    score = other["top_match"]["score"] if other["top_match"] else 0.0
    for threshold, bucket in other["buckets"].items():
        joined = bucket["id"] == first["buckets"][threshold]["id"]
        assert joined == (score >= float(threshold))


def test_dry_run_stores_nothing(pc):
    client = pc()
    post(client, "/ubuntu/reports", dict(sample("2"), database_id="D1"))
    for path in ("/ubuntu/reports/dry-run", "/ubuntu/reports/dry_run"):
        response = post(client, path, dict(sample("2"), database_id="D2"))
        assert response.status == 200
        assert response.json["top_match"]["report_id"] == "D1"
        assert all(bucket is not None for bucket in response.json["buckets"].values())
    lonely = post(client, "/elsewhere/reports/dry-run", {"database_id": "D3", "x": "y"})
    assert lonely.status == 200
    assert set(lonely.json["buckets"].values()) == {None}
    assert client.get("/ubuntu/reports/D2").status == 404
    assert client.get("/elsewhere/reports/D3").status == 404


def test_get_report_with_link_header_and_404(pc):
    client = pc()
    created = post(client, "/ubuntu/reports", dict(sample("4"), database_id="E1")).json
    response = client.get("/ubuntu/reports/E1")
    assert response.status == 200
    body = response.json
    assert body["stacktrace"] == sample("4")["stacktrace"]
    assert body["buckets"] == created["buckets"]
    assert response.headers["Link"] == f'<{created["buckets"]["5.0"]["href"]}>; rel="related"'
    assert client.get("/reports/E1").json["database_id"] == "E1"
    assert client.get("/ubuntu/reports/nope").status == 404
    assert client.get("/other/reports/E1").status == 404


def test_bucket_page_lists_its_reports(pc):
    client = pc()
    for index in range(3):
        post(client, "/alan_parsons/reports", {"database_id": f"R{index}",
                                               "rare": f"noise{index} words here"})
    created = [post(client, "/alan_parsons/reports",
                    {"database_id": f"T{index}", "tfidf_trickery": "Zebra Quokka",
                     "date": f"2020-01-0{index + 1}"}).json for index in range(5)]
    href = created[0]["buckets"]["8.0"]["href"]
    bucket = client.get(href).json
    assert bucket["total"] == 5
    assert bucket["threshold"] == "8.0"
    assert [r["database_id"] for r in bucket["top_reports"]] == ["T4", "T3", "T2", "T1", "T0"]
    assert bucket["top_reports"][0]["tfidf_trickery"] == "Zebra Quokka"
    page = client.get(href + "?from=1&size=2").json
    assert [r["database_id"] for r in page["top_reports"]] == ["T3", "T2"]
    assert page["total"] == 5
    assert client.get("/alan_parsons/buckets/8.0/nosuchbucket").status == 404
    assert client.get("/alan_parsons/buckets/8.5/" + created[0]["buckets"]["8.0"]["id"]) \
        .status == 404


def test_top_buckets_window_and_validation(pc):
    client = pc()
    for month in (1, 2, 3):
        post(client, "/chilango/reports", {"database_id": f"ch{month}", "text": "Same Thing",
                                           "date": f"2017-0{month}-05T08:18:45"})
    post(client, "/chilango/reports", {"database_id": "ch-other", "text": "Else Entirely",
                                       "date": "2017-01-20T00:00:00"})
    post(client, "/manhattan/reports", {"database_id": "mh1", "text": "Same Thing",
                                        "date": "2017-01-05T08:18:45"})
    response = client.get("/chilango/buckets/4.0?since=2017-01-01T00:00:00.000000&until=2525")
    assert response.status == 200
    body = response.json
    assert body["since"] == "2017-01-01T00:00:00+00:00"
    assert body["until"].startswith("2525-01-01")
    assert body["total"] == 2
    top = body["top_buckets"][0]
    assert (top["total"], top["project"]) == (3, "chilango")
    assert top["first_seen"] == "2017-01-05T08:18:45+00:00"
    assert top["last_seen"] == "2017-03-05T08:18:45+00:00"
    assert top["href"] == f"{BASE}/chilango/buckets/4.0/{top['id']}"
    assert "top_reports" in top
    strict = client.get("/chilango/buckets/4.0?since=2017-01-05T08:18:45&until=2017-03-05T08:18:45")
    assert [b["total"] for b in strict.json["top_buckets"]] == [1, 1]
    everywhere = client.get("/buckets/4.0?since=2017").json
    assert everywhere["total"] == 3
    assert client.get("/chilango/buckets?since=2017").json["threshold"] == "5.0"
    paged = client.get("/chilango/buckets/4.0?since=2017&from=1&size=1").json
    assert paged["total"] == 2 and [b["total"] for b in paged["top_buckets"]] == [1]
    assert client.get("/chilango/buckets/4.0?since=3-days-ago").json["total"] == 0


@pytest.mark.parametrize("query, parameter", [
    ("since=2015-02-29", "since"), ("since=herp", "since"), ("", "since"),
    ("since=2017&until=soon", "until"), ("since=2017&size=-1", "size"),
])
def test_top_buckets_bad_parameters(pc, query, parameter):
    response = pc().get(f"/alan_parsons/buckets/4.0?{query}")
    assert response.status == 400
    assert response.json["error"]["parameter"] == parameter


def test_unconfigured_threshold_is_404(pc):
    response = pc().get("/alan_parsons/buckets/4.5?since=2017")
    assert response.status == 404
    assert response.json["error"]["parameter"] == "threshold"
    assert pc().get("/alan_parsons/buckets/abc?since=2017").status == 400


def test_search_by_token_and_window(pc):
    client = pc()
    for index, month in enumerate((1, 2, 3)):
        post(client, "/hamburgerpalace/reports",
             {"database_id": f"hp{index}", "message": f"failed in XyzzyWidget step{index}",
              "date": f"2016-0{month}-15T00:00:00"})
    post(client, "/hamburgerpalace/reports", {"database_id": "hp-x", "message": "Plugh",
                                              "date": "2016-01-15T00:00:00"})
    found = client.get("/hamburgerpalace/search?q=Xyzzy").json
    assert found["total"] == 3
    assert [r["database_id"] for r in found["reports"]] == ["hp2", "hp1", "hp0"]
    for month in (1, 2, 3):
        window = client.get(f"/hamburgerpalace/search?q=Xyzzy&since=2016-0{month}-01"
                            f"&until=2016-0{month + 1}-01").json
        assert [r["database_id"] for r in window["reports"]] == [f"hp{month - 1}"]
    assert client.get("/other/search?q=Xyzzy").json["total"] == 0


def test_config_reports_the_bucketing_settings(pc):
    body = pc().get("/alan_parsons/config").json
    assert body["default_threshold"] == 5.0
    assert "5.0" in body["thresholds"]
    assert body["tokenizer"] == "camel"


def test_summary_and_compare_explain_the_match(pc):
    client = pc()
    post(client, "/ubuntu/reports", dict(sample("1"), database_id="S1"))
    varied = sample("1")
    varied["stacktrace"] = varied["stacktrace"][:3]
    post(client, "/ubuntu/reports", dict(varied, database_id="S2"))
    summary = client.get("/ubuntu/reports/S2/summary").json
    assert summary["top_match"]["report_id"] == "S1"
    assert summary["terms"]
    weights = [term["weight"] for term in summary["terms"]]
    assert weights == sorted(weights, reverse=True)
    assert {"field", "term", "weight"} <= set(summary["terms"][0])
    comparison = client.get("/ubuntu/reports/S2/compare/S1").json
    assert 0 < comparison["score"] <= 10 and 0 < comparison["reverse_score"] <= 10
    assert comparison["terms"]
    s1, s2 = (client.get(f"/ubuntu/reports/{i}").json["buckets"] for i in ("S1", "S2"))
    assert comparison["shared_buckets"] == [t for t in sorted(s1, key=float)
                                            if s1[t]["id"] == s2[t]["id"]]
    assert comparison["shared_buckets"]
    missing = client.get("/ubuntu/reports/S2/compare/nope")
    assert missing.status == 404 and "nope" in missing.json["error"]["message"]


def test_delete_all_needs_the_configuration(pc):
    client = pc()
    post(client, "/alan_parsons/reports", {"database_id": "Z1"})
    forbidden = client.delete("/reports")
    assert forbidden.status == 403
    assert forbidden.json["error"]["type"] == "forbidden"
    assert client.get("/alan_parsons/reports/Z1").status == 200
    allowed = pc("--bucketing.allow_delete_all=true")
    response = allowed.delete("/reports")
    assert response.status == 200 and response.json["deleted"] == 1
    assert allowed.get("/alan_parsons/reports/Z1").status == 404


def test_hrefs_follow_the_client_facing_host(pc):
    client = pc()
    behind_new = post(client, "/p/reports", {"database_id": "H1"},
                      headers={"Forwarded": "for = 127.0.0;host = example.org;proto = https, "
                                            "for=198.51.100.17"})
    assert behind_new.headers["Location"] == "https://example.org/p/reports/H1"
    assert behind_new.json["href"] == "https://example.org/p/reports/H1"
    behind_old = client.get("/p/reports/H1", headers={"X-Forwarded-Host": "example.org",
                                                      "X-Forwarded-Proto": "https"})
    assert behind_old.json["href"] == "https://example.org/p/reports/H1"
    assert behind_old.json["buckets"]["4.0"]["href"].startswith("https://example.org/p/")


def test_report_with_crash_fields_is_seen_by_socorro_services(pc):
    client = pc()
    crash = {"database_id": "0bba929f-8721-460c-dead-a43c20121114", "product": "Firefox",
             "version": "16.0", "signature": "js::GCMarker::processMarkStackTop",
             "date": "2012-11-14T10:00:00", "frames": [{"function": "js::GCMarker::mark"}]}
    assert post(client, "/firefox/reports", crash).status == 201
    listed = client.get("/report/list/signature/js%3A%3AGCMarker%3A%3AprocessMarkStackTop/"
                        "from/2012-11-13/to/2012-11-15/").json
    assert [hit["uuid"] for hit in listed["hits"]] == [crash["database_id"]]


def test_concurrent_posts_of_one_id_store_it_once(pc):
    client = pc()
    report = dict(sample("5"), database_id="same-id")
    barrier = threading.Barrier(8)

    def send(_):
        barrier.wait()
        return post(client, "/ubuntu/reports", copy.deepcopy(report)).status

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(send, range(8)))
    assert statuses == [201] + [303] * 7


def test_concurrent_similar_reports_found_one_bucket(pc):
    client = pc()
    barrier = threading.Barrier(8)

    def send(index):
        barrier.wait()
        return post(client, "/ubuntu/reports",
                    dict(sample("6"), database_id=f"par-{index}")).json

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, range(8)))
    assert len({result["buckets"]["9.0"]["id"] for result in results}) == 1
    assert sum(result["top_match"] is None for result in results) == 1


def test_force_api_impl_chooses_the_engine(pc, engine):
    client = pc()
    response = post(client, f"/p/reports?force_api_impl={engine}", {"database_id": "F1"})
    assert response.status == 201
    assert response.headers["X-Crashgate-Backend"] == engine
    unknown = post(client, "/p/reports?_force_api_impl=nosql", {"database_id": "F2"})
    assert unknown.status == 400
    assert unknown.json["error"]["parameter"] == "force_api_impl"


def test_integers_beyond_64_bits_are_stored_and_answered_exactly(pc):
    client = pc()
    numbers = {"counters": [123456789012345678901234567890, -98765432109876543210],
               "nested": {"over_u64": 18446744073709551616, "u64": 18446744073709551615}}
    body = json.dumps({"database_id": "BIG1", **numbers}).encode()
    assert client.request("POST", "/ubuntu/reports", body, "application/json").status == 201
    stored = json.loads(client.get("/ubuntu/reports/BIG1").body)  # json: exact integers
    assert {key: stored[key] for key in numbers} == numbers
