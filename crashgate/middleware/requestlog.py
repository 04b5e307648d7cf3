"""The request log: one line per request, written by the gateway itself, like an access log.

A request only queues its figures (:class:`~crashgate.middleware.observability.ObservedApp`).
:meth:`RequestLog.write`, called with the finished requests by a background thread a few
times a second and at exit, formats their lines and writes them with a few ``write`` calls to
the destination of ``web_server.request_log``: ``stderr``, ``stdout`` or a file, opened for
each flush so that rotating the log by renaming it works. Each write holds whole lines and at
most ``PIPE_BUF`` bytes, so that the lines of several gunicorn workers sharing one pipe or
file never mix. A line reads like the other log lines in the default ``logging.format``,
stamped with the time its request ended::

    2026-11-23 07:30:01,123 INFO crashgate.requests: GET /products/ 200 service=products ...

The lines bypass Python's ``logging``: a record through it costs ≈17 µs of CPU (formatting,
the handler's lock, a write and a flush per line), and under gunicorn's threads it was the
largest part of the cost of observability (trivial routes at 0.72× the throughput of a bare
WSGI app with it, 0.82–0.94× without, in one run; ``benchmarks/RESULTS.md``).
"""
import logging
import os
import time
from urllib.parse import unquote_plus

# Query parameters whose values are never logged, whatever the service declares.
CREDENTIAL_NAMES = frozenset(("access_token", "token", "api_key", "apikey", "password",
                              "secret"))
MAX_LOGGED_URI = 2000
STANDARD_STREAMS = {"stderr": 2, "stdout": 1}
WRITE_LIMIT = 4096  # PIPE_BUF on Linux: a write to a pipe up to this size is never split
FAILURE_WARNING_SECONDS = 60

log = logging.getLogger(__name__)


class RequestLog:
    """The request lines of finished requests. ``sensitive``: {service: lower-case parameter
    names whose values are not logged}; ``slow_request_ms``: requests taking at least this
    long get a WARNING line (0: none); ``log_requests``: an INFO line for every other
    request; ``destination``: ``stderr``, ``stdout`` or the path of a file to append to."""

    def __init__(self, sensitive=None, slow_request_ms=0, destination="stderr",
                 log_requests=True):
        self.sensitive = sensitive or {}
        self.slow_seconds = slow_request_ms / 1000 if slow_request_ms > 0 else float("inf")
        self.slow_suffix = f" SLOW (over {slow_request_ms} ms)"
        self.log_requests = log_requests
        self.destination = destination
        self._stamp = None, ""  # (second, its local time as text)
        self._lost, self._last_warning = 0, -FAILURE_WARNING_SECONDS

    def write(self, finished):
        """Write the lines of the ``finished`` requests (tuples as
        :data:`~crashgate.middleware.observability.FINISHED_FIELDS` names them) to the
        destination. When it cannot be written (a missing directory, a full disk, a closed
        pipe), the lines are dropped and counted, and a warning on the application log says
        so at most once a minute."""
        lines = self.lines(finished)
        if not lines:
            return
        try:
            self._write(lines)
        except OSError as error:
            self._lost += len(lines)
            now = time.monotonic()
            if now - self._last_warning >= FAILURE_WARNING_SECONDS:
                log.warning("request log %s not writable (%s): %d line(s) lost since the last "
                            "warning", self.destination, error, self._lost)
                self._last_warning, self._lost = now, 0

    def _write(self, lines):
        if self.destination in STANDARD_STREAMS:
            _write_all(STANDARD_STREAMS[self.destination], lines)
            return
        descriptor = os.open(self.destination,
                             os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            _write_all(descriptor, lines)
        finally:
            os.close(descriptor)

    def lines(self, finished):
        """The lines (each ending with a newline) of those ``finished`` requests that are
        logged: every one with ``log_requests``, otherwise only the slow ones."""
        lines, uri, slow_seconds = [], self.loggable_uri, self.slow_seconds
        stamped_second, stamp = self._stamp  # one attribute: flushes may run in two threads
        for (path, query, method, status, service, backend, seconds, backend_seconds, _,
             ended) in finished:
            slow = seconds >= slow_seconds
            if not (slow or self.log_requests):
                continue
            second = int(ended)
            if second != stamped_second:
                stamped_second = second
                stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            lines.append(
                f"{stamp},{int((ended - second) * 1000):03d} "
                f"{'WARNING' if slow else 'INFO'} crashgate.requests: "
                f"{method} {uri(path, query, service)} {status} "
                f"service={service} backend={backend} backend_ms="
                f"{'-' if backend_seconds is None else f'{backend_seconds * 1000:.1f}'} "
                f"total_ms={seconds * 1000:.1f}{self.slow_suffix if slow else ''}\n")
        self._stamp = stamped_second, stamp
        return lines

    def loggable_uri(self, path, query, service):
        """The request's raw path and query, without the values of sensitive parameters."""
        names = self.sensitive.get(service)
        if not names and not query and len(path) <= MAX_LOGGED_URI and path.isprintable():
            return path  # nothing to hide, cut or escape
        if names:
            path = _redact_path_pairs(path, names)
        if query:
            path += "?" + _redact_query(query, names or CREDENTIAL_NAMES)
        if len(path) > MAX_LOGGED_URI:
            path = f"{path[:MAX_LOGGED_URI]}...({len(path)} characters)"
        return path if path.isprintable() else path.encode("unicode_escape").decode("ascii")


def _write_all(descriptor, lines):
    """Write ``lines`` to the file descriptor, in writes of whole lines of at most
    WRITE_LIMIT bytes (a longer line alone)."""
    for chunk in write_chunks(lines):
        while chunk:
            chunk = chunk[os.write(descriptor, chunk):]


def write_chunks(lines, limit=WRITE_LIMIT):
    """The UTF-8 bytes of ``lines``, joined into chunks of whole lines of at most ``limit``
    bytes each (a longer line is a chunk of its own)."""
    chunk, size = [], 0
    for line in lines:
        data = line.encode("utf-8", "backslashreplace")
        if chunk and size + len(data) > limit:
            yield b"".join(chunk)
            chunk, size = [], 0
        chunk.append(data)
        size += len(data)
    if chunk:
        yield b"".join(chunk)


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
