"""PartyCrasher's REST API (0.2.0): report ingestion and bucketing, as gateway services.

Every route exists with and without a ``/{project}`` prefix. The services validate
requests, call the bucketing implementation chosen by dispatch (``postgresql`` or
``elasticsearch``: they differ in how candidate reports are found) and turn its plain
results into JSON with absolute ``href`` values built from the client-facing URL
(``Forwarded`` / ``X-Forwarded-*`` / ``Host``). Answers are described in docs/api.md.
"""
from urllib.parse import quote

from crashgate.bucketing.thresholds import format_threshold, parse_threshold
from crashgate.errors import BadArgument, NotFound
from crashgate.ingest.report_document import (PROJECT_NAME, RESERVED_PROJECTS, check_project,
                                              parse_reports)
from crashgate.services.base import Created, HttpResult, SeeOther, Service
from crashgate.services.contract import (INTEGER, MOMENT, Contract, JsonBody, Param,
                                         ParamType)
from crashgate.services.search_filters import PERSONAL_FIELDS

THRESHOLD = ParamType("threshold", "a similarity threshold such as 4.0", parse_threshold,
                      {"type": "string", "pattern": r"^\d{1,3}(\.\d+)?$"})
PROJECT_NAME_TYPE = ParamType("project", "a project name", check_project, {
    "type": "string", "pattern": f"^{PROJECT_NAME.pattern}$",
    "not": {"enum": sorted(RESERVED_PROJECTS)}})
PROJECT = Param("project", PROJECT_NAME_TYPE, doc="project name (from the URL)")
REPORT_ID = Param("report_id", required=True, doc="database_id of a report")
PAGE = (Param("from", INTEGER, default=0, minimum=0, maximum=100000,
              doc="index of the first item of the page"),
        Param("size", INTEGER, default=10, minimum=0, maximum=1000,
              doc="items per page"))
WINDOW = (Param("until", MOMENT, doc="only crashes strictly before this moment"),
          Param("q", sensitive=True,
                doc="search query (PostgreSQL: tokens that must all match, "
                    "field:token for one field; Elasticsearch: Lucene syntax); it searches "
                    "every field, so it needs the pii scope when tokens are configured"))
# Personal data in reports (crash document, Apport and Breakpad names): removed from answers
# for callers without the 'pii' scope (middleware/access.py matches ignoring case, '_', '-').
REPORT_PERSONAL_FIELDS = PERSONAL_FIELDS | {
    "comments", "user_id", "client_id", "install_id", "telemetry_client_id", "ProcEnviron",
    "ProcCmdline", "ProcCwd"}
REPORTS_BODY = JsonBody("reports", doc="one report object or an array of them",
                        example={"database_id": "launchpad:0001033690", "date":
                                 "2016-02-29T10:00:00", "stacktrace": [{"function": "main"}]})


def _segment(value):
    return quote(str(value), safe="")


class Links:
    """Absolute URLs of PartyCrasher resources for one request."""

    def __init__(self, request):
        self.base = request.base_url

    def report(self, project, database_id):
        return f"{self.base}/{_segment(project)}/reports/{_segment(database_id)}"

    def bucket(self, project, threshold, bucket_id):
        prefix = f"/{_segment(project)}" if project else ""
        return (f"{self.base}{prefix}/buckets/{format_threshold(threshold)}/"
                f"{_segment(bucket_id)}")

    def buckets(self, project, buckets):
        """``{"4.0": {id, bucket_id, threshold, href}}``; None stays None (dry run)."""
        return {format_threshold(threshold): None if bucket_id is None else {
            "id": bucket_id, "bucket_id": bucket_id, "threshold": format_threshold(threshold),
            "href": self.bucket(project, threshold, bucket_id)}
            for threshold, bucket_id in sorted(buckets.items())}

    def top_match(self, match):
        if match is None:
            return None
        return {"report_id": match.database_id, "project": match.project,
                "score": match.score, "href": self.report(match.project, match.database_id)}


class BucketingService(Service):
    """Common parts: the bucketing settings and the project named in the URL."""

    sensitive_fields = REPORT_PERSONAL_FIELDS

    def __init__(self, config=None):
        super().__init__(config)
        self.thresholds = list(config.bucketing.thresholds) if config else []
        self.default_threshold = None
        if config is not None:
            self.default_threshold = parse_threshold(config.bucketing.default_threshold)
            if self.default_threshold not in self.thresholds:
                raise ValueError(
                    f"bucketing.default_threshold {self.default_threshold} is not one of "
                    f"bucketing.thresholds ({', '.join(map(str, self.thresholds))})")

    @staticmethod
    def url_project(params):
        project = params.get("project")
        return None if project is None else check_project(project)

    def threshold(self, params):
        """The threshold of the URL (default: bucketing.default_threshold); 404 if not used."""
        threshold = params.get("threshold")
        if threshold is None:
            return self.default_threshold
        if threshold not in self.thresholds:
            raise NotFound(f"No buckets at threshold {threshold}: configured thresholds are "
                           f"{', '.join(map(format_threshold, self.thresholds))}",
                           parameter="threshold")
        return threshold


def ingest_result_json(links, result):
    return {"database_id": result.database_id, "project": result.project,
            "href": links.report(result.project, result.database_id),
            "date": result.date, "buckets": links.buckets(result.project, result.buckets),
            "top_match": links.top_match(result.top_match)}


class Reports(BucketingService):
    paths = ("/reports", "/{project}/reports")
    summary = ("POST: store one report (201 + Location; 303 when its database_id is already "
               "stored) or an array (201, per-item results); DELETE /reports: delete every "
               "report (403 unless bucketing.allow_delete_all).")
    methods = {"POST": Contract(PROJECT, body=REPORTS_BODY),
               "DELETE": Contract(PROJECT)}

    def call(self, implementation, method, params, request):
        if method == "DELETE":
            if params.get("project") is not None:
                raise BadArgument("project", params["project"],
                                  "no project: DELETE is only allowed on /reports")
            deleted = implementation.delete_all()
            return {"status": "All reports deleted", "deleted": deleted}
        body = params["reports"]
        reports = parse_reports(body, self.url_project(params))
        results = implementation.ingest(reports, dry_run=False)
        links = Links(request)
        if not isinstance(body, list):
            result = results[0]
            location = links.report(result.project, result.database_id)
            if not result.created:
                return SeeOther(location, {"database_id": result.database_id,
                                           "project": result.project, "href": location,
                                           "message": "a report with this database_id is "
                                                      "already stored"})
            return Created(location, ingest_result_json(links, result))
        return HttpResult([dict(ingest_result_json(links, result),
                                status=201 if result.created else 303)
                           for result in results], status=201)


class DryRun(BucketingService):
    paths = ("/reports/dry-run", "/reports/dry_run", "/{project}/reports/dry-run",
             "/{project}/reports/dry_run")
    summary = ("The buckets a report (or an array of reports) would get; nothing is stored. "
               "A threshold where it would found a new bucket is null.")
    methods = {"POST": Contract(PROJECT, body=REPORTS_BODY)}

    def call(self, implementation, method, params, request):
        body = params["reports"]
        results = implementation.ingest(parse_reports(body, self.url_project(params)),
                                        dry_run=True)
        links = Links(request)
        answers = [ingest_result_json(links, result) for result in results]
        return answers if isinstance(body, list) else answers[0]


def report_json(links, report):
    """A stored report: its document plus database_id, project, date, href, buckets."""
    answer = dict(report["document"])
    answer.update(database_id=report["database_id"], project=report["project"],
                  date=report["date"], href=links.report(report["project"],
                                                         report["database_id"]),
                  buckets=links.buckets(report["project"], report["buckets"]),
                  top_match=links.top_match(report["top_match"]))
    return answer


def _not_found(database_id, project):
    where = f" in project {project!r}" if project else ""
    return NotFound(f"No report {database_id!r}{where}", parameter="report_id")


class ReportView(BucketingService):
    paths = ("/reports/{report_id}", "/{project}/reports/{report_id}")
    summary = "A stored report with its bucket at every threshold (Link: its default bucket)."
    methods = {"GET": Contract(PROJECT, REPORT_ID)}

    def call(self, implementation, method, params, request):
        project = self.url_project(params)
        report = implementation.get(params["report_id"], project)
        if report is None:
            raise _not_found(params["report_id"], project)
        links = Links(request)
        answer = report_json(links, report)
        default_bucket = report["buckets"].get(self.default_threshold)
        headers = []
        if default_bucket is not None:
            url = links.bucket(report["project"], self.default_threshold, default_bucket)
            headers.append(("Link", f'<{url}>; rel="related"'))
        return HttpResult(answer, headers=headers)


class ReportSummary(BucketingService):
    paths = ("/reports/{report_id}/summary", "/{project}/reports/{report_id}/summary")
    summary = ("Why a report is in its buckets: its top match and the terms that matched, "
               "with their weights.")
    methods = {"GET": Contract(PROJECT, REPORT_ID)}

    def call(self, implementation, method, params, request):
        project = self.url_project(params)
        summary = implementation.summary(params["report_id"], project)
        if summary is None:
            raise _not_found(params["report_id"], project)
        links = Links(request)
        return dict(summary, href=links.report(summary["project"], summary["database_id"]),
                    top_match=links.top_match(summary["top_match"]))


class ReportCompare(BucketingService):
    paths = ("/reports/{report_id}/compare/{other_id}",
             "/{project}/reports/{report_id}/compare/{other_id}")
    summary = ("Similarity of two reports (0-10, both directions), the terms they share with "
               "their weights, and the thresholds at which they share a bucket.")
    methods = {"GET": Contract(PROJECT, REPORT_ID,
                               Param("other_id", required=True, doc="the other report"))}

    def call(self, implementation, method, params, request):
        project = self.url_project(params)
        comparison = implementation.compare(params["report_id"], params["other_id"], project)
        if comparison is None or comparison.get("missing"):
            missing = (comparison or {}).get("missing") or params["report_id"]
            raise _not_found(missing, project)
        links = Links(request)
        comparison = dict(comparison)
        comparison["shared_buckets"] = [format_threshold(t)
                                        for t in comparison["shared_buckets"]]
        comparison["href"] = links.report(comparison["project"], comparison["database_id"])
        comparison["other_href"] = links.report(comparison["other_project"],
                                                comparison["other_id"])
        return comparison


class TopBuckets(BucketingService):
    paths = ("/buckets", "/buckets/{threshold}", "/{project}/buckets",
             "/{project}/buckets/{threshold}")
    summary = ("The buckets with the most crashes between since and until (default "
               "threshold when none is given), with totals and first/last crash.")
    methods = {"GET": Contract(
        PROJECT, Param("threshold", THRESHOLD, doc="similarity threshold, e.g. 4.0"),
        Param("since", MOMENT, required=True,
              doc="only crashes strictly after this moment, e.g. 2016-02-29 or 3-days-ago"),
        *WINDOW, *PAGE)}

    def call(self, implementation, method, params, request):
        project, threshold = self.url_project(params), self.threshold(params)
        found = implementation.top(threshold, project, params["since"], params["until"],
                                   params["from"], params["size"], params["q"])
        links = Links(request)
        return {"since": params["since"], "until": params["until"],
                "threshold": format_threshold(threshold), "project": project,
                "q": params["q"], "from": params["from"], "size": params["size"],
                "total": found["total"],
                "top_buckets": [{
                    "id": bucket["bucket_id"], "bucket_id": bucket["bucket_id"],
                    "project": bucket["project"], "threshold": format_threshold(threshold),
                    "href": links.bucket(bucket["project"], threshold, bucket["bucket_id"]),
                    "total": bucket["total"], "first_seen": bucket["first_seen"],
                    "last_seen": bucket["last_seen"], "top_reports": None}
                    for bucket in found["buckets"]]}


class BucketView(BucketingService):
    paths = ("/buckets/{threshold}/{bucket_id}", "/{project}/buckets/{threshold}/{bucket_id}")
    summary = "The reports of one bucket, newest first, paged, with the bucket's total."
    methods = {"GET": Contract(
        PROJECT, Param("threshold", THRESHOLD, required=True, doc="similarity threshold"),
        Param("bucket_id", required=True, doc="bucket id"), *PAGE)}

    def call(self, implementation, method, params, request):
        project, threshold = self.url_project(params), self.threshold(params)
        found = implementation.get(threshold, params["bucket_id"], project, params["from"],
                                   params["size"])
        if found is None:
            raise NotFound(f"No bucket {params['bucket_id']!r} at threshold {threshold}",
                           parameter="bucket_id")
        links = Links(request)
        bucket_project = found["project"]
        return {"id": params["bucket_id"], "bucket_id": params["bucket_id"],
                "project": bucket_project, "threshold": format_threshold(threshold),
                "href": links.bucket(bucket_project, threshold, params["bucket_id"]),
                "total": found["total"], "from": params["from"], "size": params["size"],
                "top_reports": [report_json(links, report)
                                for report in found["reports"]]}


class ProjectConfig(BucketingService):
    paths = ("/config", "/{project}/config")
    uses_backend = False
    summary = "The bucketing configuration: thresholds, default threshold, tokenizer."
    methods = {"GET": Contract(PROJECT)}

    def call(self, implementation, method, params, request):
        return {"project": self.url_project(params),
                "default_threshold": float(self.default_threshold),
                "thresholds": [format_threshold(t) for t in self.thresholds],
                "tokenizer": self.config.bucketing.tokenizer}


class Search(BucketingService):
    paths = ("/search", "/{project}/search")
    summary = "Reports matching q between since and until, newest first, paged, with total."
    methods = {"GET": Contract(
        PROJECT, Param("since", MOMENT, doc="only crashes strictly after this moment"),
        *WINDOW, *PAGE)}

    def call(self, implementation, method, params, request):
        project = self.url_project(params)
        found = implementation.search(project, params["q"], params["since"], params["until"],
                                      params["from"], params["size"])
        links = Links(request)
        return {"q": params["q"], "since": params["since"], "until": params["until"],
                "project": project, "from": params["from"], "size": params["size"],
                "total": found["total"],
                "reports": [report_json(links, report)
                            for report in found["reports"]]}
