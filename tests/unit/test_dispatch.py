"""Dispatch and the error model, with tiny plugins registered as real entry points."""
import pathlib
import sys

import pytest
from stevedore import ExtensionManager

from crashgate.middleware.app import make_wsgi_app
from crashgate.middleware.dispatch import ConfigurationError
from crashgate.runtime import build_gateway
from tests.conftest import make_config
from tests.wsgiclient import WSGIClient

PLUGINS_DIR = str(pathlib.Path(__file__).parent.parent / "plugins")


@pytest.fixture
def test_plugins():
    """Put the test distribution on sys.path; stevedore caches entry points per process."""
    ExtensionManager.ENTRY_POINT_CACHE.clear()
    sys.path.insert(0, PLUGINS_DIR)
    yield
    sys.path.remove(PLUGINS_DIR)
    sys.modules.pop("crashgate_testplugins", None)
    ExtensionManager.ENTRY_POINT_CACHE.clear()


def gateway_client(*argv):
    # The PostgreSQL backend connects lazily, so these tests need no database.
    return WSGIClient(make_wsgi_app(build_gateway(make_config("dbname=unused", *argv))))


def test_echo_round_trip_sets_json_and_content_length(test_plugins):
    client = gateway_client("--implementations.service_overrides=aux: testy")
    response = client.get("/aux/foo/bar/names/peter+anders")
    assert response.status == 200
    assert response.json == {"foo": "bar", "names": ["peter", "anders"], "count": None}
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert int(response.headers["Content-Length"]) == len(response.body)
    assert response.headers["X-Crashgate-Backend"] == "testy"


def test_forced_backend_path_and_query_forms(test_plugins):
    client = gateway_client()
    assert client.get("/crash/uuid/X/").json == {"hits": [], "total": 0}
    assert client.get("/crash/uuid/X/_force_api_impl/testy/").json == ["all", "your", "base"]
    assert client.get("/crash/uuid/X/force_api_impl/testy/").json == ["all", "your", "base"]
    forced = client.get("/crash/?uuid=X&force_api_impl=testy")
    assert forced.json == ["all", "your", "base"] and forced.headers["X-Crashgate-Backend"] == "testy"


def test_unknown_backend_is_400_listing_implementing_backends(test_plugins):
    response = gateway_client().get("/crash/uuid/X/force_api_impl/TYPO/")
    assert response.status == 400
    error = response.json["error"]
    assert error["parameter"] == "force_api_impl" and error["expected"] == ["postgresql", "testy"]
    assert "postgresql, testy" in error["message"]


def test_backend_without_that_service_is_400(test_plugins):
    response = gateway_client().get("/aux/foo/x/force_api_impl/postgresql/")
    assert response.status == 400 and response.json["error"]["expected"] == ["testy"]


def test_errors_are_json_with_status(test_plugins):
    client = gateway_client("--implementations.service_overrides=aux: testy")
    assert client.get("/xxxjunkxxx").status == 404
    not_allowed = client.post("/aux/", {"foo": "x"})
    assert not_allowed.status == 405 and not_allowed.headers["Allow"] == "GET, HEAD"
    bad = client.get("/aux/count/many/")
    assert bad.status == 400 and bad.json["error"]["parameter"] == "count"
    missing = client.get("/crash/")
    assert missing.status == 400 and missing.json["error"] == {
        "message": "Mandatory parameter 'uuid' is missing or empty",
        "type": "missing_argument", "parameter": "uuid"}
    down = client.get("/aux/boom/down/")
    assert down.status == 503 and down.json["error"]["type"] == "backend_unavailable"


def test_a_bug_is_a_json_500_without_traceback(test_plugins, caplog):
    response = gateway_client("--implementations.service_overrides=aux: testy").get("/aux/boom/bug/")
    assert response.status == 500
    assert response.json == {"error": {"message": "Internal server error", "type": "internal_error"}}
    assert b"Traceback" not in response.body and b"NameError" not in response.body
    assert "a bug in an implementation" in caplog.text  # logged for the operator


def test_head_has_headers_and_no_body(test_plugins):
    client = gateway_client()
    response = client.request("HEAD", "/crash/uuid/X/")
    assert response.status == 200 and response.body == b""
    assert int(response.headers["Content-Length"]) == len(client.get("/crash/uuid/X/").body)


@pytest.mark.parametrize("argv, message", [
    (["--implementations.default=nope"], "not an installed backend"),
    (["--implementations.service_overrides=nosuch: testy"], "unknown service"),
    (["--implementations.service_overrides=aux: postgresql"], "does not implement it"),
])
def test_bad_dispatch_configuration_stops_start_up(test_plugins, argv, message):
    with pytest.raises(ConfigurationError, match=message):
        gateway_client(*argv)
