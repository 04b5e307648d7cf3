"""Validation of posted PartyCrasher reports (crashgate.ingest.report_document)."""
import datetime
import json

import pytest

from crashgate.errors import BadRequest
from crashgate.ingest.report_document import (RESERVED_PROJECTS, InvalidReport,
                                              ProjectMismatch, parse_reports)
from tests.conftest import LAUNCHPAD_SAMPLES

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_one_report_gets_project_from_url_and_date_defaults_to_now():
    [report] = parse_reports({"database_id": "r1"}, "alan_parsons", now=NOW)
    assert (report.database_id, report.project, report.date) == ("r1", "alan_parsons", NOW)
    assert report.document == {"database_id": "r1", "project": "alan_parsons",
                               "date": NOW.isoformat()}
    assert report.crash is None


def test_given_date_is_parsed_as_utc():
    [report] = parse_reports({"database_id": 7, "project": "p",
                              "date": "2017-01-05T08:18:45"}, now=NOW)
    assert report.database_id == "7"
    assert report.date == datetime.datetime(2017, 1, 5, 8, 18, 45, tzinfo=UTC)


def test_array_keeps_order_and_names_the_bad_item():
    reports = parse_reports([{"database_id": "a"}, {"database_id": "b"}], "p", now=NOW)
    assert [r.database_id for r in reports] == ["a", "b"]
    with pytest.raises(InvalidReport) as caught:
        parse_reports([{"database_id": "a"}, {"date": "2017-01-01"}], "p", now=NOW)
    assert caught.value.parameter == "reports[1].database_id"


@pytest.mark.parametrize("body, parameter", [
    ({"project": "p"}, "database_id"),
    ({"database_id": ""}, "database_id"),
    ({"database_id": ["x"]}, "database_id"),
    ({"database_id": "a\x00b"}, "database_id"),
    ({"database_id": "x", "date": "yesterday"}, "date"),
    ({"database_id": "x", "date": 5}, "date"),
    ([], "reports"),
    ("text", "body"),
])
def test_bad_reports_name_the_field(body, parameter):
    with pytest.raises(BadRequest) as caught:
        parse_reports(body, "p", now=NOW)
    assert caught.value.status == 400
    assert caught.value.parameter == parameter


def test_nul_characters_anywhere_are_named():
    with pytest.raises(InvalidReport) as caught:
        parse_reports([{"database_id": "a"}, {"database_id": "b",
                                              "stacktrace": [{"function": "f\x00"}]}], "p")
    assert caught.value.parameter == "reports[1].stacktrace[0].function"
    with pytest.raises(InvalidReport) as caught:
        parse_reports({"database_id": "a", "bad\x00key": 1}, "p")
    assert caught.value.parameter == "report"


def test_project_required_without_url_project():
    with pytest.raises(InvalidReport) as caught:
        parse_reports({"database_id": "x"}, None, now=NOW)
    assert caught.value.parameter == "project"


def test_project_mismatch_reports_expected_and_actual():
    with pytest.raises(ProjectMismatch) as caught:
        parse_reports({"database_id": "x", "project": "manhattan"}, "alan_parsons")
    body = caught.value.to_json()["error"]
    assert (body["expected"], body["actual"], caught.value.status) == \
        ("alan_parsons", "manhattan", 400)


@pytest.mark.parametrize("project", ["", "-x", "a/b", "x" * 101, "reports", "crashes", 5])
def test_bad_project_names(project):
    with pytest.raises(InvalidReport):
        parse_reports({"database_id": "x", "project": project})


def test_report_with_crash_fields_is_a_crash_too():
    [report] = parse_reports({"database_id": "0bba929f-8721-460c-dead-a43c20121114",
                              "product": "Firefox", "version": "16.0", "signature": "Foo",
                              "frames": [{"function": "Foo"}], "Title": "x"}, "p", now=NOW)
    assert report.crash["uuid"] == "0bba929f-8721-460c-dead-a43c20121114"
    assert report.crash["date_processed"] == NOW
    assert report.crash["signature"] == "Foo"
    assert json.loads(report.crash["extra"]) == {"Title": "x"}


def test_crash_fields_need_a_usable_crash_id():
    with pytest.raises(InvalidReport) as caught:
        parse_reports({"database_id": "launchpad:1", "product": "F", "version": "1",
                       "signature": "s"}, "p")
    assert caught.value.parameter == "uuid"
    [report] = parse_reports({"database_id": "launchpad:1", "uuid": "abc-1", "product": "F",
                              "version": "1", "signature": "s"}, "p")
    assert report.crash["uuid"] == "abc-1"


def test_bad_crash_field_is_named_with_its_item():
    with pytest.raises(InvalidReport) as caught:
        parse_reports([{"database_id": "a"}, {"database_id": "b", "product": "F",
                                              "version": "1", "signature": "s",
                                              "uptime": "long"}], "p")
    assert caught.value.parameter == "reports[1].uptime"


def test_real_launchpad_samples_are_accepted():
    samples = sorted(LAUNCHPAD_SAMPLES.glob("*.json"))
    assert len(samples) == 9
    for path in samples:
        body = json.loads(path.read_text())
        body.setdefault("database_id", path.stem)
        [report] = parse_reports(body, "ubuntu")
        assert report.document["stacktrace"] == body["stacktrace"]


def test_reserved_project_names_cover_every_other_first_path_segment():
    """A project named like another route's first segment could not be addressed."""
    from crashgate.middleware.plugins import SERVICES, load_group

    first_segments = set()
    for service in load_group(SERVICES).values():
        for template in service.route_templates():
            first = template.strip("/").split("/")[0]
            if not first.startswith("{"):
                first_segments.add(first)
    assert first_segments <= RESERVED_PROJECTS
