"""Sending fuzz requests through the real WSGI app, in this process or in worker processes.

The worker processes (``spawn``: nothing inherited) each build their own gateway and
connection pool on the seeded database and answer slices of an operation's requests, so
both cores work while one waits for PostgreSQL.
"""
import collections
import io
import multiprocessing
import re
import time
from urllib.parse import unquote_to_bytes

from tests.conftest import make_config
from tests.fuzz.rules import problem_with
from tests.fuzz.urlgen import Operation
from tests.wsgiclient import WSGIClient


def build_client(dsn, *argv):
    """(gateway, WSGI client) of a gateway on ``dsn``."""
    from crashgate.middleware.app import make_wsgi_app
    from crashgate.runtime import build_gateway

    gateway = build_gateway(make_config(dsn, *argv))
    return gateway, WSGIClient(make_wsgi_app(gateway))


def close(gateway):
    for backend in gateway.backends.values():
        backend.close()


def operations(gateway, base, forced=None):
    """{name: Operation} for every (service, method) of the gateway, with its base request
    (``forced``: every request names that backend)."""
    templates = [t for service in gateway.services.values() for t in service.route_templates()]
    found = {}
    for name in sorted(gateway.services):
        service = gateway.services[name]
        for method in sorted(service.methods):
            if (name, method) not in base:
                raise KeyError(f"no base request for {name} {method} in tests/fuzz/dataset.py")
            operation = Operation(service, method, base[(name, method)], templates, forced)
            found[operation.name] = operation
    return found


def run_operation(client, operation, indices, seed, keep=5):
    """Send the requests ``indices``; (status counts, first ``keep`` failures, seconds)."""
    statuses, failures = collections.Counter(), []
    started = time.perf_counter()
    for index in indices:
        request = operation.request(seed, index)
        response = send(client, request)
        statuses[response.status] += 1
        problem = problem_with(operation, request, response)
        if problem is not None:
            statuses["failed"] += 1
            if len(failures) < keep:
                failures.append(f"#{index} {request.method} {request.uri[:240]!r} "
                                f"body={request.body[:120]!r} -> {response.status} "
                                f"{problem}: {response.body[:300]!r}")
    return statuses, failures, time.perf_counter() - started


_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = int(status.split()[0]), dict(headers), body


def send(client, request):
    """``request`` through ``client.app`` as a server would pass it (as tests/wsgiclient.py
    does, with a PATH_INFO decoded fast enough for 100k-character URIs)."""
    path, _, query = request.uri.partition("?")
    environ = {
        "REQUEST_METHOD": request.method, "SCRIPT_NAME": "", "PATH_INFO": _path_info(path),
        "QUERY_STRING": query, "RAW_URI": request.uri, "REQUEST_URI": request.uri,
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(request.body), "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(request.body)) if request.body else "",
    }
    if request.content_type:
        environ["CONTENT_TYPE"] = request.content_type
    captured = []
    chunks = client.app(environ, lambda status, headers, exc_info=None:
                        captured.extend((status, headers)))
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return Response(captured[0], captured[1], body)


def _path_info(path):
    """The percent-decoded path as latin-1 text (PEP 3333), by C codecs when it is long."""
    if len(path) < 2048:
        return unquote_to_bytes(path).decode("latin-1")
    escaped = _LONE_PERCENT.sub("%25", path).encode("utf-8")
    return escaped.replace(b"\\", b"\\\\").replace(b"%", b"\\x").decode("unicode_escape")


class WorkerPool:
    """``workers`` processes, each with its own gateway on ``dsn`` (configured by ``argv``)."""

    def __init__(self, dsn, base, workers=2, argv=(), forced=None):
        self.workers = workers
        context = multiprocessing.get_context("spawn")
        self._pool = context.Pool(workers, initializer=_start_worker,
                                  initargs=(dsn, base, tuple(argv), forced))

    def run(self, name, count, seed, workers=None):
        """run_operation over ``count`` requests split across ``workers`` processes."""
        workers = workers or self.workers
        slices = [(name, range(start, count, workers), seed) for start in range(workers)]
        statuses, failures = collections.Counter(), []
        started = time.perf_counter()
        for part_statuses, part_failures, _ in self._pool.starmap(_run_slice, slices,
                                                                  chunksize=1):
            statuses.update(part_statuses)
            failures.extend(part_failures)
        return statuses, failures, time.perf_counter() - started

    def close(self):
        self._pool.close()
        self._pool.join()


_WORKER = {}


def _start_worker(dsn, base, argv, forced):
    gateway, client = build_client(dsn, *argv)
    _WORKER.update(client=client, operations=operations(gateway, base, forced))


def _run_slice(name, indices, seed):
    return run_operation(_WORKER["client"], _WORKER["operations"][name], indices, seed)
