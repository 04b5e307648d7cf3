"""The client-facing base URL used for href and Location (Forwarded, X-Forwarded-*, Host)."""
import pytest

from crashgate.middleware.client_url import client_base_url


def environ(**headers):
    env = {"wsgi.url_scheme": "http", "SERVER_NAME": "10.0.0.5", "SERVER_PORT": "8883",
           "SCRIPT_NAME": ""}
    env.update({"HTTP_" + name.upper(): value for name, value in headers.items()})
    return env


def test_host_header_and_wsgi_scheme():
    assert client_base_url(environ(host="localhost:5000")) == "http://localhost:5000"


def test_server_name_and_port_without_host_header():
    assert client_base_url(environ()) == "http://10.0.0.5:8883"
    env = dict(environ(), SERVER_PORT="443", **{"wsgi.url_scheme": "https"})
    assert client_base_url(env) == "https://10.0.0.5"


def test_older_proxy_headers():
    env = environ(host="internal:8883", x_forwarded_host="example.org",
                  x_forwarded_proto="https")
    assert client_base_url(env) == "https://example.org"
    env = environ(host="internal", x_forwarded_host="example.org",
                  x_forwarded_protocol="https")
    assert client_base_url(env) == "https://example.org"


def test_forwarded_header_first_element_wins_over_x_forwarded():
    env = environ(host="internal",
                  forwarded="for = 127.0.0;host = example.org;proto = https, "
                            "for=198.51.100.17;host=other.example;proto=http",
                  x_forwarded_host="ignored.example", x_forwarded_proto="http")
    assert client_base_url(env) == "https://example.org"


def test_forwarded_quoted_values_and_port():
    env = environ(host="internal", forwarded='for="[2001:db8::1]:4711";host="example.org:8443";'
                                               'proto=HTTPS')
    assert client_base_url(env) == "https://example.org:8443"


def test_forwarded_without_proto_keeps_the_connection_scheme():
    assert client_base_url(environ(host="internal", forwarded="host=example.org")) == \
        "http://example.org"


@pytest.mark.parametrize("bad_host", ["evil.example/path", "a b", "x\r\nSet-Cookie: y"])
def test_malformed_forwarded_hosts_are_ignored(bad_host):
    env = environ(host="localhost", x_forwarded_host=bad_host, x_forwarded_proto="https")
    assert client_base_url(env) == "https://localhost"


def test_script_name_prefix_is_kept():
    env = dict(environ(host="example.org"), SCRIPT_NAME="/crashgate/")
    assert client_base_url(env) == "http://example.org/crashgate"
