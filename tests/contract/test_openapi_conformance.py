"""Every operation of /openapi.json against the real gateway (in process, real PostgreSQL and
Elasticsearch, a seeded data set): Schemathesis generates requests (valid and invalid ones,
string parameters often drawn from the data or from awkward strings); every answer must not
be a 5xx and must match the document: documented status, content type, headers, schema.
Explicit requests then put awkward values in path pairs and query strings, which generators
cannot spell. Figures (operations, requests, time) are printed at the end (``-s`` shows them).
"""
import copy
import json
import re
import time
from urllib.parse import quote

import pytest
import schemathesis
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_headers_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)
from werkzeug.test import Client

from crashgate.middleware.access import AccessControl, TokenStore, mint_token
from tests.contract.conftest import (AWKWARD_REPORT_IDS, AWKWARD_SIGNATURES, NOW,
                                     PROJECTS, implemented_by, schemathesis_config,
                                     served_document)



def formats_conform(ctx, response, case):
    """Dates and date-times in an answer are what its schema's ``format`` says (Schemathesis
    leaves formats unchecked)."""
    operation = DOCUMENT["paths"][case.path].get(case.method.lower(), {})  # or TRACE, ...
    content = operation.get("responses", {}).get(str(response.status_code), {}).get(
        "content", {})
    schema = content.get("application/json", {}).get("schema")
    if not schema or "$ref" in schema or not response.content:
        return None
    validator = OAS30Validator(schema, format_checker=oas30_format_checker)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in
              validator.iter_errors(response.json())]
    assert not errors, f"format violations: {errors[:3]}"
    return True


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, formats_conform]
MAX_EXAMPLES = {"postgresql": 12, "elasticsearch": 15}  # per operation, fuzzing phase
FIGURES = {}  # group -> operations, statuses, first and last moment, requests checked loosely


def tally(group, started, operation, status, loose=False):
    """Count one request of ``group``; its time runs from its first request to the end of its
    last (test-case generation included)."""
    figures = FIGURES.setdefault(group, {"operations": set(), "statuses": {}, "loose": 0,
                                         "first": started})
    figures["operations"].add(operation)
    figures["statuses"][status] = figures["statuses"].get(status, 0) + 1
    figures["loose"] += loose
    figures["last"] = time.perf_counter()


# the GET operations of the services Elasticsearch implements
ES_OPERATIONS = rf"^({'|'.join(implemented_by('elasticsearch'))})(_\d+)?_get$"
DOCUMENT = served_document()
api_schema = schemathesis.openapi.from_dict(
    copy.deepcopy(DOCUMENT), config=schemathesis_config(MAX_EXAMPLES["postgresql"], "all"))
es_schema = schemathesis.openapi.from_dict(  # boundary cases: covered by the run above
    copy.deepcopy(DOCUMENT), config=schemathesis_config(MAX_EXAMPLES["elasticsearch"],
                                                        coverage=False)
).include(operation_id_regex=ES_OPERATIONS)


def test_the_gateway_serves_the_tested_document(seeded):
    response = Client(seeded).get("/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == json.loads(json.dumps(DOCUMENT))
    validate(response.get_json())


def routed_elsewhere(case, app):
    """True when the path sent reached another service than the operation's: an invalid
    path parameter (e.g. the project ``search`` in ``/{project}/buckets``) can spell another
    route; its answer is that route's, so only the absence of a 5xx is checked."""
    found = app.gateway.routes.match(app.last_path)
    return found is not None and case.path not in found[0].route_templates()


@api_schema.parametrize()
def test_every_operation_conforms(case, seeded):
    started = time.perf_counter()
    response = case.call(app=seeded)
    elsewhere = routed_elsewhere(case, seeded)
    case.validate_response(response, checks=[not_a_server_error] if elsewhere else CHECKS)
    tally("postgresql (schemathesis)", started, case.operation.label, response.status_code,
          loose=elsewhere)


@es_schema.parametrize()
def test_read_operations_forced_to_elasticsearch_conform(case, seeded):
    started = time.perf_counter()
    case.query = {**(case.query or {}), "force_api_impl": "elasticsearch"}
    response = case.call(app=seeded)
    case.validate_response(response, checks=CHECKS)
    if response.status_code == 200:
        assert response.headers["x-crashgate-backend"] == ["elasticsearch"], seeded.last_uri
    tally("elasticsearch (schemathesis)", started, case.operation.label,
          response.status_code)


# -- explicit awkward values -------------------------------------------------------------------
AWKWARD_TEXTS = ["a/b", "a+b", "100%", "%2F", "a b", "Ünïcödé 日本語", "mixed/+% é", "+"]
DATE_PARAMS = {"from_date", "to_date", "start_date", "end_date", "date"}
# Dates as sent on the wire (already encoded): a literal '+' before the offset (in a path:
# the offset; in a query string: a space, also read as the offset), %2B, a space, Z.
WIRE_DATES = [f"{NOW:%Y-%m-%d}T00:00:00+00:00", f"{NOW:%Y-%m-%d}T00:00:00%2B00:00",
              f"{NOW:%Y-%m-%d}%2000:00:00", f"{NOW:%Y-%m-%d}T00:00:00Z"]
REQUIRED = {"signature": AWKWARD_SIGNATURES[0], "product": "Firefox", "version": "16.0.2",
            "uuid": "c0ffee00-0000-4000-8000-000000000000", "products": "ALL",
            "versions": "ALL", "start_date": "2000-01-01", "end_date": "2100-01-01",
            "date": "2000-01-01", "since": "2-weeks-ago"}


def encode(value):
    """A value: percent-encoded once, twice when the text itself holds %XX (docs/api.md)."""
    once = quote(value, safe="")
    return quote(once, safe="") if re.search("%[0-9A-Fa-f]{2}", value) else once


def encode_query(value):
    """A query-string value: as :func:`encode`, with spaces as ``+``."""
    return encode(value).replace("%20", "+")


def wire_values(name, schema):
    """(path form, query form) of the awkward values of a parameter."""
    if name in DATE_PARAMS:
        return [(date, date) for date in WIRE_DATES]
    items = schema.get("items", schema)
    if items.get("type") != "string" or "enum" in items:
        return []
    texts = AWKWARD_TEXTS
    if "pattern" in items:  # Product:Version (or a crash id: mostly 400s, as documented)
        texts = [f"{text}:1.0" for text in AWKWARD_TEXTS[:4]] + ["Firefox:16.0.2"]
    return [(encode(text), encode_query(text)) for text in texts]


def socorro_requests(document, backend):
    """(path template, URI): each awkward value of each string parameter of each Socorro GET
    operation ``backend`` implements, as a path pair and in the query string."""
    for path, item in document["paths"].items():
        operation = item.get("get")
        if "{" in path or path.startswith("/__") or operation is None or (
                backend == "elasticsearch" and not re.match(ES_OPERATIONS,
                                                            operation["operationId"])):
            continue
        parameters = {p["name"]: p for p in operation["parameters"]}
        required = {name: REQUIRED[name] for name, p in parameters.items() if p["required"]}
        for name, parameter in parameters.items():
            others = {k: (encode(v), encode_query(v)) for k, v in required.items() if k != name}
            for value in wire_values(name, parameter["schema"]):
                sent = {**others, name: value}
                pairs = "".join(f"{k}/{v[0]}/" for k, v in sent.items())
                yield path, f"{path}/{pairs}force_api_impl/{backend}/"
                query = "&".join(f"{k}={v[1]}" for k, v in sent.items())
                yield path, f"{path}/?{query}&force_api_impl={backend}"


def partycrasher_requests():
    """Stored reports and their buckets addressed by awkward ids, once and twice encoded."""
    for database_id in AWKWARD_REPORT_IDS:
        for segment in {encode(database_id), quote(quote(database_id, safe=""), safe="")}:
            yield "/reports/{report_id}", f"/reports/{segment}", database_id
            yield "/reports/{report_id}/summary", f"/reports/{segment}/summary", database_id
            yield ("/reports/{report_id}/compare/{other_id}",
                   f"/reports/{segment}/compare/{segment}", database_id)
    for q in AWKWARD_TEXTS:
        yield "/search", f"/search?q={encode_query(q)}&since=2-weeks-ago", None
        yield "/{project}/buckets/{threshold}", \
            f"/alpha/buckets/5.0?since=2-weeks-ago&q={encode_query(q)}", None


def check(template, method, response):
    """The checks of the Schemathesis run, on a response to a request built here."""
    captures = re.findall(r"{(\w+)}", template)
    case = api_schema[template][method].Case(path_parameters={name: "x" for name in captures})
    case.validate_response(response, checks=CHECKS)


def test_awkward_values_in_path_pairs_and_query_strings(seeded):
    client = Client(seeded)

    def get(template, uri):
        started = time.perf_counter()
        response = client.get(uri)
        check(template, "GET", response)
        tally("explicit awkward values", started, template, response.status_code)
        return response

    for backend in ("postgresql", "elasticsearch"):
        for template, uri in socorro_requests(DOCUMENT, backend):
            response = get(template, uri)
            if response.status_code == 200:
                assert response.headers["X-Crashgate-Backend"] == backend
    for template, uri, database_id in partycrasher_requests():
        response = get(template, uri)
        if database_id is not None:
            assert response.status_code == 200, (uri, response.get_data(as_text=True))
            assert response.get_json()["database_id"] == database_id
    for project in PROJECTS:  # buckets get random ids: read them, then view each bucket
        top = get("/{project}/buckets/{threshold}", f"/{project}/buckets/5.0?since=2-weeks-ago")
        assert top.get_json()["top_buckets"], top.get_data(as_text=True)
        for bucket in top.get_json()["top_buckets"]:
            for template in ("/{project}/buckets/{threshold}/{bucket_id}",
                             "/buckets/{threshold}/{bucket_id}"):
                response = get(template, template.format(
                    project=project, threshold="5.0",
                    bucket_id=quote(bucket["id"], safe="")) + "?size=3")
                assert response.get_json()["total"] == bucket["total"]


@pytest.mark.parametrize("backend", ["postgresql", "elasticsearch"])
@pytest.mark.parametrize("signature", AWKWARD_SIGNATURES)
def test_awkward_signatures_round_trip(seeded, signature, backend):
    """Each awkward signature finds its crash, as a path pair (once or twice encoded) and in
    the query string, on both backends."""
    client = Client(seeded)
    twice = quote(quote(signature, safe=""), safe="")
    for uri in (f"/report/list/signature/{encode(signature)}/force_api_impl/{backend}/",
                f"/report/list/signature/{twice}/force_api_impl/{backend}/",
                f"/report/list/?signature={encode_query(signature)}&force_api_impl={backend}"):
        body = client.get(uri).get_json()
        assert [hit["signature"] for hit in body["hits"]] == [signature], uri


def test_answers_without_personal_data_conform(seeded):
    """With tokens configured, a reader without the pii scope gets answers without personal
    fields: they still match the schemas (personal fields are never required)."""
    token, entry = mint_token("reader", "")
    gateway = seeded.gateway
    open_access, gateway.access = gateway.access, AccessControl(TokenStore([entry]))
    try:
        client = Client(seeded)
        headers = {"Authorization": f"Bearer {token}"}
        signature = encode(AWKWARD_SIGNATURES[0])
        for template, uri, personal in [
                ("/report/list", f"/report/list/signature/{signature}/", "url"),
                ("/crashes/comments", f"/crashes/comments/signature/{signature}/", "email"),
                ("/signatureurls", f"/signatureurls/signature/{signature}/start_date/2000-01-01/"
                                   f"end_date/2100-01-01/products/ALL/versions/ALL/", "url"),
                ("/reports/{report_id}", "/reports/r-1", None)]:
            response = client.get(uri, headers=headers)
            check(template, "GET", response)
            assert response.status_code == 200
            if personal:
                hits = response.get_json()["hits"]
                assert hits and all(personal not in hit for hit in hits), uri
    finally:
        gateway.access = open_access


REPORT_ROW = {
    "uuid": "0bba929f-8721-460c-dead-a43c20121107", "date_processed": "2012-11-07T23:58:01+00:00",
    "client_crash_date": None, "product": "Firefox", "version": "16.0.2", "build": None,
    "release_channel": None, "signature": "sig", "reason": None, "address": None,
    "os_name": None, "os_version": None, "cpu_name": None, "cpu_info": None,
    "uptime": None, "install_age": None, "last_crash": None, "hangid": None,
    "process_type": None, "duplicate_of": None, "install_time": None}  # no url, comments


def test_the_checks_catch_a_wrong_answer():
    """The checks have teeth: a /report/list answer (personal fields left out) passes; one
    without ``total``, with an extra field, a date not ISO-8601, without the backend header,
    with an undocumented status or a 5xx fails."""
    def answering(status, body, headers=(("X-Crashgate-Backend", "postgresql"),)):
        def app(environ, start_response):
            start_response(status, [("Content-Type", "application/json"), *headers])
            return [json.dumps(body).encode()]
        return Client(app).get("/report/list/?signature=x")

    good = {"hits": [REPORT_ROW], "total": 1}
    check("/report/list", "GET", answering("200 OK", good))
    for response in (answering("200 OK", {"hits": []}),
                     answering("200 OK", dict(good, extra=1)),
                     answering("200 OK", {"total": 1, "hits": [dict(
                         REPORT_ROW, date_processed="2012-11-07 23:58:01")]}),
                     answering("200 OK", good, headers=()),
                     answering("418 I'm a teapot", good),
                     answering("500 Internal Server Error", {"error": {
                         "message": "Internal server error", "type": "internal_error"}})):
        with pytest.raises(FailureGroup):
            check("/report/list", "GET", response)


def test_figures(seeded, capsys):
    """Prints what the run covered (``-s``); every group that ran sent requests."""
    with capsys.disabled():
        print("\nOpenAPI conformance run:")
        for group, figures in FIGURES.items():
            statuses = figures["statuses"]
            print(f"  {group}: {len(figures['operations'])} operations, "
                  f"{sum(statuses.values())} requests in {figures['last'] - figures['first']:.1f} s"
                  f" ({', '.join(f'{code}: {n}' for code, n in sorted(statuses.items()))})"
                  + (f"; {figures['loose']} routed to another service, checked for no 5xx only"
                     if figures["loose"] else ""))
        print(f"  requests answered by the app in all: {seeded.requests}")
    assert FIGURES and all(figures["statuses"] for figures in FIGURES.values())
