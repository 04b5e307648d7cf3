"""Request logging with timings, Prometheus metrics and the ``/metrics`` endpoint.

:func:`instrument` wraps the gateway's WSGI app. The gateway notes in the WSGI environ which
service matched (``SERVICE_KEY``), which backend answered and how long its implementation call
took (:class:`BackendTimer`), and the type of an error (``ERROR_KEY``); the wrapper times the
whole request and hands the figures to the request log
(:mod:`~crashgate.middleware.requestlog`) and the metrics (:mod:`~crashgate.middleware.metrics`).
A request only queues one tuple of its figures; a background thread of each process (started
by its first request, so after gunicorn forks) hands the queue to both every
``FLUSH_SECONDS``, as do a scrape of ``/metrics`` and the process's exit. ``/metrics`` itself
is neither logged nor counted.
"""
import atexit
import collections
import logging
import os
import threading
import weakref
from time import perf_counter, sleep, time

from prometheus_client import CONTENT_TYPE_LATEST

from crashgate.errors import MethodNotAllowed
from crashgate.middleware.jsonout import to_json_bytes
from crashgate.middleware.metrics import Metrics
from crashgate.middleware.requestlog import RequestLog, sensitive_parameters
from crashgate.middleware.urlparams import raw_path_and_query

SERVICE_KEY = "crashgate.service"
BACKEND_KEY = "crashgate.backend"
BACKEND_SECONDS_KEY = "crashgate.backend_seconds"
ERROR_KEY = "crashgate.error"

METRICS_PATHS = ("/metrics", "/metrics/")
FLUSH_SECONDS = 0.25
# A finished request as queued: a plain tuple of these, cheap to make on the request's path.
FINISHED_FIELDS = ("raw_path", "query", "method", "status", "service", "backend", "seconds",
                   "backend_seconds", "error", "ended")

log = logging.getLogger(__name__)


class BackendTimer:
    """``with BackendTimer(environ, backend):`` around an implementation call notes the
    backend and the call's duration in the WSGI environ, also when the call raises."""

    __slots__ = ("environ", "backend", "started")

    def __init__(self, environ, backend):
        self.environ = environ
        self.backend = backend

    def __enter__(self):
        self.started = perf_counter()
        return self

    def __exit__(self, *exc_info):
        self.environ[BACKEND_KEY] = self.backend
        self.environ[BACKEND_SECONDS_KEY] = perf_counter() - self.started


def instrument(app, gateway, web_options):
    """``app`` (the gateway's WSGI app) with request logging, metrics and ``/metrics``;
    ``web_options``: the ``web_server`` configuration namespace."""
    return ObservedApp(app, Metrics(_pools(gateway.backends)),
                       RequestLog(sensitive_parameters(gateway.services),
                                  web_options.slow_request_ms, web_options.request_log,
                                  web_options.log_requests),
                       fixed_routes=(*gateway.builtin, *gateway.documents))


class ObservedApp:
    """A WSGI app timing, logging and counting every request of the app it wraps.

    ``fixed_routes``: paths answered without a service (their label is the path without
    slashes and underscores; other requests matching no service are ``unmatched``)."""

    def __init__(self, app, metrics, request_lines, fixed_routes=()):
        self.app = app
        self.metrics = metrics
        self.request_lines = request_lines
        self.fixed_routes = {path: path.strip("/_") for path in fixed_routes}
        self._finished = collections.deque()
        self._flush_lock = threading.Lock()
        self._flusher = None
        myself = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _call(myself, "_forked"))
        atexit.register(_call, myself, "flush")

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") in METRICS_PATHS:
            self.flush()
            return serve_metrics(self.metrics, environ, start_response)
        started = perf_counter()
        statuses = []

        def recording_start_response(status, headers, exc_info=None):
            statuses.append(status)
            return start_response(status, headers, exc_info)

        if self._flusher is None:  # two first requests at once may start two: harmless
            self._flusher = _start_flusher(weakref.ref(self))
        self.metrics.begin()
        try:
            return self.app(environ, recording_start_response)
        finally:
            seconds = perf_counter() - started
            try:
                self._finished.append((
                    *raw_path_and_query(environ), environ.get("REQUEST_METHOD", ""),
                    statuses[-1][:3] if statuses else "500",
                    environ.get(SERVICE_KEY) or self._fixed_route(environ),
                    environ.get(BACKEND_KEY, "none"), seconds,
                    environ.get(BACKEND_SECONDS_KEY), environ.get(ERROR_KEY), time()))
            except Exception:  # a bug here must not fail the request it measured
                log.exception("recording the request failed")

    def _fixed_route(self, environ):
        return self.fixed_routes.get(environ.get("PATH_INFO", "").rstrip("/") or "/",
                                     "unmatched")

    def flush(self):
        """Write the lines of the requests finished since the last flush and add them to the
        metrics (also when the log fails). One flush at a time: a scrape of ``/metrics`` waits
        for the flusher thread's, so it counts every request finished before it."""
        with self._flush_lock:
            finished = _drain(self._finished)
            try:
                self.request_lines.write(finished)
            finally:
                self.metrics.flush(finished)

    def _forked(self):
        """In a forked child: nothing queued, no flusher thread yet (nor its lock)."""
        self._finished.clear()
        self._flush_lock = threading.Lock()
        self.metrics.reset()
        self._flusher = None


def _drain(queue):
    """The items of a deque, taken off it (other threads may take or add meanwhile)."""
    taken = []
    try:
        while True:
            taken.append(queue.popleft())
    except IndexError:
        return taken


def _call(reference, method):
    target = reference()
    if target is not None:
        getattr(target, method)()


def _start_flusher(reference):
    """A daemon thread calling ``flush()`` of the referenced object every FLUSH_SECONDS
    until the object is garbage-collected."""

    def run():
        while True:
            sleep(FLUSH_SECONDS)
            target = reference()
            if target is None:
                return
            try:
                target.flush()
            except Exception:  # keep going; the next flush or scrape may succeed
                log.exception("writing the request log or metrics failed")
            del target

    thread = threading.Thread(target=run, name="crashgate-observability", daemon=True)
    thread.start()
    return thread


def serve_metrics(metrics, environ, start_response):
    """The WSGI answer of ``GET /metrics``: the values as last flushed."""
    method = environ.get("REQUEST_METHOD", "").upper()
    if method not in ("GET", "HEAD"):
        error = MethodNotAllowed(method, ["GET", "HEAD"])
        start_response("405 Method Not Allowed",
                       [("Content-Type", "application/json; charset=utf-8"),
                        *error.headers()])
        return [to_json_bytes(error.to_json())]
    body = metrics.exposition()
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST),
                              ("Content-Length", str(len(body))),
                              ("Cache-Control", "no-store")])
    return [b"" if method == "HEAD" else body]


def _pools(backends):
    """{backend name: its connection pool} for the backends with one that reports its state."""
    pools = {name: getattr(backend, "pool", None) for name, backend in backends.items()}
    return {name: pool for name, pool in pools.items() if callable(getattr(pool, "state", None))}
