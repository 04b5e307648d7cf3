"""The generated OpenAPI document: valid OpenAPI 3, complete, in step with the contracts."""
import pytest
from openapi_spec_validator import validate

from crashgate.middleware.openapi import docs_page, openapi_document
from crashgate.middleware.plugins import SERVICES, load_group
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
            assert set(document["paths"][template]) == {m.lower() for m in service.methods}
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
    assert page.count("<section>") == sum(len(item) for item in document["paths"].values())
    assert "<code>GET /crashes/signatures</code>" in page
