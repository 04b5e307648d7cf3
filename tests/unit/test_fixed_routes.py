"""Fixed routes (heartbeats, version, API documents) are answered before web.py's routing;
their answers must be exactly those of the same request routed through web.py."""
import pytest

from crashgate.middleware.app import make_wsgi_app
from crashgate.runtime import build_gateway
from tests.conftest import make_config
from tests.wsgiclient import WSGIClient

FIXED = ("/__lbheartbeat__", "/__version__", "/__lbheartbeat__/", "/openapi.json", "/docs")


@pytest.fixture(scope="module")
def clients():
    """(front, routed): the app, and one built from the same gateway with no fixed paths,
    which sends every request through web.py."""
    # The PostgreSQL backend connects lazily: these routes need no database.
    gateway = build_gateway(make_config("dbname=unused"))
    front = WSGIClient(make_wsgi_app(gateway))
    gateway.fixed_paths = frozenset
    return front, WSGIClient(make_wsgi_app(gateway))


def test_every_fixed_route_is_known_to_the_front_path():
    gateway = build_gateway(make_config("dbname=unused"))
    assert set(FIXED) <= gateway.fixed_paths()
    assert "/products/" not in gateway.fixed_paths()


@pytest.mark.parametrize("path", FIXED)
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "OPTIONS", "get"])
@pytest.mark.parametrize("origin", [None, "https://crash-stats.example"])
def test_fixed_route_answers_as_through_webpy(clients, path, method, origin):
    headers = {"Origin": origin} if origin else {}
    front = clients[0].request(method, path, headers=headers)
    routed = clients[1].request(method, path, headers=headers)
    assert (front.status, front.body) == (routed.status, routed.body)
    assert sorted(front.headers.items()) == sorted(routed.headers.items())
    if method.upper() != "HEAD":
        assert int(front.headers["Content-Length"]) == len(front.body) > 0
    if method.upper() in ("POST", "OPTIONS"):
        assert front.status == 405 and front.json["error"]["type"] == "method_not_allowed"
        assert front.headers["Allow"] == "GET, HEAD"
    else:
        assert front.status == 200
    if method.upper() == "HEAD":
        assert front.body == b""
    if origin:
        assert front.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("uri, status", [("/__version__?verbose=1", 200),
                                         ("/%5F%5Fversion__", 404),
                                         ("/__lbheartbeat__/?x=%2F", 200),
                                         ("/%5F%5Flbheartbeat__", 404)])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_other_spellings_of_constant_routes_answer_as_through_webpy(clients, uri, status,
                                                                    method):
    """The constant answers are for the plain path: a query string changes nothing, an
    escaped spelling is no built-in route (the gateway routes the raw path)."""
    front, routed = (client.request(method, uri) for client in clients)
    assert (front.status, front.body, sorted(front.headers.items())) == (
        routed.status, routed.body, sorted(routed.headers.items()))
    assert front.status == status
