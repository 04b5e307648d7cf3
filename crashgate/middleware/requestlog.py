"""The request log: one line per request on the logger ``crashgate.requests``.

A request only queues its figures and environ (:meth:`RequestLog.add`); :meth:`flush`, called
by a background thread a few times a second, turns them into log records: Python's logging
costs half as much CPU in a batch as amid a request's other work (where its code is cold),
and nothing on the request's own time. Each record carries the time its request ended.
"""
import collections
import logging
from urllib.parse import unquote_plus

from crashgate.middleware.urlparams import raw_path_and_query

LINE = "%s %s %s service=%s backend=%s backend_ms=%s total_ms=%.1f%s"
# Query parameters whose values are never logged, whatever the service declares.
CREDENTIAL_NAMES = frozenset(("access_token", "token", "api_key", "apikey", "password",
                              "secret"))
MAX_LOGGED_URI = 2000

request_log = logging.getLogger("crashgate.requests")


class RequestLog:
    """Queued request lines. ``sensitive``: {service: lower-case parameter names whose
    values are not logged}; ``slow_request_ms``: the threshold named in slow lines."""

    def __init__(self, sensitive=None, slow_request_ms=0):
        self.sensitive = sensitive or {}
        self.slow_suffix = f" SLOW (over {slow_request_ms} ms)"
        self._queue = collections.deque()

    def add(self, *line):
        """Queue the line of a request: ``(environ, slow, method, status, service, backend,
        seconds, backend seconds or None, time.time() at its end)``."""
        self._queue.append(line)

    def flush(self):
        """Write the queued lines to the logger."""
        queue = self._queue
        if not queue:
            return
        templates = {}
        while queue:
            (environ, slow, method, status, service, backend, seconds, backend_seconds,
             ended) = queue.popleft()
            args = (method, self.loggable_uri(environ, service), status, service, backend,
                    "-" if backend_seconds is None else f"{backend_seconds * 1000:.1f}",
                    seconds * 1000, self.slow_suffix if slow else "")
            level = logging.WARNING if slow else logging.INFO
            if level not in templates:
                templates[level] = request_log.makeRecord(request_log.name, level, __file__, 0,
                                                          LINE, (), None)
            request_log.handle(_copy_record(templates[level], args, ended))

    def clear(self):
        self._queue.clear()

    def loggable_uri(self, environ, service):
        """The request's path and query, without the values of sensitive parameters."""
        path, query = raw_path_and_query(environ)
        names = self.sensitive.get(service)
        if names:
            path = _redact_path_pairs(path, names)
        if query:
            path += "?" + _redact_query(query, names or CREDENTIAL_NAMES)
        if len(path) > MAX_LOGGED_URI:
            path = f"{path[:MAX_LOGGED_URI]}...({len(path)} characters)"
        return path if path.isprintable() else path.encode("unicode_escape").decode("ascii")


def _copy_record(template, args, created):
    """A copy of the log record ``template`` with other arguments and creation time: a
    fraction of the cost of building each record afresh."""
    record = type(template).__new__(type(template))
    record.__dict__.update(template.__dict__)
    record.args, record.created = args, created
    record.msecs = int((created - int(created)) * 1000) + 0.0
    record.relativeCreated = (created - logging._startTime) * 1000
    return record


def sensitive_parameters(services):
    """{service name: lower-case names and aliases of its sensitive parameters, and the
    credential names} for the services that declare sensitive parameters."""
    found = {}
    for name, service in services.items():
        names = {alias.lower() for contract in service.methods.values()
                 for param in contract.params if param.sensitive for alias in param.names}
        if names:
            found[name] = frozenset(names | CREDENTIAL_NAMES)
    return found


def _redact_query(query, names):
    pieces = []
    for piece in query.split("&"):
        name, equals, _ = piece.partition("=")
        hidden = equals and unquote_plus(name).lower() in names
        pieces.append(f"{name}=***" if hidden else piece)
    return "&".join(pieces)


def _redact_path_pairs(path, names):
    segments = path.split("/")
    for index in range(len(segments) - 1):
        if unquote_plus(segments[index]).lower() in names:
            segments[index + 1] = "***"
    return "/".join(segments)
