"""Validate the reports posted to the PartyCrasher API and turn them into :class:`Report`.

A report is a JSON object with at least ``database_id`` and ``project`` (the project may come
from the URL instead). ``date`` is optional (default: the time of posting). A report that
also carries the required fields of the processed crash document (``product``, ``version``,
``signature``; see docs/crash-format.md) is a crash too: it is normalised here with
:func:`normalize_crash` and stored in the crash tables as well, so the Socorro services see
it. Nothing here touches the database.
"""
import dataclasses
import datetime
import re

from crashgate.errors import BadRequest
from crashgate.ingest.crash_document import (REQUIRED_TEXT, InvalidCrash, normalize_crash,
                                             parse_timestamp)

UTC = datetime.timezone.utc
PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.~-]{0,99}")
DATABASE_ID = re.compile(r"[^\x00-\x1f\x7f]{1,200}")
CRASH_ID = re.compile(r"[0-9A-Za-z-]{1,64}")
# First path segments of other routes: a project with one of these names could not be
# addressed as /<project>/... (tests/unit/test_report_document.py checks the list is complete).
RESERVED_PROJECTS = frozenset((
    "reports", "buckets", "config", "search", "projects", "products", "crashes", "report",
    "extensions", "job", "priorityjobs", "signatureurls", "util", "openapi.json", "docs",
    "metrics",
))


class InvalidReport(BadRequest):
    type = "invalid_report"


class ProjectMismatch(BadRequest):
    """A report posted to /<project>/reports declares another project."""

    type = "project_mismatch"

    def __init__(self, parameter, expected, actual):
        super().__init__(f"Report belongs to project {actual!r} but was posted to project "
                         f"{expected!r}", parameter=parameter, expected=expected,
                         actual=actual)


@dataclasses.dataclass
class Report:
    database_id: str
    project: str
    date: datetime.datetime
    document: dict  # as posted, with database_id, project and date (ISO text) filled in
    crash: dict | None  # normalize_crash() output when the report is a crash too


def check_project(name, parameter="project"):
    """``name`` if it is a valid project name, else InvalidReport naming ``parameter``."""
    if type(name) is not str or not PROJECT_NAME.fullmatch(name) or name in RESERVED_PROJECTS:
        raise InvalidReport(
            f"Bad project name {name!r}: expected 1-100 characters of letters, digits, "
            f"'_', '.', '~' and '-' starting with a letter or digit, and not one of "
            f"{', '.join(sorted(RESERVED_PROJECTS))}", parameter=parameter)
    return name


def parse_reports(body, url_project=None, now=None):
    """The reports of a request body (one object or an array of them) -> list of Report.

    Validates every item before returning, so a bad item rejects the whole request.
    Errors name the offending field, e.g. ``reports[2].database_id``.
    """
    now = now or datetime.datetime.now(UTC)
    if url_project is not None:
        check_project(url_project)
    if isinstance(body, list):
        if not body:
            raise InvalidReport("The request body is an empty array: expected report objects",
                                parameter="reports")
        return [_report(item, url_project, now, f"reports[{index}].")
                for index, item in enumerate(body)]
    return [_report(body, url_project, now, "")]


def _report(item, url_project, now, prefix):
    if type(item) is not dict:
        raise InvalidReport(f"A report must be a JSON object, got {type(item).__name__}",
                            parameter=prefix.rstrip(".") or "body")
    database_id = _database_id(item.get("database_id"), prefix + "database_id")
    project = item.get("project")
    if url_project is not None and project is not None and project != url_project:
        raise ProjectMismatch(prefix + "project", expected=url_project, actual=project)
    if project is None:
        if url_project is None:
            raise InvalidReport("A report posted to /reports must name its project",
                                parameter=prefix + "project")
        project = url_project
    check_project(project, prefix + "project")
    date = _date(item.get("date"), now, prefix + "date")
    _reject_nul(item, prefix.rstrip(".") or "report")
    document = dict(item, database_id=database_id, project=project, date=date.isoformat())
    return Report(database_id, project, date, document, _crash(document, prefix))


def _reject_nul(value, path):
    """PostgreSQL cannot store NUL characters in text or JSON: a clear 400 instead."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidReport(f"NUL character in {path}", parameter=path)
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_nul(key, path)
            _reject_nul(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_nul(item, f"{path}[{index}]")


def _database_id(value, parameter):
    if type(value) is int:
        value = str(value)
    if type(value) is not str or not DATABASE_ID.fullmatch(value) or not value.strip():
        raise InvalidReport(f"Bad or missing database_id {value!r}: expected a string of "
                            f"1-200 printable characters", parameter=parameter)
    return value


def _date(value, now, parameter):
    if value is None:
        return now
    try:
        return parse_timestamp(parameter, value)
    except InvalidCrash:
        raise InvalidReport(f"Bad date {value!r}: expected an ISO-8601 date or date-time",
                            parameter=parameter) from None


def _crash(document, prefix):
    """The normalised crash when ``document`` carries the crash-document fields, else None."""
    if any(document.get(name) is None for name in REQUIRED_TEXT):
        return None
    uuid = document.get("uuid")
    if uuid is None:
        if not CRASH_ID.fullmatch(document["database_id"]):
            raise InvalidReport(
                "A report carrying crash fields needs a crash id: its database_id is not one "
                "(1-64 characters of [0-9A-Za-z-]); add a 'uuid' field",
                parameter=prefix + "uuid")
        uuid = document["database_id"]
    crash_doc = {key: value for key, value in document.items()
                 if key not in ("database_id", "project", "date", "buckets", "force_bucket")}
    crash_doc.update(uuid=uuid, date_processed=document.get("date_processed")
                     or document["date"])
    try:
        return normalize_crash(crash_doc)
    except InvalidCrash as error:
        raise InvalidReport(error.message, parameter=prefix + (error.parameter or "body")) \
            from None
