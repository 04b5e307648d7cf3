"""Socorro crash services on PostgreSQL over WSGI round trips (notes §6.3, adapted)."""
import datetime
import threading
from urllib.parse import quote

import pytest

from tests.factories import crash_doc, store, uuid_for
from tests.search_cases import (FILTER_CASES, FREQUENCY_OF_JS, frequency_crash_set,
                                search_crash_set)

UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
HOUR = datetime.timedelta(hours=1)
TRICKY = ["this/is+a=C|signature", "100% CPU", "ns'Quote\"d \\ back", "Ünïcödé::función",
          "a b  c", "x'; DROP TABLE reports; --"]


def q(value, times=1):
    for _ in range(times):
        value = quote(value, safe="")
    return value


# -- /crashes/frequency ---------------------------------------------------------------------

@pytest.fixture
def frequency_crashes(clean_db):
    store(clean_db, frequency_crash_set(NOW - HOUR))


def test_frequency_is_a_real_frequency(client, frequency_crashes):
    body = client.get("/crashes/frequency/signature/js/").json
    assert body == FREQUENCY_OF_JS
    blah = client.get("/crashes/frequency/?signature=blah").json["hits"]
    assert blah == [{"build_date": "2012033117", "count": 1, "total": 2, "frequency": 0.5,
                     "count_windows": 0, "frequency_windows": 0.0, "count_mac": 0,
                     "frequency_mac": 0.0, "count_linux": 0, "frequency_linux": 0.0}]
    windows_only = client.get("/crashes/frequency/signature/js/os/windows/").json["hits"]
    assert [(h["build_date"], h["count"], h["total"]) for h in windows_only] == [
        ("2012033117", 1, 1), ("2012033116", 1, 1)]
    assert client.get("/crashes/frequency/").status == 400


# -- /crashes/paireduuid --------------------------------------------------------------------

def test_paireduuid(client, clean_db):
    yesterday = NOW - datetime.timedelta(days=1)
    ids = {name: uuid_for(NOW if name != "c2" else yesterday, prefix=name) for name in
           ("a1", "a2", "a3", "b1", "c1", "c2")}
    store(clean_db, [crash_doc(NOW - HOUR, uuid=ids["a1"], hangid="ab1"),
                     crash_doc(NOW - HOUR, uuid=ids["a2"], hangid="ab1", process_type="plugin"),
                     crash_doc(NOW - HOUR, uuid=ids["a3"], hangid="ab1"),
                     crash_doc(NOW - HOUR, uuid=ids["b1"], hangid="xxx"),
                     crash_doc(NOW - HOUR, uuid=ids["c1"], hangid="cb1"),
                     crash_doc(yesterday, uuid=ids["c2"], hangid="cb1")])
    one = client.get(f"/crashes/paireduuid/uuid/{ids['a1']}/hangid/ab1/").json
    assert one == {"hits": [{"uuid": min(ids["a2"], ids["a3"])}], "total": 1}
    both = client.get(f"/crashes/paireduuid/uuid/{ids['a1']}/").json
    assert sorted(h["uuid"] for h in both["hits"]) == sorted([ids["a2"], ids["a3"]])
    assert both["total"] == 2
    assert client.get(f"/crashes/paireduuid/uuid/{ids['b1']}/").json == {"hits": [], "total": 0}
    assert client.get(f"/crashes/paireduuid/uuid/{ids['c1']}/").json["hits"] == [{"uuid": ids["c2"]}]
    assert client.get("/crashes/paireduuid/uuid/unknown/").json == {"hits": [], "total": 0}
    assert client.get("/crashes/paireduuid/").status == 400


# -- /extensions, /job, /priorityjobs -------------------------------------------------------

def test_extensions_need_the_exact_date(client, clean_db):
    when = NOW.replace(hour=0, minute=0, second=0)
    a1, a2 = uuid_for(when, "a1"), uuid_for(when, "a2")
    store(clean_db, [
        crash_doc(when, uuid=a1, extensions=[{"id": f"id{i}", "version": f"version{i}"}
                                             for i in (1, 2, 3)]),
        crash_doc(when, uuid=a2)])
    body = client.get(f"/extensions/uuid/{a1}/date/{when.isoformat()}/").json
    assert body["total"] == 3
    assert [(h["extension_key"], h["extension_id"], h["extension_version"]) for h in body["hits"]] \
        == [(0, "id1", "version1"), (1, "id2", "version2"), (2, "id3", "version3")]
    assert body["hits"][0]["date_processed"] == when.isoformat()
    assert isinstance(body["hits"][0]["report_id"], int)
    assert client.get(f"/extensions/uuid/{a2}/date/{when.isoformat()}/").json == {"hits": [], "total": 0}
    assert client.get(f"/extensions/uuid/nope/date/{when.isoformat()}/").json["total"] == 0
    later = (when + datetime.timedelta(seconds=1)).isoformat()
    assert client.get(f"/extensions/uuid/{a1}/date/{later}/").json["total"] == 0
    missing = client.get("/extensions/").json["error"]
    assert missing["missing"] == ["uuid", "date"]


def test_job(client, clean_db):
    uuid = uuid_for(NOW, "a1")
    store(clean_db, [crash_doc(NOW - HOUR, uuid=uuid, processor_notes="ok")])
    body = client.get(f"/job/uuid/{uuid}/").json
    assert body["total"] == 1
    job = body["hits"][0]
    assert job["uuid"] == uuid and job["success"] is True and job["message"] == "ok"
    assert job["queueddatetime"] == (NOW - HOUR).isoformat()
    assert set(job) == {"id", "pathname", "uuid", "owner", "priority", "queueddatetime",
                        "starteddatetime", "completeddatetime", "success", "message"}
    assert client.get("/job/uuid/b2/").json == {"hits": [], "total": 0}
    assert client.get("/job/").status == 400


def test_priorityjobs(client, clean_db):
    assert client.post("/priorityjobs/", {"uuid": "a2"}).json is True
    assert client.post("/priorityjobs/", {"uuid": "b1"}).json is True
    assert client.post("/priorityjobs/", {"uuid": "a2"}).json is False
    assert client.get("/priorityjobs/uuid/b1/").json == {"hits": [{"uuid": "b1"}], "total": 1}
    assert client.get("/priorityjobs/uuid/zz/").json == {"hits": [], "total": 0}
    assert client.post("/priorityjobs/", {}).status == 400


def test_priorityjobs_concurrent_posts_queue_once(client, clean_db):
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        client.post("/priorityjobs/", {"uuid": "race"}).json)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


# -- /report/list, /crashes/comments ---------------------------------------------------------

def test_report_list_round_trips_tricky_signatures(client, clean_db):
    store(clean_db, [crash_doc(NOW - HOUR, s, url="http://x.example/") for s in TRICKY]
          + [crash_doc(NOW - HOUR, "other")])
    for signature in TRICKY:
        for encoded in (q(signature), q(signature, 2)):
            body = client.get(f"/report/list/signature/{encoded}/").json
            assert body["total"] == 1, (signature, encoded)
            assert body["hits"][0]["signature"] == signature
        assert client.get(f"/report/list/?signature={q(signature)}").json["total"] == 1
    hit = client.get(f"/report/list/signature/{q(TRICKY[0], 2)}/").json["hits"][0]
    assert {"install_time", "duplicate_of", "release_channel", "uuid", "date_processed",
            "url", "os_name", "process_type", "hangid"} <= set(hit)
    assert "email" not in hit
    assert client.get("/report/list/").status == 400
    assert client.get("/report/list/signature/other/").json["total"] == 1  # tables intact


def test_tricky_signatures_round_trip_through_every_signature_service(client, clean_db):
    store(clean_db, [crash_doc(NOW - HOUR, s, url="http://x.example/", user_comments="c")
                     for s in TRICKY])
    start, end = q((NOW - 24 * HOUR).isoformat()), q((NOW + HOUR).isoformat())
    for signature in TRICKY:
        for encoded in (q(signature), q(signature, 2)):
            comments = client.get(f"/crashes/comments/signature/{encoded}/").json
            assert comments["total"] == 1, (signature, encoded)
            frequency = client.get(f"/crashes/frequency/signature/{encoded}/").json
            assert [(h["count"], h["total"]) for h in frequency["hits"]] == [(1, len(TRICKY))]
            urls = client.get(f"/signatureurls/signature/{encoded}/start_date/{start}/"
                              f"end_date/{end}/products/ALL/versions/ALL/").json
            assert urls == {"hits": [{"url": "http://x.example/", "crash_count": 1}], "total": 1}
        listed = client.get(f"/report/list/?signature={q(signature)}").json
        assert listed["hits"][0]["signature"] == signature


def test_report_list_paging_and_dates(client, clean_db):
    docs = [crash_doc(NOW - i * HOUR, "paged") for i in range(1, 8)]
    docs.append(crash_doc(NOW - datetime.timedelta(days=10), "paged"))
    store(clean_db, docs)
    page = client.get("/report/list/signature/paged/result_number/3/result_offset/2/").json
    assert page["total"] == 7  # the 10-day-old crash is outside the default 7 days
    assert [h["date_processed"] for h in page["hits"]] == [
        (NOW - i * HOUR).isoformat() for i in (3, 4, 5)]
    since = (NOW - datetime.timedelta(days=11)).strftime("%Y-%m-%d")
    assert client.get(f"/report/list/signature/paged/from/{since}/").json["total"] == 8
    until = (NOW - datetime.timedelta(hours=5)).isoformat()
    assert client.get(f"/report/list/signature/paged/to/{q(until)}/").json["total"] == 2
    assert client.get("/report/list/signature/paged/result_number/-1/").status == 400
    assert client.get("/report/list/signature/paged/from/yesterday/").status == 400


def test_comments(client, clean_db):
    store(clean_db, [
        crash_doc(NOW - HOUR, "c", user_comments="I <3 crashes", email="a@example.com"),
        crash_doc(NOW - 2 * HOUR, "c", user_comments="second", email=""),
        crash_doc(NOW - 3 * HOUR, "c"),
        crash_doc(NOW - HOUR, "d", user_comments="other signature")])
    assert client.get("/crashes/comments/").json is None
    body = client.get("/crashes/comments/signature/c/").json
    assert body == {"total": 2, "hits": [
        {"date_processed": (NOW - HOUR).isoformat(), "user_comments": "I <3 crashes",
         "uuid": body["hits"][0]["uuid"], "email": "a@example.com"},
        {"date_processed": (NOW - 2 * HOUR).isoformat(), "user_comments": "second",
         "uuid": body["hits"][1]["uuid"], "email": None}]}


# -- filters shared by the search-like services ---------------------------------------------

@pytest.fixture
def search_crashes(clean_db):
    docs, products = search_crash_set(NOW - HOUR)
    store(clean_db, docs, products=products)


def signatures(client, path):
    response = client.get(path)
    assert response.status == 200, response
    return {h["signature"]: h["count"] for h in response.json["hits"]}


def test_search_signatures_socorro_case(client, search_crashes):
    body = client.get("/search/signatures/products/WaterWolf/versions/WaterWolf:1.0+WaterWolf:3.0b2/"
                      "os/win/build_ids/20001212010203/reasons/STACK_OVERFLOW/").json
    assert body == {"total": 2, "hits": [
        {"signature": "sig1", "count": 2, "is_windows": 2, "is_mac": 0, "is_linux": 0,
         "numhang": 1, "numplugin": 1, "numcontent": 0},
        {"signature": "sig2", "count": 2, "is_windows": 2, "is_mac": 0, "is_linux": 0,
         "numhang": 0, "numplugin": 0, "numcontent": 0}]}
    sig1 = client.get("/search/signatures/for/sig1/in/signature/search_mode/is_exactly/").json
    assert sig1 == {"total": 1, "hits": [{"signature": "sig1", "count": 4, "is_windows": 3,
                                          "is_mac": 0, "is_linux": 1, "numhang": 2,
                                          "numplugin": 1, "numcontent": 1}]}


def test_versions_follow_release_channels(client, search_crashes):
    # release 1.0: the beta-channel crash reporting 1.0 is not a release crash
    assert signatures(client, "/search/signatures/versions/WaterWolf:1.0/") == {"sig1": 3}
    # beta 3.0b2: its own version string, or the major version with one of its builds
    assert signatures(client, "/search/signatures/versions/WaterWolf:3.0b2/") == {"sig2": 2}
    assert signatures(client, "/search/signatures/versions/WaterWolf:4.0a1/") == {"sig1": 1}
    assert client.get("/search/signatures/versions/WaterWolf/").status == 400


@pytest.mark.parametrize("path, expected", FILTER_CASES)
def test_search_filters(client, search_crashes, path, expected):
    assert signatures(client, "/search/signatures/" + path) == expected


def test_search_crashes_rows_paging_and_total(client, search_crashes):
    body = client.get("/search/crashes/products/WaterWolf/result_number/2/").json
    assert body["total"] == 7 and len(body["hits"]) == 2
    assert {"uuid", "signature", "product", "date_processed", "os_name"} <= set(body["hits"][0])
    rest = client.get("/search/crashes/?products=WaterWolf&result_number=10&result_offset=2").json
    assert rest["total"] == 7 and len(rest["hits"]) == 5
    paged = client.get("/search/signatures/result_number/1/result_offset/1/").json
    assert paged["total"] == 5 and len(paged["hits"]) == 1
    beyond = client.get("/search/signatures/result_offset/100/").json
    assert beyond == {"hits": [], "total": 5}


def test_injection_attempts_are_just_values(client, search_crashes):
    for path in ("/report/list/signature/x'%3B%20DELETE%20FROM%20reports%3B--/",
                 "/search/signatures/for/%27%20OR%201%3D1--/",
                 "/search/signatures/products/a'b/os/c%22d/reasons/e%5Cf/",
                 "/crashes/frequency/signature/'||pg_sleep(5)||'/"):
        response = client.get(path)
        assert response.status == 200 and response.json["total"] == 0, path
    assert signatures(client, "/search/signatures/") != {}


# -- /signatureurls ---------------------------------------------------------------------------

def test_signatureurls(client, clean_db):
    sig = "EMPTY: no crashing thread identified; corrupt dump"
    url = "http://deusex.wikia.com/wiki/Praxis_kit"
    store(clean_db, [
        crash_doc(NOW - HOUR, sig, version="11.0", url=url),
        crash_doc(NOW - HOUR, sig, version="11.0", url=url),
        crash_doc(NOW - HOUR, sig, version="11.0", url="http://b.example/"),
        crash_doc(NOW - HOUR, sig, version="12.0", url="http://c.example/"),
        crash_doc(NOW - HOUR, sig, product="Fennec", version="11.0", url="http://d.example/")])
    start = (NOW - datetime.timedelta(days=1)).isoformat()
    end = (NOW + HOUR).isoformat()
    base = f"/signatureurls/signature/{q(sig, 2)}/start_date/{q(start)}/end_date/{q(end)}/"
    body = client.get(base + "products/Firefox/versions/Firefox:10.0+Firefox:11.0/").json
    assert body == {"total": 2, "hits": [{"url": url, "crash_count": 2},
                                         {"url": "http://b.example/", "crash_count": 1}]}
    assert client.get(base + "products/Fennec/versions/Firefox:11.0/").json["total"] == 0
    everything = client.get(base + "products/ALL/versions/ALL/").json
    assert everything["total"] == 4
    missing = client.get("/signatureurls/signature/x/").json["error"]
    assert missing["missing"] == ["start_date", "end_date", "products", "versions"]
    backwards = client.get(f"/signatureurls/signature/x/start_date/{q(end)}/end_date/{q(start)}/"
                           "products/ALL/versions/ALL/")
    assert backwards.status == 400 and backwards.json["error"]["parameter"] == "end_date"


# -- /crashes/signatures (top crashers) ------------------------------------------------------

def test_top_crashers_ranks_against_previous_period(client, clean_db):
    today = NOW.replace(hour=0, minute=0, second=0)
    current, previous = today - datetime.timedelta(days=1), today - datetime.timedelta(days=8)
    docs = ([crash_doc(current, "rising") for _ in range(3)]
            + [crash_doc(current, "steady", os_name="Mac OS X", hangid="h")]
            + [crash_doc(current, "newcomer", process_type="plugin", uptime=10)]
            + [crash_doc(previous, "steady") for _ in range(3)]
            + [crash_doc(previous, "rising")]
            + [crash_doc(current, "other version", version="17.0b1")])
    store(clean_db, docs)
    body = client.get(f"/crashes/signatures/product/Firefox/version/16.0.2/"
                      f"end_date/{today.date()}/duration/168/").json
    assert body["totalNumberOfCrashes"] == 5
    assert body["start_date"] == (today - datetime.timedelta(days=7)).isoformat()
    assert body["end_date"] == today.isoformat()
    rows = {c["signature"]: c for c in body["crashes"]}
    assert [c["signature"] for c in body["crashes"]] == ["rising", "newcomer", "steady"]
    assert rows["rising"]["currentRank"] == 0 and rows["rising"]["previousRank"] == 1
    assert rows["rising"]["changeInRank"] == 1
    assert rows["rising"]["percentOfTotal"] == pytest.approx(0.6)
    assert rows["rising"]["changeInPercentOfTotal"] == pytest.approx(0.6 - 0.25)
    assert rows["newcomer"]["changeInRank"] == "new" and rows["newcomer"]["previousRank"] is None
    assert rows["newcomer"]["plugin_count"] == 1 and rows["newcomer"]["startup_percent"] == 1.0
    assert rows["steady"]["mac_count"] == 1 and rows["steady"]["hang_count"] == 1
    assert rows["steady"]["changeInRank"] == -2
    assert rows["steady"]["versions"] == "16.0.2" and rows["steady"]["versions_count"] == 1
    assert body["totalPercentage"] == pytest.approx(1.0)
    plugin = client.get(f"/crashes/signatures/product/Firefox/version/16.0.2/"
                        f"end_date/{today.date()}/crash_type/plugin/").json
    assert [c["signature"] for c in plugin["crashes"]] == ["newcomer"]
    mac = client.get(f"/crashes/signatures/product/Firefox/version/16.0.2/"
                     f"to_date/{today.date()}/os/mac/limit/1/").json
    assert [(c["signature"], c["count"]) for c in mac["crashes"]] == [("steady", 1)]
    assert client.get("/crashes/signatures/product/Firefox/").status == 400
    empty = client.get("/crashes/signatures/product/Firefox/version/9.0a1/").json
    assert empty["crashes"] == [] and empty["totalNumberOfCrashes"] == 0
