"""What every service answers, as OpenAPI 3.0 schemas: the one description of result shapes.

``middleware/openapi.py`` publishes them in ``/openapi.json``;
``tests/contract/test_openapi_conformance.py`` checks real answers of both backends against
them. ``ANSWERS[ServiceClass][method]`` lists the :class:`Answer` of each status the service
itself produces (its error statuses included); the errors common to every route (bad input,
unknown method, backend down, ...) are added by openapi.py, which also drops the service's
``sensitive_fields`` from ``required`` (access control removes them from answers to clients
without the ``pii`` scope) and marks them ``x-personal-data``.
"""
from typing import NamedTuple

from crashgate.services import crashes, jobs, partycrasher, products, reports, util

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
COUNT = {"type": "integer", "minimum": 0}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATE_TIME = {"type": "string", "format": "date-time"}
URL = {"type": "string", "format": "uri"}
ANY = {}


def nullable(schema):
    return dict(schema, nullable=True)


def record(fields, optional=None, open_=False):
    """An object with every key of ``fields`` (name: schema) required, plus ``optional``
    ones; ``open_``: other keys allowed."""
    schema = {"type": "object", "properties": {**fields, **(optional or {})},
              "additionalProperties": open_}
    if fields:
        schema["required"] = list(fields)
    return schema


def array(items):
    return {"type": "array", "items": items}


def hits(item):
    """Socorro's list answer: ``{"hits": [...], "total": N}``."""
    return record({"hits": array(item), "total": COUNT})


def one_of(*schemas):
    return {"oneOf": list(schemas)}


ERROR = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {
        "type": "object", "required": ["message", "type"],
        "description": "errors.CrashgateError.to_json(); details vary by type",
        "properties": {"message": STRING, "type": STRING, "parameter": STRING,
                       "received": ANY, "expected": ANY, "actual": ANY,
                       "allowed": array(STRING), "missing": array(STRING)},
    }},
}

# -- Socorro services --------------------------------------------------------------------------
TEXT = nullable(STRING)
CRASH_ROW = record({
    "uuid": STRING, "date_processed": DATE_TIME, "client_crash_date": nullable(DATE_TIME),
    "product": STRING, "version": STRING, "build": TEXT, "release_channel": TEXT,
    "signature": STRING, "reason": TEXT, "address": TEXT, "os_name": TEXT,
    "os_version": TEXT, "cpu_name": TEXT, "cpu_info": TEXT, "url": TEXT,
    "user_comments": TEXT, "uptime": nullable(INTEGER), "install_age": nullable(INTEGER),
    "last_crash": nullable(INTEGER), "hangid": TEXT, "process_type": TEXT,
    "duplicate_of": TEXT, "install_time": nullable(DATE_TIME)})
PRODUCT = record({"product_name": STRING, "sort": INTEGER, "rapid_release_version": TEXT,
                  "release_name": STRING})
PRODUCT_VERSION = record({"product": STRING, "version": STRING, "start_date": nullable(DATE),
                          "end_date": nullable(DATE), "is_featured": BOOLEAN,
                          "build_type": STRING, "throttle": NUMBER})
BUILD = record({"product": STRING, "version": STRING, "platform": STRING, "buildid": INTEGER,
                "build_type": STRING, "beta_number": nullable(INTEGER), "repository": STRING,
                "date": DATE})
BUILD_RECORDED = record({"created": BOOLEAN, "product": STRING, "version": STRING,
                         "platform": STRING, "build_id": INTEGER})
VERSION_INFO = record({"product_name": STRING, "version_string": STRING,
                       "major_version": TEXT, "release_channel": STRING,
                       "build_id": array(INTEGER)})
COMMENT = record({"date_processed": DATE_TIME, "user_comments": STRING, "uuid": STRING,
                  "email": TEXT})
FREQUENCY = record({"build_date": STRING, "count": COUNT, "total": COUNT, "frequency": NUMBER,
                    **{f"{name}_{os}": schema for os in ("windows", "mac", "linux")
                       for name, schema in (("count", COUNT), ("frequency", NUMBER))}})
NEW_OR = {"type": "string", "enum": ["new"]}
TOP_CRASHER = record({
    "signature": STRING, "count": COUNT, "win_count": COUNT, "mac_count": COUNT,
    "linux_count": COUNT, "hang_count": COUNT, "plugin_count": COUNT, "content_count": COUNT,
    "startup_percent": NUMBER, "percentOfTotal": NUMBER, "currentRank": COUNT,
    "previousRank": nullable(COUNT), "previousPercentOfTotal": nullable(NUMBER),
    "changeInRank": one_of(INTEGER, NEW_OR), "changeInPercentOfTotal": one_of(NUMBER, NEW_OR),
    "first_report": nullable(DATE), "first_report_exact": nullable(DATE_TIME),
    "versions": STRING, "versions_count": COUNT})
TOP_CRASHERS = record({"crashes": array(TOP_CRASHER), "start_date": DATE_TIME,
                       "end_date": DATE_TIME, "totalNumberOfCrashes": COUNT,
                       "totalPercentage": NUMBER})
SIGNATURE_COUNTS = record({"signature": STRING, "count": COUNT, "is_windows": COUNT,
                           "is_mac": COUNT, "is_linux": COUNT, "numhang": COUNT,
                           "numplugin": COUNT, "numcontent": COUNT})
EXTENSION = record({"report_id": INTEGER, "date_processed": DATE_TIME,
                    "extension_key": INTEGER, "extension_id": STRING,
                    "extension_version": TEXT})
JOB = record({"id": INTEGER, "pathname": STRING, "uuid": STRING, "owner": nullable(INTEGER),
              "priority": INTEGER, "queueddatetime": nullable(DATE_TIME),
              "starteddatetime": nullable(DATE_TIME), "completeddatetime": nullable(DATE_TIME),
              "success": nullable(BOOLEAN), "message": TEXT})
UUID_ONLY = record({"uuid": STRING})

# -- PartyCrasher services -----------------------------------------------------------------
THRESHOLD = {"type": "string", "pattern": r"^\d+\.\d$"}
BUCKET_REF = record({"id": STRING, "bucket_id": STRING, "threshold": THRESHOLD, "href": URL})
TOP_MATCH = nullable(record({"report_id": STRING, "project": STRING, "score": NUMBER,
                             "href": URL}))


def buckets_by_threshold(bucket):
    return {"type": "object", "additionalProperties": bucket,
            "description": "the report's bucket at every threshold (key: threshold)"}


def ingest_result(bucket=BUCKET_REF, **extra):
    return record({"database_id": STRING, "project": STRING, "href": URL, "date": DATE_TIME,
                   "buckets": buckets_by_threshold(bucket), "top_match": TOP_MATCH, **extra})


INGESTED = ingest_result()
INGESTED_ITEM = ingest_result(status={"type": "integer", "enum": [201, 303]})
DRY_RUN = ingest_result(nullable(BUCKET_REF))
ALREADY_STORED = record({"database_id": STRING, "project": STRING, "href": URL,
                         "message": STRING})
STORED_REPORT = dict(
    record({"database_id": STRING, "project": STRING, "date": DATE_TIME, "href": URL,
            "buckets": buckets_by_threshold(BUCKET_REF), "top_match": TOP_MATCH}, open_=True),
    description="the report as posted, plus these fields")
TERM = record({"field": STRING, "term": STRING, "weight": NUMBER})
SUMMARY = record({"database_id": STRING, "project": STRING, "href": URL,
                  "top_match": TOP_MATCH, "score": nullable(NUMBER), "terms": array(TERM)})
COMPARISON = record({
    "database_id": STRING, "other_id": STRING, "project": STRING, "other_project": STRING,
    "href": URL, "other_href": URL, "score": NUMBER, "reverse_score": NUMBER,
    "terms": array(TERM), "reverse_terms": array(TERM), "shared_buckets": array(THRESHOLD)})
PAGE = {"from": COUNT, "size": COUNT, "total": COUNT}
TOP_BUCKET = record({"id": STRING, "bucket_id": STRING, "project": STRING,
                     "threshold": THRESHOLD, "href": URL, "total": COUNT,
                     "first_seen": DATE_TIME, "last_seen": DATE_TIME,
                     "top_reports": nullable(array(STORED_REPORT))})
TOP_BUCKETS = record({"since": DATE_TIME, "until": nullable(DATE_TIME), "threshold": THRESHOLD,
                      "project": TEXT, "q": TEXT, **PAGE, "top_buckets": array(TOP_BUCKET)})
BUCKET = record({"id": STRING, "bucket_id": STRING, "project": STRING, "threshold": THRESHOLD,
                 "href": URL, **PAGE, "top_reports": array(STORED_REPORT)})
CONFIG = record({"project": TEXT, "default_threshold": NUMBER, "thresholds": array(THRESHOLD),
                 "tokenizer": STRING})
SEARCH = record({"q": TEXT, "since": nullable(DATE_TIME), "until": nullable(DATE_TIME),
                 "project": TEXT, **PAGE, "reports": array(STORED_REPORT)})
DELETED = record({"status": STRING, "deleted": COUNT})


def posted_reports(project_in_url):
    """The body of ``POST [/{project}]/reports[/dry-run]``: one report or an array of them;
    without a project in the URL each report names its own."""
    fields = {"database_id": one_of(
        {"type": "string", "minLength": 1, "maxLength": 200,
         "pattern": r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"}, INTEGER)}
    optional = {"project": partycrasher.PROJECT_NAME_TYPE.schema,
                "date": dict(DATE_TIME, description="default: the time of posting")}
    if not project_in_url:
        fields["project"] = optional.pop("project")
    report = record(fields, optional, open_=True)
    return one_of(report, dict(array(report), minItems=1))

# -- answers of each service ---------------------------------------------------------------
HEADERS = {
    "Location": {"description": "absolute URL of the resource", "schema": URL},
    "Link": {"description": "the report's bucket at the default threshold (rel=related)",
             "schema": STRING},
    "X-Crashgate-Backend": {"description": "the backend that answered", "schema": STRING},
    "Allow": {"description": "methods this route accepts", "schema": STRING},
    "Retry-After": {"description": "seconds to wait before retrying", "schema": STRING},
}


class Answer(NamedTuple):
    """One documented response: ``schema`` None = no body; ``headers``: names from HEADERS,
    those in ``required_headers`` always sent."""

    status: int
    description: str
    schema: dict | None
    headers: tuple = ()
    required_headers: tuple = ()


def ok(schema, description="the answer"):
    return [Answer(200, description, schema)]


def not_found(what):
    return Answer(404, f"no such {what}", ERROR)


LOCATED = {"headers": ("Location",), "required_headers": ("Location",)}
ANSWERS = {
    products.Products: {"GET": ok(hits(one_of(PRODUCT, PRODUCT_VERSION)),
                                  "products, or the known versions among those asked")},
    products.ProductsBuilds: {
        "GET": ok(array(BUILD), "builds, newest first"),
        "POST": [Answer(303, "recorded (created: false when it already was); Location: the "
                             "product's builds", BUILD_RECORDED, **LOCATED)]},
    util.VersionsInfo: {"GET": ok(nullable({"type": "object",
                                            "additionalProperties": VERSION_INFO}),
                                  "info per known 'Product:Version'; null without versions")},
    crashes.CrashesComments: {"GET": ok(nullable(hits(COMMENT)), "null without signature")},
    crashes.CrashesFrequency: {"GET": ok(hits(FREQUENCY), "one hit per build")},
    crashes.CrashesPaireduuid: {"GET": ok(hits(UUID_ONLY))},
    crashes.CrashesSignatures: {"GET": ok(TOP_CRASHERS)},
    reports.Extensions: {"GET": ok(hits(EXTENSION))},
    jobs.Job: {"GET": ok(hits(JOB))},
    jobs.Priorityjobs: {"GET": ok(hits(UUID_ONLY)),
                        "POST": ok(BOOLEAN, "true: queued now; false: it already was")},
    reports.ReportList: {"GET": ok(hits(CRASH_ROW), "crashes newest first, true total")},
    reports.SearchCrashes: {"GET": ok(hits(CRASH_ROW), "crashes newest first, true total")},
    reports.SearchSignatures: {"GET": ok(hits(SIGNATURE_COUNTS),
                                         "signatures most frequent first, true total")},
    reports.SignatureURLs: {"GET": ok(hits(record({"url": STRING, "crash_count": COUNT})))},
    partycrasher.Reports: {
        "POST": [Answer(201, "stored (one report: its result and Location; an array: one "
                             "result per item)", one_of(INGESTED, array(INGESTED_ITEM)),
                        headers=("Location",)),
                 Answer(303, "a report with this database_id is already stored",
                        ALREADY_STORED, **LOCATED),
                 Answer(409, "the same new id posted at the same moment to another project",
                        ERROR)],
        "DELETE": ok(DELETED, "every report deleted") + [
            Answer(403, "bucketing.allow_delete_all is off", ERROR)]},
    partycrasher.DryRun: {"POST": ok(one_of(DRY_RUN, array(DRY_RUN)),
                                     "the buckets it would get (null: a new bucket)")},
    partycrasher.ReportView: {"GET": [Answer(200, "the stored report", STORED_REPORT,
                                             headers=("Link",)), not_found("report")]},
    partycrasher.ReportSummary: {"GET": ok(SUMMARY) + [not_found("report")]},
    partycrasher.ReportCompare: {"GET": ok(COMPARISON) + [not_found("report")]},
    partycrasher.TopBuckets: {"GET": ok(TOP_BUCKETS) + [not_found("threshold")]},
    partycrasher.BucketView: {"GET": ok(BUCKET) + [not_found("bucket or threshold")]},
    partycrasher.ProjectConfig: {"GET": ok(CONFIG)},
    partycrasher.Search: {"GET": ok(SEARCH)},
}

BUILTIN_ANSWERS = {
    "/__heartbeat__": [
        Answer(200, "every backend serving by default answers (status degraded: one reached "
                    "only by force_api_impl is down)", record({
                        "status": {"type": "string", "enum": ["ok", "degraded"]},
                        "backends": {"type": "object", "additionalProperties": record(
                            {"status": STRING, "serves_by_default": BOOLEAN},
                            {"message": STRING}, open_=True)}})),
        Answer(503, "a backend serving by default is down", record({
            "status": {"type": "string", "enum": ["error"]},
            "backends": {"type": "object", "additionalProperties": {"type": "object"}}}))],
    "/__lbheartbeat__": ok(record({"status": STRING}), "the process is alive"),
    "/__version__": ok(record({"name": STRING, "version": STRING}), "name and version"),
}


REQUEST_BODIES = {partycrasher.Reports: posted_reports, partycrasher.DryRun: posted_reports}


def request_body(service, project_in_url):
    """The JSON request body schema of ``service``, or None when it declares none."""
    make = REQUEST_BODIES.get(type(service))
    return make(project_in_url) if make else None


def answers(service, method):
    """The documented answers of ``service`` (an instance) for ``method``; a service without
    declared answers (a third-party plugin) gets a 200 with any JSON."""
    declared = getattr(service, "answers", None) or ANSWERS.get(type(service), {})
    return declared.get(method) or ok(ANY)
