"""HTTP behaviour shared by every service: JSON bodies, CORS, absolute Location headers."""
import pytest

BUILD = {"version": "20.0", "build_id": "20120417012345", "build_type": "Release",
         "platform": "macosx", "repository": "mozilla-central"}


@pytest.mark.parametrize("body, content_type, message", [
    (b"{not json", "application/json", "not valid JSON"),
    (b"", "application/json", "empty"),
    (b'{"database_id": "x"}', "text/plain", "expected application/json"),
    (b"[" * 5000 + b"]" * 5000, "application/json", "not valid JSON"),
])
def test_bad_json_bodies_are_400_naming_the_body(client, body, content_type, message):
    response = client.request("POST", "/p/reports", body=body, content_type=content_type)
    assert response.status == 400
    error = response.json["error"]
    assert message in error["message"]
    assert error["parameter"] in ("body", "Content-Type")


def test_json_body_on_a_form_service_is_rejected(client):
    response = client.post_json("/products/builds/product/Firefox/", BUILD)
    assert response.status == 400
    assert response.json["error"]["parameter"] == "Content-Type"


def test_oversized_json_body_is_413(client):
    response = client.request("POST", "/p/reports", body=b" " * (11 * 1024 * 1024),
                              content_type="application/json")
    assert response.status == 413


def test_preflight_answers_allowed_methods_with_cors_headers(client):
    response = client.request("OPTIONS", "/alan_parsons/reports",
                              headers={"Origin": "http://example.org",
                                       "Access-Control-Request-Method": "POST",
                                       "Access-Control-Request-Headers": "content-type"})
    assert response.status == 204
    assert response.body == b""
    assert set(response.headers["Allow"].split(", ")) == {"POST", "DELETE", "OPTIONS"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Headers"] == "content-type"


def test_cors_header_on_ordinary_answers_and_errors(client):
    ok = client.get("/products/", headers={"Origin": "http://example.org"})
    assert ok.headers["Access-Control-Allow-Origin"] == "*"
    missing = client.get("/nowhere", headers={"Origin": "http://example.org"})
    assert missing.status == 404
    assert missing.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in client.get("/products/").headers


def test_cors_restricted_to_configured_origins(clean_db):
    from crashgate.middleware.app import make_wsgi_app
    from crashgate.runtime import build_gateway
    from tests.conftest import make_config
    from tests.wsgiclient import WSGIClient

    gateway = build_gateway(make_config(clean_db, "--web_server.cors_origins=https://ui.example"))
    try:
        client = WSGIClient(make_wsgi_app(gateway))
        allowed = client.get("/products/", headers={"Origin": "https://ui.example"})
        assert allowed.headers["Access-Control-Allow-Origin"] == "https://ui.example"
        assert allowed.headers["Vary"] == "Origin"
        other = client.get("/products/", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers
    finally:
        for backend in gateway.backends.values():
            backend.close()


def test_location_is_absolute_behind_a_proxy(client):
    response = client.post("/products/builds/product/Firefox/", BUILD,
                           headers={"X-Forwarded-Host": "crash.example",
                                    "X-Forwarded-Proto": "https"})
    assert response.status == 303
    assert response.headers["Location"] == \
        "https://crash.example/products/builds/product/Firefox/version/20.0/"


def test_openapi_document_and_docs_page_are_served(client):
    document = client.get("/openapi.json")
    assert document.status == 200
    assert document.json["openapi"].startswith("3.")
    assert "/report/list" in document.json["paths"]
    page = client.get("/docs")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"/crashes/comments" in page.body
    assert client.post("/openapi.json", {}).status == 405
