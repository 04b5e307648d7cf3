"""Differential test: one generated data set in PostgreSQL and Elasticsearch, and for every
case (service × filters × search mode × fields × paging × encoding) the two backends' JSON
answers through the WSGI app must be byte-identical. docs/api.md, "Elasticsearch backend",
lists the documented differences; ``test_documented_differences`` asserts them."""
import collections
import datetime
import itertools
import re
from urllib.parse import quote

import pytest

from crashgate.external.elasticsearch import search as es_search
from crashgate.fakedata import TRICKY_SIGNATURES, generate_crashes, generate_products
from tests.conftest import truncate_data_tables
from tests.es_helpers import gateway, reindex
from tests.factories import crash_doc, store

PREFIX = "es-differential-"
UTC = datetime.timezone.utc
END = datetime.date(2012, 11, 14)
DAYS, SEED = 28, 11
FIRST = END - datetime.timedelta(days=DAYS - 1)
AFTER = END + datetime.timedelta(days=1)


def _at(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


SUB_MS = _at("2012-11-12T10:00:00.250700")  # a crash processed between two milliseconds
LONG_COMMENT = "Long comment, " + "x" * 9000  # longer than the keyword fields keep (8191)
OVERSIZED_AT = _at("2012-10-01T12:00:00")  # before the generated days: only its own cases
OVERSIZED = "Oversized ωψ " + "Ωψ" * 20000  # 80,014 UTF-8 bytes: over Lucene's term limit
EXTRAS = [  # hand-made crashes for what the generator does not produce
    crash_doc(OVERSIZED_AT, "oversized values", user_comments=OVERSIZED, reason=OVERSIZED,
              app_notes="Z" * 40000),
    crash_doc(_at("2012-11-10T08:00:00"), "17.0 beta as major", version="17.0",
              release_channel="beta", build="20121001000000"),
    crash_doc(_at("2012-11-10T08:00:01"), "Release on beta", version="16.0.2",
              release_channel="Beta"),
    crash_doc(_at("2012-11-10T08:00:02"), "no channel", version="16.0.2", release_channel=None,
              process_type="browser", url="", user_comments="", email=""),
    crash_doc(_at("2012-11-10T08:00:03"), "Foo", hangid="", process_type="", build="0042",
              url="http://ex.ample/%41?q=100%25&x=_y_", user_comments="Ünïcödé 100% _x_ *?"),
    crash_doc(_at("2012-11-10T08:00:04"), "foo", build="not a number", os_name="BeOS",
              reason="Weird\\Reason", user_comments=LONG_COMMENT),
    crash_doc(_at("2012-11-10T08:00:05"), "foo ", build=None, os_name=None, reason=None,
              frames=[{"function": "Ünïcödé::función(int)"}, {"module": "no function"}]),
    crash_doc(_at("2012-11-10T08:00:06"), "foo", build="", url="http://B.example/"),
    crash_doc(SUB_MS, "sub-millisecond", uptime=None, install_age=None),
    crash_doc(_at("2012-11-10T08:00:07"), "İstanbul::ΣΑΣ | 𐐀𐐁 Deseret::Capital, long name",
              process_type="plugin", plugin={"name": "İstanbul Plugin with a very long name",
                                             "filename": "ISTANBUL.DLL", "version": "1"}),
    # ties broken by code point order: one crash each, in one minute
    *(crash_doc(_at(f"2012-11-11T09:00:{n:02d}"), name, url=link, build=build)
      for n, (signature, link, build) in enumerate(zip(
          ["Zebra", "zebra", "éclair", "_under", "日本", "𝔘nicode", "a b", "a-b", "a_b"],
          ["http://b.example/", "http://B.example/", "http://ä.example/", "http://_.example/",
           "http://日本.example/", "http://a.example/", "about:blank", "http://A.example/",
           "http://-.example/"],
          ["1", "01", "10", "9", "A", "a", "é", "_", "-"]))
      for name in (signature, "url and build ties")),
]
TIES = ("2012-11-11T09:00:00", "2012-11-11T09:01:00")


def _dataset():
    crashes = list(generate_crashes(3000, DAYS, seed=SEED, end_date=END))
    # the betas of 17.0 are built 20121001000000, so the 17.0 crash above counts as each
    products = generate_products(DAYS, seed=SEED, end_date=END)
    for version in products["versions"]:
        if version["version_string"].startswith("17.0b"):
            version["builds"].append({"build_id": "20121001000000", "platform": "windows",
                                      "repository": "mozilla-beta"})
    return crashes + EXTRAS, products


CRASHES, PRODUCTS = _dataset()
COUNT = collections.Counter


def top(values, n):
    return [value for value, _ in COUNT(v for v in values if v is not None).most_common(n)]


SIGNATURES = top((c["signature"] for c in CRASHES), 6) + TRICKY_SIGNATURES + [
    "Foo", "foo", "foo ", "17.0 beta as major", "sub-millisecond", "url and build ties",
    "no such signature"]
HANGS = [c for c in CRASHES if c["hangid"]]
BUILDS = top((c["build"] for c in CRASHES), 4)
VERSIONS = sorted({(v["product_name"], v["version_string"]) for v in PRODUCTS["versions"]})


# -- request paths ------------------------------------------------------------------------------
def enc(value):
    """Percent-encoded once, or twice when the text itself holds %XX (docs/api.md)."""
    value = str(value)
    once = quote(value, safe="")
    return quote(once, safe="") if re.search("%[0-9A-Fa-f]{2}", value) else once


def url(service, params, style="path"):
    """``service`` with ``params`` ({key: value or list}) in the path, query string or both."""
    pairs = [(key, value if isinstance(value, list) else [value])
             for key, value in params.items() if value is not None]
    split = {"path": len(pairs), "query": 0, "mixed": len(pairs) // 2}[style]
    path = "".join(f"{key}/{'+'.join(map(enc, values))}/" for key, values in pairs[:split])
    query = "&".join(f"{key}={enc(v)}" for key, values in pairs[split:] for v in values)
    return f"/{service}/{path}" + (f"?{query}" if query else "")


WINDOWS = [
    {"from_date": f"{FIRST}", "to_date": f"{AFTER}"},
    {"from": "2012-11-01", "to": "2012-11-08"},
    {"from_date": "2012-11-10T06:30:00", "to_date": "2012-11-10 18:00:00"},
    {"from_date": "2012-11-09T23:00:00-02:00", "to_date": "2012-11-11T00:00:00Z"},
    {"from_date": "2012-11-12T10:00:00.250", "to_date": "2012-11-12T10:00:00.251"},
    {"from_date": "2012-11-08", "to_date": "2012-11-01"},  # empty
    {"from_date": "2010-01-01", "to_date": "2014-01-01"},  # more indices than a URL holds
    {"from_date": "0001-01-01", "to_date": "9999-12-31T23:59:59.999999"},
    {"from_date": TIES[0], "to_date": TIES[1]},
]
FULL = WINDOWS[0]
FILTERS = [
    {}, {"products": "Firefox"}, {"products": ["Thunderbird", "SeaMonkey"]},
    {"products": "firefox"}, {"products": "Nope"},
    *({"versions": f"{p}:{v}"} for p, v in VERSIONS if p in ("Firefox", "SeaMonkey")),
    {"versions": "firefox:16.0.1"}, {"versions": ["Fennec:16.0.2", "Thunderbird:17.0b2"]},
    {"versions": "Firefox:17.0"}, {"versions": "Nope:1.0"},
    {"os": "windows"}, {"os": "win"}, {"os": "mac"}, {"os": ["lin", "Mac OS X"]},
    {"os": "Windows NT"}, {"os": "BeOS"}, {"os": "beos"},
    {"branches": "16.0"}, {"branches": ["17.0", "2.14"]}, {"branches": "99.0"},
    {"reasons": "SIGSEGV"}, {"reasons": ["EXCEPTION_BREAKPOINT", "EXC_CRASH / SIGABRT"]},
    {"reasons": "sigsegv"}, {"reasons": "Weird\\Reason"},
    {"build_ids": BUILDS[0]}, {"build_ids": BUILDS[1:4]}, {"build_ids": "42"},
    {"build_from": "20120928000000"}, {"build_to": "20120913042021"}, {"build_to": "100"},
    {"build_from": "20120901000000", "build_to": "20120930000000"},
    {"report_process": "browser"}, {"report_process": "plugin"},
    {"report_process": "content"}, {"report_process": "any"},
    {"report_type": "crash"}, {"report_type": "hang"},
    {"report_process": "plugin", "plugin_terms": "flash"},
    {"report_process": "plugin", "plugin_terms": "Shockwave Flash",
     "plugin_search_mode": "is_exactly"},
    {"report_process": "plugin", "plugin_terms": "shockwave flash",
     "plugin_search_mode": "is_exactly"},
    {"report_process": "plugin", "plugin_terms": "NPSWF", "plugin_in": "filename",
     "plugin_search_mode": "starts_with"},
    {"report_process": "plugin", "plugin_terms": ["java", "SILVER"],
     "plugin_in": ["name", "filename"]},
    {"report_process": "plugin", "plugin_terms": ".dll", "plugin_in": "filename",
     "plugin_search_mode": "contains"},
    {"report_process": "plugin", "plugin_terms": "(TM)", "plugin_search_mode": "default"},
    {"report_process": "plugin", "plugin_terms": "istanbul plugin with a very long n",
     "plugin_search_mode": "starts_with"},
    {"report_process": "plugin", "plugin_terms": "STANBUL PLUGIN WITH A VERY LONG NAME"},
    {"plugin_terms": "flash"},  # ignored without report_process=plugin
    {"products": "Firefox", "os": "win", "report_type": "hang"},
    {"versions": ["Firefox:16.0.2", "Firefox:17.0b6"], "reasons": "EXCEPTION_BREAKPOINT",
     "report_process": "browser"},
    {"branches": "16.0", "os": "linux", "build_from": "20120913042021"},
]
TERMS = ["nsHTMLEditor", "NSHTMLEDITOR", "::", "operator+", "%", "_", "100% CPU", "\\",
         "d3d9.dll@0x1f2e3", "ÜNÏCÖDÉ", "日本語", "%2Fencoded", "facebook", "shva=1#inbox",
         "about:", "EXCEPTION_ACCESS", "sigsegv", "crash", "*", "?", "x_", "Long comment",
         "MessageLoop::Run()", "js::", "http", " ", "no such text", "istanbul::σασ", "𐐨𐐩",
         "ISTANBUL::ΣΑΣ | 𐐨𐐩 DESERET::CAPITAL, LONG", "İstanbul::σας",
         TRICKY_SIGNATURES[2].upper(),
         LONG_COMMENT[5:700].upper(), "MOZALLOC_ABORT(CHAR CONST* CONST) | MOZILLA::A11Y::ACC"]
FIELD_SETS = [None, "signature", "reason", "url", "user_comments", "frames", "dump",
              ["signature", "frames"], ["url", "user_comments", "reason"]]
MODES = [None, "default", "is_exactly", "contains", "starts_with"]
EXACT_TERMS = [["MessageLoop::Run()"], ["about:blank"], ["SIGSEGV"], ["Foo"], ["foo"],
               [TRICKY_SIGNATURES[2], TRICKY_SIGNATURES[6]], ["Ünïcödé::función(int)"]]
PAGES = [(None, None), (0, 0), (1, 0), (7, 3), (100, 50), (10000, 0), (5, 400), (10, 100000)]


def search_cases():
    cases = []
    for service in ("search/signatures", "search/crashes"):
        cases += [url(service, {**FULL, **f}) for f in FILTERS]
        cases += [url(service, {**w, **f}) for w in WINDOWS[1:] for f in FILTERS[:3]]
        cases += [url(service, {**FULL, **f}, style) for f in FILTERS[::7]
                  for style in ("query", "mixed")]
        cases += [url(service, {**FULL, "result_number": n, "result_offset": o})
                  for n, o in PAGES]
        cases += [url(service, {**FULL, "products": "Firefox", "os": "windows",
                                "result_number": 3, "result_offset": o}) for o in (0, 3, 6)]
        modes = MODES if service == "search/signatures" else MODES[2:]
        cases += [url(service, {**FULL, "for": term, "search_mode": mode}, style)
                  for term, mode in itertools.product(TERMS, modes)
                  for style in (["path", "query"] if mode == "contains" else ["path"])]
        cases += [url(service, {**FULL, "terms": term, "in": fields, "search_mode": mode})
                  for term in TERMS[::3] for fields in FIELD_SETS[1:] for mode in MODES[2:]]
        cases += [url(service, {**FULL, "terms": terms, "fields": fields,
                                "search_mode": "is_exactly"})
                  for terms in EXACT_TERMS for fields in FIELD_SETS[:2] + FIELD_SETS[3:6]]
        cases.append(url(service, {**FULL, "terms": TERMS[:4], "in": FIELD_SETS[-1],
                                   "products": "Firefox"}))
    return cases


def report_list_cases():
    cases = []
    for signature in SIGNATURES:
        cases.append(url("report/list", {"signature": signature, **FULL}))
        cases.append(url("report/list", {"signature": signature, **FULL}, "query"))
        twice = quote(quote(signature, safe=""), safe="")
        cases.append(f"/report/list/signature/{twice}/from/{FIRST}/to/{AFTER}/")
    cases += [url("report/list", {"signature": SIGNATURES[0], **FULL, **f}) for f in FILTERS]
    cases += [url("report/list", {"signature": SIGNATURES[0], **w}) for w in WINDOWS[1:]]
    cases += [url("report/list", {"signature": SIGNATURES[1], **FULL, "result_number": n,
                                  "result_offset": o}) for n, o in PAGES]
    return cases


def comments_cases():
    commented = top((c["signature"] for c in CRASHES if c["user_comments"]), 8)
    cases = [url("crashes/comments", {"signature": s, **FULL}) for s in commented + ["Foo", "foo"]]
    cases += [url("crashes/comments", {"signature": commented[0], **FULL, "result_number": n,
                                       "result_offset": o}) for n, o in PAGES]
    cases += [url("crashes/comments", {"signature": commented[0], **FULL, **f})
              for f in FILTERS[::4]]
    cases.append(url("crashes/comments", FULL))  # null on both
    return cases


def frequency_cases():
    cases = [url("crashes/frequency", {"signature": s, **FULL}) for s in SIGNATURES]
    cases += [url("crashes/frequency", {"signature": SIGNATURES[0], **FULL, **f})
              for f in FILTERS[::3]]
    cases += [url("crashes/frequency", {"signature": SIGNATURES[2], **w}) for w in WINDOWS[1:]]
    cases += [url("crashes/frequency", {"signature": "foo", **FULL, "os": os})
              for os in (None, "BeOS", "windows")]
    return cases


def paireduuid_cases():
    cases = []
    for crash in HANGS[:12]:
        cases.append(url("crashes/paireduuid", {"uuid": crash["uuid"]}))
        cases.append(url("crashes/paireduuid", {"uuid": crash["uuid"], "hangid": crash["hangid"]},
                         "query"))
    dated = HANGS[0]["uuid"][:-6] + "000000"  # unknown uuid, no date in it
    known_day = "ffffffff-0000-4000-8000-00000" + HANGS[0]["uuid"][-7:]
    cases += [url("crashes/paireduuid", {"uuid": CRASHES[0]["uuid"]}),
              url("crashes/paireduuid", {"uuid": CRASHES[0]["uuid"], "hangid": HANGS[3]["hangid"]}),
              url("crashes/paireduuid", {"uuid": known_day, "hangid": HANGS[0]["hangid"]}),
              url("crashes/paireduuid", {"uuid": dated, "hangid": HANGS[0]["hangid"]}),
              url("crashes/paireduuid", {"uuid": "unknown"}),
              url("crashes/paireduuid", {"uuid": EXTRAS[3]["uuid"]})]
    return cases


def top_crashers_cases():
    cases = []
    end = {"end_date": f"{AFTER}"}
    crashed = {(c["product"], c["version"]) for c in CRASHES}
    for product, version in sorted(crashed):
        for crash_type in ("all", "browser", "plugin", "content"):
            cases.append(url("crashes/signatures", {"product": product, "version": version,
                                                    "crash_type": crash_type, **end}))
    for (product, version), os in itertools.product(VERSIONS[:8], ("windows", "mac", "linux")):
        cases.append(url("crashes/signatures", {"product": product, "version": version,
                                                "os": os, **end}))
    firefox = {"product": "Firefox", "version": "16.0.2"}
    for duration, end_date in itertools.product(
            (1, 24, 25, 48, 168, 336),
            (f"{AFTER}", "2012-11-10T12:00:00", "2012-11-01", "2012-11-12 00:00:00+00:00")):
        cases.append(url("crashes/signatures", {**firefox, "duration": duration,
                                                "end_date": end_date}))
    cases += [url("crashes/signatures", {**firefox, **end, "limit": n}) for n in (1, 5, 10000)]
    cases += [url("crashes/signatures", {**firefox, "to_date": f"{AFTER}"}, "query"),
              url("crashes/signatures", {**firefox, "to_from": "2012-11-10", "os": "mac",
                                         "crash_type": "browser", "limit": 3}),
              url("crashes/signatures", {"product": "Nope", "version": "1.0", **end}),
              url("crashes/signatures", {"product": "firefox", "version": "16.0.2", **end})]
    return cases


def signatureurls_cases():
    with_urls = top((c["signature"] for c in CRASHES if c["url"]), 8) + [
        "Foo", "foo", "no channel", "url and build ties"]
    scopes = [("ALL", "ALL"), ("Firefox", "ALL"), ("ALL", ["Firefox:16.0.2", "Fennec:16.0.2"]),
              (["Firefox", "Fennec"], ["Firefox:16.0.1", "Fennec:16.0.2", "Firefox:16.0.2"]),
              ("Thunderbird", "Firefox:16.0.2")]
    cases = []
    for signature, (products, versions) in itertools.product(with_urls, scopes):
        cases.append(url("signatureurls", {
            "signature": signature, "start_date": f"{FIRST}", "end_date": f"{AFTER}",
            "products": products, "versions": versions}))
    cases += [url("signatureurls", {"signature": with_urls[0], "start_date": start,
                                    "end_date": stop, "products": "ALL", "versions": "ALL"},
                  style)
              for start, stop, style in (("2012-11-01", "2012-11-08", "query"), (*TIES, "path"),
                                         ("2012-11-10T06:30:00", "2012-11-10T18:00:00", "mixed"))]
    return cases


def extensions_cases():
    cases = []
    for crash in CRASHES[::300] + EXTRAS:
        cases.append(url("extensions", {"uuid": crash["uuid"], "date": crash["date_processed"]}))
        later = datetime.datetime.fromisoformat(crash["date_processed"]) \
            + datetime.timedelta(seconds=1)
        cases.append(url("extensions", {"uuid": crash["uuid"], "date": later.isoformat()},
                         "query"))
    cases.append(url("extensions", {"uuid": "unknown", "date": CRASHES[0]["date_processed"]}))
    return cases


CASES = {"search": search_cases(), "report_list": report_list_cases(),
         "comments": comments_cases(), "frequency": frequency_cases(),
         "paireduuid": paireduuid_cases(), "top_crashers": top_crashers_cases(),
         "signatureurls": signatureurls_cases(), "extensions": extensions_cases()}
CASES = {kind: list(dict.fromkeys(paths)) for kind, paths in CASES.items()}
OVERSIZED_DAY = {"from_date": f"{OVERSIZED_AT.date()}",
                 "to_date": f"{OVERSIZED_AT.date() + datetime.timedelta(days=1)}"}
CASES["report_list"] += [url("report/list", {**OVERSIZED_DAY, "signature": "oversized values"})]
CASES["errors"] = [url("report/list", FULL), url("search/crashes", {"versions": "Firefox"}),
                   url("crashes/signatures", {"product": "Firefox"}),
                   url("signatureurls", {"signature": "x"}),
                   url("extensions", {"uuid": "x", "date": "yesterday"})]
# Paths whose answers differ as docs/api.md documents: (path, PostgreSQL's, Elasticsearch's)
DIFFERENCES = [
    (url("search/crashes", {"from_date": "2012-11-12T10:00:00.2505",
                            "to_date": "2012-11-12T10:00:01"}), 1, 0),
    (url("search/crashes", {**FULL, "for": LONG_COMMENT, "in": "user_comments",
                            "search_mode": "is_exactly"}), 1, 0),
    # values over 10,922 characters: not in the .lower fields (but indexed, and listed whole)
    *((url("search/crashes", {**OVERSIZED_DAY, "for": "ΩΨΩΨ", "in": field}), 1, 0)
      for field in ("user_comments", "reason")),
    (url("crashes/comments", {**OVERSIZED_DAY, "signature": "oversized values"}), 1, 0),
]
SMALL_PAGES = [path for path in CASES["search"] if "result_" in path] \
    + CASES["report_list"][-10:] + CASES["comments"] + CASES["frequency"][:6] \
    + CASES["top_crashers"][:12] + CASES["signatureurls"][:5]


@pytest.fixture(scope="module")
def client(pg_dsn, es_url):
    """A gateway on the data set, stored in PostgreSQL and indexed in Elasticsearch."""
    truncate_data_tables(pg_dsn)
    store(pg_dsn, CRASHES, products=PRODUCTS)
    assert reindex(es_url, pg_dsn, PREFIX) == len(CRASHES)
    with gateway(pg_dsn, es_url, PREFIX) as client:
        yield client


def answers(client, path):
    """(PostgreSQL's response, Elasticsearch's response) to ``path``."""
    joiner = "&" if "?" in path else "?"
    postgresql, elasticsearch = (client.get(f"{path}{joiner}force_api_impl={backend}")
                                 for backend in ("postgresql", "elasticsearch"))
    assert elasticsearch.status == postgresql.status, (postgresql, elasticsearch)
    if elasticsearch.status == 200:
        assert elasticsearch.headers["X-Crashgate-Backend"] == "elasticsearch"
    return postgresql, elasticsearch


def assert_same(client, path):
    postgresql, elasticsearch = answers(client, path)
    assert postgresql.status == (400 if path in CASES["errors"] else 200), postgresql
    if elasticsearch.body != postgresql.body:
        assert elasticsearch.json == postgresql.json  # a readable diff first
        assert elasticsearch.body == postgresql.body


@pytest.mark.parametrize("path", [pytest.param(path, id=f"{kind}:{path}")
                                  for kind, paths in CASES.items() for path in paths])
def test_same_answer(client, path):
    assert_same(client, path)


@pytest.mark.parametrize("path", SMALL_PAGES)
def test_same_answer_reading_in_small_pages(client, monkeypatch, path):
    """Hits past the result window and groups over several composite pages."""
    monkeypatch.setattr(es_search, "HIT_WINDOW", 50)
    monkeypatch.setattr(es_search, "GROUP_PAGE", 7)
    assert_same(client, path)


@pytest.mark.parametrize("path, postgresql_total, elasticsearch_total", DIFFERENCES)
def test_documented_differences(client, path, postgresql_total, elasticsearch_total):
    postgresql, elasticsearch = answers(client, path)
    assert (postgresql.json["total"], elasticsearch.json["total"]) == (
        postgresql_total, elasticsearch_total)


def test_the_cases_use_every_parameter():
    assert sum(map(len, CASES.values())) > 1000
    names = {"products", "versions", "os", "branches", "reasons", "build_ids", "build_from",
             "build_to", "report_process", "report_type", "plugin_terms", "plugin_in",
             "plugin_search_mode", "for", "terms", "in", "fields", "search_mode",
             "result_number", "result_offset", "from", "to", "from_date", "to_date"}
    used = {name for path in CASES["search"] for name in re.findall(r"[/?&](\w+)[/=]", path)}
    assert names <= used, names - used
