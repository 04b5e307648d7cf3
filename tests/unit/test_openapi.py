"""The generated OpenAPI document: valid OpenAPI 3, complete, in step with the contracts.
Real answers are checked against it in tests/contract/test_openapi_conformance.py."""
import jsonschema
import pytest
from openapi_spec_validator import validate

from crashgate import errors
from crashgate.ingest.report_document import InvalidReport, ProjectMismatch
from crashgate.middleware.openapi import docs_page, openapi_document
from crashgate.middleware.plugins import SERVICES, load_group
from crashgate.middleware.access import normalized_names
from crashgate.services.schemas import ANSWERS, ERROR
from crashgate.settings import load_config


@pytest.fixture(scope="module")
def services():
    config = load_config([], environ={})
    loaded = {name: cls(config) for name, cls in load_group(SERVICES).items()}
    for name, service in loaded.items():
        service.name = name
    return loaded


@pytest.fixture(scope="module")
def document(services):
    return openapi_document(services)


def test_document_is_valid_openapi_3(document):
    validate(document)


def test_every_route_and_method_is_documented(services, document):
    for service in services.values():
        for template in service.route_templates():
            assert set(document["paths"][template]) == \
                {m.lower() for m in service.methods} | {"options"}
    operation_ids = [op["operationId"] for item in document["paths"].values()
                     for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


def test_parameters_follow_the_contracts(document):
    report_list = document["paths"]["/report/list"]["get"]
    by_name = {p["name"]: p for p in report_list["parameters"]}
    assert by_name["signature"]["required"] is True
    assert by_name["result_number"]["schema"]["type"] == "integer"
    assert by_name["versions"]["schema"]["type"] == "array"
    bucket = document["paths"]["/{project}/buckets/{threshold}/{bucket_id}"]["get"]
    assert [p["name"] for p in bucket["parameters"] if p["in"] == "path"] == \
        ["project", "threshold", "bucket_id"]
    post_reports = document["paths"]["/{project}/reports"]["post"]
    assert "application/json" in post_reports["requestBody"]["content"]
    assert {"201", "303", "400"} <= set(post_reports["responses"])
    builds = document["paths"]["/products/builds"]["post"]["requestBody"]["content"]
    form = builds["application/x-www-form-urlencoded"]["schema"]
    assert set(form["required"]) == {"product", "version", "platform", "build_id",
                                     "build_type"}


def test_docs_page_lists_every_operation(document):
    page = docs_page(document)
    assert page.startswith("<!doctype html>")
    assert page.count("<section>") == sum(len(item) - ("options" in item)
                                          for item in document["paths"].values())
    assert "<li>answers: 200, 400, 405, 503, 504</li>" in page
    assert "<code>GET /crashes/signatures</code>" in page


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_service_method_declares_its_answers(services):
    for service in services.values():
        assert set(ANSWERS[type(service)]) == set(service.methods), service.name


def test_every_operation_documents_its_answers(document):
    for path, method, operation in operations(document):
        responses = operation["responses"]
        if path.startswith("/__"):  # built-in: its own 503 body
            assert "200" in responses
            continue
        assert "400" in responses, (path, method)
        for status, response in responses.items():
            content = response.get("content", {}).get("application/json")
            if status == "204":
                assert content is None and response["headers"]["Allow"]["required"]
                continue
            assert content["schema"], (path, method, status)
            if status.startswith(("4", "5")):
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}
            if status in ("201", "303"):
                assert "Location" in response["headers"], (path, method, status)
        if method != "options":
            assert responses[min(responses)]["headers"]["X-Crashgate-Backend"]["required"]


def test_statuses_follow_the_code(document):
    paths = document["paths"]
    assert set(paths["/reports"]["post"]["responses"]) == \
        {"201", "303", "400", "405", "409", "413", "503", "504"}
    assert set(paths["/reports"]["delete"]["responses"]) == \
        {"200", "400", "403", "405", "413", "503", "504"}
    assert set(paths["/products/builds"]["post"]["responses"]) == \
        {"303", "400", "405", "413", "503", "504"}
    assert paths["/products/builds"]["post"]["responses"]["303"]["headers"]["Location"][
        "required"] is True
    assert "404" in paths["/{project}/buckets/{threshold}/{bucket_id}"]["get"]["responses"]
    assert "404" not in paths["/report/list"]["get"]["responses"]
    assert set(paths["/config"]["get"]["responses"]) == {"200", "400", "405"}
    assert set(paths["/{project}/config"]["options"]["responses"]) == {"204", "400", "404"}


def walk(schema):
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from walk(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from walk(value)


def test_personal_data_is_never_required(services, document):
    """Fields access control removes without the pii scope: marked, never required."""
    marked = set()
    for service in services.values():
        names = normalized_names(frozenset(service.sensitive_fields))
        for template in service.route_templates():
            for method in service.methods:
                responses = document["paths"][template][method.lower()]["responses"]
                for schema in walk(responses):
                    for name, field in schema.get("properties", {}).items():
                        if normalized_names(frozenset((name,))) <= names:
                            marked.add(name)
                            assert field.get("x-personal-data") is True
                            assert name not in schema.get("required", [])
    assert {"url", "email", "user_comments"} <= marked


@pytest.mark.parametrize("error", [
    errors.BadArgument("versions", "Firefox", "'Product:Version'"),
    errors.MissingArgument("a", "Mandatory parameters 'a', 'b' are missing", missing=["a", "b"]),
    errors.UnsupportedBackend("elasticsearch", "products", ["postgresql"]),
    errors.MethodNotAllowed("PATCH", ["GET", "HEAD"]),
    errors.BackendUnavailable("down"), errors.NotFound("no", parameter="report_id"),
    InvalidReport("bad", parameter="reports[2].date"),
    ProjectMismatch("project", expected="a", actual="b"),
])
def test_every_error_body_matches_the_error_schema(error):
    jsonschema.validate(error.to_json(), ERROR)


def test_answer_schemas_are_strict_where_the_shape_is_fixed(document):
    report_list = document["paths"]["/report/list"]["get"]["responses"]["200"]
    row = report_list["content"]["application/json"]["schema"]["properties"]["hits"]["items"]
    assert row["additionalProperties"] is False
    assert {"uuid", "signature", "install_time"} <= set(row["required"])
    assert {"url", "user_comments"} <= set(row["properties"]) - set(row["required"])
    post = document["paths"]["/reports"]["post"]["requestBody"]["content"]
    report = post["application/json"]["schema"]["oneOf"][0]
    assert report["required"] == ["database_id", "project"]
    project_post = document["paths"]["/{project}/reports"]["post"]["requestBody"]["content"]
    assert project_post["application/json"]["schema"]["oneOf"][0]["required"] == \
        ["database_id"]
