"""The WSGI application: route -> parse -> contract -> dispatch -> implementation -> JSON.

web.py is the WSGI layer (one catch-all route into :class:`Gateway`); everything about
crashgate's own behaviour lives in :class:`Gateway`, which knows no SQL and no
Elasticsearch, only services, contracts and the dispatcher.
"""
import logging

import web

from crashgate import exactjson
from crashgate.errors import (BadRequest, CrashgateError, MethodNotAllowed, NotFound,
                              PayloadTooLarge)
from crashgate.middleware import health
from crashgate.middleware.access import AccessControl
from crashgate.middleware.client_url import client_base_url
from crashgate.middleware.dispatch import pop_forced_backend
from crashgate.middleware.jsonout import to_json_bytes
from crashgate.middleware.observability import ERROR_KEY, SERVICE_KEY, BackendTimer
from crashgate.middleware.openapi import docs_page, openapi_document
from crashgate.middleware.routing import RouteTable
from crashgate.middleware.urlparams import (merge_pairs, parse_path_pairs, parse_query,
                                            raw_path_and_query)
from crashgate.services.base import HttpResult, RequestContext

log = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
BACKEND_HEADER = "X-Crashgate-Backend"
STATUS_TEXT = {200: "OK", 201: "Created", 204: "No Content", 302: "Found", 303: "See Other",
               400: "Bad Request",
               401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
               405: "Method Not Allowed", 413: "Payload Too Large", 500: "Internal Server Error",
               503: "Service Unavailable", 504: "Gateway Timeout"}
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
FORM_TYPES = ("", "application/x-www-form-urlencoded")
PREFLIGHT_MAX_AGE = "86400"


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status, body, headers=(), content_type=JSON_TYPE):
        self.status = status
        self.body = body
        self.headers = [("Content-Type", content_type), *headers]


class Gateway:
    """Answers one request given its WSGI environ."""

    def __init__(self, services, dispatcher, backends, max_body_bytes=10 * 1024 * 1024,
                 cors_origins=("*",), access=None):
        self.services = services
        self.routes = RouteTable(services.values())
        self.dispatcher = dispatcher
        self.backends = backends
        self.max_body_bytes = max_body_bytes
        self.cors_origins = frozenset(cors_origins)
        self.access = access or AccessControl()  # none given: open, no tokens
        self.builtin = {
            "/__heartbeat__": lambda: health.heartbeat(self.backends,
                                                       dispatcher.serving_backends()),
            "/__lbheartbeat__": health.lbheartbeat,
            "/__version__": health.version,
        }
        self.constant_builtins = ("/__lbheartbeat__", "/__version__")  # the same answer always
        document = self.access.secure_document(openapi_document(services), services)
        self.documents = {"/openapi.json": (to_json_bytes(document), JSON_TYPE),
                          "/docs": (docs_page(document).encode(), HTML_TYPE)}

    def fixed_paths(self):
        """The request paths answered without a service: built-in routes (with or without
        a trailing slash) and the API documents."""
        return frozenset((*self.builtin, *(path + "/" for path in self.builtin),
                          *self.documents))

    def constant_answers(self):
        """{path: Response} of the fixed routes whose answer to a plain GET never changes."""
        return {path: self._builtin("GET", self.builtin[path])
                for path in self.constant_builtins}

    def __call__(self, environ):
        try:
            response = self._handle(environ)
        except CrashgateError as error:
            environ[ERROR_KEY] = error.type
            response = self._error(error)
        except Exception:  # a bug: log it, never show it
            environ[ERROR_KEY] = "unhandled_exception"
            log.exception("unhandled error for %s %s", environ.get("REQUEST_METHOD"),
                          environ.get("PATH_INFO"))  # never the query: it may hold PII
            response = self._error(CrashgateError("Internal server error"))
        allowed_origin = self._allowed_origin(environ)
        if allowed_origin:
            response.headers += [("Access-Control-Allow-Origin", allowed_origin),
                                 ("Access-Control-Expose-Headers",
                                  f"Location, {BACKEND_HEADER}, WWW-Authenticate")]
            if allowed_origin != "*":
                response.headers.append(("Vary", "Origin"))
        return response

    def _handle(self, environ):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        raw_path, query = raw_path_and_query(environ)
        builtin = self.builtin.get(raw_path.rstrip("/") or "/")
        if builtin is not None:
            return self._builtin(method, builtin)
        if raw_path in self.documents:
            if method not in ("GET", "HEAD"):
                raise MethodNotAllowed(method, ["GET", "HEAD"])
            body, content_type = self.documents[raw_path]
            return Response(200, body, content_type=content_type)
        found = self.routes.match(raw_path)
        if found is None:
            raise NotFound(f"No service at {raw_path}")
        service, captured, tail = found
        environ[SERVICE_KEY] = service.name
        if method == "OPTIONS":
            return self._options(environ, service.methods)
        contract_method = "GET" if method == "HEAD" else method
        contract = service.methods.get(contract_method)
        if contract is None:
            raise MethodNotAllowed(method, _allowed(service.methods))
        grant = self.access.authorize(environ, contract_method)
        body_pairs, body = self._body(environ, method, contract.body is not None)
        params = merge_pairs(captured, parse_path_pairs(tail), parse_query(query), body_pairs)
        if contract.body is not None:
            params[contract.body.name] = body
        forced = pop_forced_backend(params)
        backend, implementation = "none", None
        if service.uses_backend:
            backend, implementation = self.dispatcher.resolve(service.name, forced)
        request = RequestContext(environ, client_base_url)
        self.access.restrict(grant, contract, params)
        params = contract.coerce(params)
        with BackendTimer(environ, backend):
            result = service.call(implementation, contract_method, params, request)
        return self._success(self.access.redact(grant, service, result), backend, request)

    def _options(self, environ, methods):
        """CORS preflight / capability query: 204 with the allowed methods."""
        allowed = ", ".join(_allowed(methods) + ["OPTIONS"])
        headers = [("Allow", allowed)]
        if self._allowed_origin(environ):
            requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
            headers += [("Access-Control-Allow-Methods", allowed),
                        ("Access-Control-Allow-Headers",
                         requested or "Content-Type, Authorization"),
                        ("Access-Control-Max-Age", PREFLIGHT_MAX_AGE)]
        return Response(204, b"", headers)

    def _allowed_origin(self, environ):
        origin = environ.get("HTTP_ORIGIN")
        if not origin or not self.cors_origins:
            return None
        if "*" in self.cors_origins:
            return "*"
        return origin if origin in self.cors_origins else None

    def _builtin(self, method, handler):
        if method not in ("GET", "HEAD"):
            raise MethodNotAllowed(method, ["GET", "HEAD"])
        status, body = handler()
        return Response(status, to_json_bytes(body), [("Cache-Control", "no-store")])

    def _body(self, environ, method, wants_json):
        """(form pairs, parsed JSON body) of the request body; the JSON part is None unless
        the service declares a JSON body, form pairs are [] when it does."""
        if method not in BODY_METHODS:
            return [], None
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise BadRequest("Content-Length is not a number", parameter="Content-Length")
        if length > self.max_body_bytes:
            raise PayloadTooLarge(f"Request body over {self.max_body_bytes} bytes",
                                  parameter="body")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if wants_json:
            return [], _json_body(body, content_type)
        if not body:
            return [], None
        if content_type not in FORM_TYPES:
            raise BadRequest(f"Unsupported request body type {content_type!r}; expected "
                             f"application/x-www-form-urlencoded", parameter="Content-Type")
        try:
            return parse_query(body.decode("utf-8")), None
        except UnicodeDecodeError:
            raise BadRequest("Request body is not UTF-8 text", parameter="body") from None

    @staticmethod
    def _success(result, backend, request):
        headers = [(BACKEND_HEADER, backend)]
        if not isinstance(result, HttpResult):
            return Response(200, to_json_bytes(result), headers)
        if result.location is not None:
            headers.append(("Location", request.url(result.location)))
        headers += result.headers
        body = b"" if result.body is None and result.status != 200 else to_json_bytes(result.body)
        return Response(result.status, body, headers)

    @staticmethod
    def _error(error):
        return Response(error.status, to_json_bytes(error.to_json()), error.headers())


def _json_body(body, content_type):
    if content_type not in ("", "application/json") and not content_type.endswith("+json"):
        raise BadRequest(f"Unsupported request body type {content_type!r}; expected "
                         f"application/json", parameter="Content-Type")
    if not body.strip():
        raise BadRequest("The request body is empty: expected JSON", parameter="body")
    try:
        return exactjson.loads(body)
    except exactjson.JSONDecodeError as error:
        raise BadRequest(f"The request body is not valid JSON: {error}",
                         parameter="body") from None


def _allowed(methods):
    allowed = list(methods)
    if "GET" in allowed:
        allowed.append("HEAD")
    return allowed


def make_wsgi_app(gateway):
    """A WSGI callable serving ``gateway`` through web.py.

    The fixed routes (heartbeats, version, API documents) skip web.py's routing: load
    balancers and monitors poll them all day, and they need none of it; the constant ones
    (load-balancer heartbeat, version) answer a plain GET or HEAD from bytes rendered once.
    Everything else, and any spelling of a fixed route other than its plain path, goes
    through web.py."""

    class Endpoint:
        def _answer(self):
            env = web.ctx.env
            response = gateway(env)
            web.ctx.status = status_line(response.status)
            web.ctx.headers.extend(response_headers(response))
            return b"" if env.get("REQUEST_METHOD") == "HEAD" else response.body

        GET = HEAD = POST = PUT = DELETE = PATCH = OPTIONS = _answer

    application = web.application(("(?s:.*)", "endpoint"), {"endpoint": Endpoint},
                                  autoreload=False)
    application.internalerror = _internal_error
    application.notfound = _internal_error
    webpy_wsgi = application.wsgifunc()
    fixed_paths = gateway.fixed_paths()

    constant = {path: (status_line(response.status), tuple(response_headers(response)),
                       response.body)
                for path, response in gateway.constant_answers().items()}

    def wsgi(environ, start_response):
        method = environ.get("REQUEST_METHOD", "")
        if method != method.upper():  # web.py answers these itself, in text
            environ["REQUEST_METHOD"] = method = method.upper()
        path = environ.get("PATH_INFO")
        if path in fixed_paths:
            answer = constant.get(path)
            if (answer is not None and method in ("GET", "HEAD")
                    and "HTTP_ORIGIN" not in environ  # CORS headers: the gateway adds them
                    and raw_path_and_query(environ)[0] == path):  # not another spelling
                status, headers, body = answer
                start_response(status, list(headers))
                return [b"" if method == "HEAD" else body]
            response = gateway(environ)
            start_response(status_line(response.status), response_headers(response))
            return [b"" if method == "HEAD" else response.body]
        return webpy_wsgi(environ, start_response)

    return wsgi


def status_line(status):
    """``"404 Not Found"`` for 404."""
    return f"{status} {STATUS_TEXT.get(status, '')}".strip()


def response_headers(response):
    """The response's headers with its Content-Length."""
    return [*response.headers, ("Content-Length", str(len(response.body)))]


def _internal_error():
    web.ctx.status = "500 Internal Server Error"
    web.header("Content-Type", JSON_TYPE, unique=True)
    return web.HTTPError("500 Internal Server Error", {"Content-Type": JSON_TYPE},
                         to_json_bytes(CrashgateError("Internal server error").to_json()))
