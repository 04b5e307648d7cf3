"""The WSGI application: route -> parse -> contract -> dispatch -> implementation -> JSON.

web.py is the WSGI layer (one catch-all route into :class:`Gateway`); everything about
crashgate's own behaviour lives in :class:`Gateway`, which knows no SQL and no
Elasticsearch, only services, contracts and the dispatcher.
"""
import logging
import time

import web

from crashgate.errors import (BadRequest, CrashgateError, MethodNotAllowed, NotFound,
                              PayloadTooLarge)
from crashgate.middleware import health
from crashgate.middleware.dispatch import pop_forced_backend
from crashgate.middleware.jsonout import to_json_bytes
from crashgate.middleware.routing import RouteTable
from crashgate.middleware.urlparams import (merge_pairs, parse_path_pairs, parse_query,
                                            raw_path_and_query)
from crashgate.services.base import SeeOther

log = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=utf-8"
BACKEND_HEADER = "X-Crashgate-Backend"
STATUS_TEXT = {200: "OK", 201: "Created", 303: "See Other", 400: "Bad Request",
               401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
               405: "Method Not Allowed", 413: "Payload Too Large", 500: "Internal Server Error",
               503: "Service Unavailable", 504: "Gateway Timeout"}
BODY_METHODS = ("POST", "PUT", "PATCH")


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status, body, headers=()):
        self.status = status
        self.body = body
        self.headers = [("Content-Type", JSON_TYPE), *headers]


class Gateway:
    """Answers one request given its WSGI environ."""

    def __init__(self, services, dispatcher, backends, max_body_bytes=10 * 1024 * 1024):
        self.services = services
        self.routes = RouteTable(services.values())
        self.dispatcher = dispatcher
        self.backends = backends
        self.max_body_bytes = max_body_bytes
        self.builtin = {
            "/__heartbeat__": lambda: health.heartbeat(self.backends,
                                                       dispatcher.serving_backends()),
            "/__lbheartbeat__": health.lbheartbeat,
            "/__version__": health.version,
        }

    def __call__(self, environ):
        try:
            return self._handle(environ)
        except CrashgateError as error:
            return self._error(error)
        except Exception:  # a bug: log it, never show it
            log.exception("unhandled error for %s %s", environ.get("REQUEST_METHOD"),
                          environ.get("RAW_URI") or environ.get("PATH_INFO"))
            return self._error(CrashgateError("Internal server error"))

    def _handle(self, environ):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        raw_path, query = raw_path_and_query(environ)
        builtin = self.builtin.get(raw_path.rstrip("/") or "/")
        if builtin is not None:
            return self._builtin(method, builtin)
        found = self.routes.match(raw_path)
        if found is None:
            raise NotFound(f"No service at {raw_path}")
        service, captured, tail = found
        contract_method = "GET" if method == "HEAD" else method
        contract = service.methods.get(contract_method)
        if contract is None:
            raise MethodNotAllowed(method, _allowed(service.methods))
        params = merge_pairs(captured, parse_path_pairs(tail), parse_query(query),
                             self._body_pairs(environ, method))
        forced = pop_forced_backend(params)
        backend, implementation = self.dispatcher.resolve(service.name, forced)
        result = service.call(implementation, contract_method, contract.coerce(params))
        return self._success(result, backend)

    def _builtin(self, method, handler):
        if method not in ("GET", "HEAD"):
            raise MethodNotAllowed(method, ["GET", "HEAD"])
        status, body = handler()
        return Response(status, to_json_bytes(body), [("Cache-Control", "no-store")])

    def _body_pairs(self, environ, method):
        """Form-encoded body parameters of POST/PUT/PATCH requests."""
        if method not in BODY_METHODS:
            return []
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise BadRequest("Content-Length is not a number", parameter="Content-Length")
        if length > self.max_body_bytes:
            raise PayloadTooLarge(f"Request body over {self.max_body_bytes} bytes")
        if length <= 0:
            return []
        body = environ["wsgi.input"].read(length)
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type not in ("", "application/x-www-form-urlencoded"):
            raise BadRequest(f"Unsupported request body type {content_type!r}; expected "
                             f"application/x-www-form-urlencoded", parameter="Content-Type")
        try:
            return parse_query(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise BadRequest("Request body is not UTF-8 text") from None

    @staticmethod
    def _success(result, backend):
        headers = [(BACKEND_HEADER, backend)]
        if isinstance(result, SeeOther):
            headers.append(("Location", result.location))
            return Response(result.status, to_json_bytes(result.body), headers)
        return Response(200, to_json_bytes(result), headers)

    @staticmethod
    def _error(error):
        return Response(error.status, to_json_bytes(error.to_json()), error.headers())


def _allowed(methods):
    allowed = list(methods)
    if "GET" in allowed:
        allowed.append("HEAD")
    return allowed


def make_wsgi_app(gateway):
    """A WSGI callable serving ``gateway`` through web.py."""

    class Endpoint:
        def _answer(self):
            started = time.perf_counter()
            env = web.ctx.env
            response = gateway(env)
            web.ctx.status = f"{response.status} {STATUS_TEXT.get(response.status, '')}".strip()
            for name, value in response.headers:
                web.header(name, value)
            web.header("Content-Length", str(len(response.body)))
            log.debug("%s %s -> %s in %.1f ms", env.get("REQUEST_METHOD"),
                      env.get("RAW_URI") or env.get("REQUEST_URI"), response.status,
                      (time.perf_counter() - started) * 1000)
            return b"" if env.get("REQUEST_METHOD") == "HEAD" else response.body

        GET = HEAD = POST = PUT = DELETE = PATCH = OPTIONS = _answer

    application = web.application(("(?s:.*)", "endpoint"), {"endpoint": Endpoint},
                                  autoreload=False)
    application.internalerror = _internal_error
    application.notfound = _internal_error
    webpy_wsgi = application.wsgifunc()

    def wsgi(environ, start_response):
        method = environ.get("REQUEST_METHOD", "")
        if method != method.upper():  # web.py answers these itself, in text
            environ["REQUEST_METHOD"] = method.upper()
        return webpy_wsgi(environ, start_response)

    return wsgi


def _internal_error():
    web.ctx.status = "500 Internal Server Error"
    web.header("Content-Type", JSON_TYPE, unique=True)
    return web.HTTPError("500 Internal Server Error", {"Content-Type": JSON_TYPE},
                         to_json_bytes(CrashgateError("Internal server error").to_json()))
