"""The gateway's Prometheus metrics, cheap to update once per request.

A request takes no lock: it only appends to a queue when it begins (:meth:`Metrics.begin`)
and to the observed app's queue of finished requests when it ends; four threads calling the
app in one process spent 90–99 µs of CPU a request with a lock taken twice per request,
13–16 µs without. :meth:`Metrics.flush`, called with the finished requests by a background
thread of each process a few times a second and by every scrape, tallies them and adds the
tallies to the Prometheus values. Under gunicorn, with
``PROMETHEUS_MULTIPROC_DIR`` set, those values live in per-process files that
:meth:`Metrics.exposition` sums over every worker.
"""
import collections
import os
import threading
from bisect import bisect_left

from prometheus_client import (CollectorRegistry, Counter, Gauge, Histogram,
                               disable_created_metrics, generate_latest)
from prometheus_client.multiprocess import MultiProcessCollector

disable_created_metrics()  # no *_created series (multiprocess mode has none either)

# Request methods counted by name; others are counted as "other".
KNOWN_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"))
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0)
_BOUNDS = LATENCY_BUCKETS + (float("inf"),)


class Tally:
    """Observations of one histogram child not yet added to it."""

    __slots__ = ("sum", "buckets")

    def __init__(self):
        self.sum = 0.0
        self.buckets = [0] * len(_BOUNDS)

    def add(self, seconds):
        self.sum += seconds
        self.buckets[bisect_left(_BOUNDS, seconds)] += 1

    def add_to(self, histogram_child):
        """Add the observations to a prometheus_client histogram child (its per-bucket
        values, as ``observe`` does one at a time)."""
        for value, count in zip(histogram_child._buckets, self.buckets):
            if count:
                value.inc(count)
        histogram_child._sum.inc(self.sum)


class Metrics:
    """Requests by service, method, status and backend; whole-request and backend latency
    histograms; errors by type; requests in flight; connection pool states."""

    def __init__(self, pools=None):
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "crashgate_requests", "Requests answered, by service, method, status and backend",
            ["service", "method", "status", "backend"], registry=registry)
        self.latency = Histogram(
            "crashgate_request_duration_seconds", "Whole-request time in the gateway",
            ["service"], buckets=LATENCY_BUCKETS, registry=registry)
        self.backend_latency = Histogram(
            "crashgate_backend_duration_seconds",
            "Time of the implementation call (the backend's part of a request)",
            ["service", "backend"], buckets=LATENCY_BUCKETS, registry=registry)
        self.errors = Counter("crashgate_errors", "Error answers by error type", ["type"],
                              registry=registry)
        self.in_flight = Gauge("crashgate_requests_in_flight",
                               "Requests being answered (sampled every flush)",
                               multiprocess_mode="livesum", registry=registry)
        self.pool = Gauge(
            "crashgate_db_pool", "Connection pools summed over processes: max connections, "
            "in_use, idle (open, unused), waiting (requests queued for a connection)",
            ["backend", "state"], multiprocess_mode="livesum", registry=registry)
        self.pools = pools or {}
        self.reset()

    def reset(self):
        """Nothing pending, nothing in flight (also in a forked child)."""
        self._lock = threading.Lock()  # one flush at a time
        self._begun = collections.deque()
        self._active = 0

    def begin(self):
        """A request starts."""
        self._begun.append(None)  # deque appends are atomic: no lock on the request's path

    @staticmethod
    def _tally(finished):
        """{label key: [count, Tally of whole-request time, Tally of backend time]} of the
        ``finished`` requests."""
        pending = {}
        for (_, _, method, status, service, backend, seconds, backend_seconds, error,
             _) in finished:
            key = (service, method if method in KNOWN_METHODS else "other", status, backend,
                   error)
            tallies = pending.get(key)
            if tallies is None:
                tallies = pending[key] = [0, Tally(), Tally()]
            tallies[0] += 1
            tallies[1].add(seconds)
            if backend_seconds is not None:
                tallies[2].add(backend_seconds)
        return pending

    def flush(self, finished=()):
        """Add the ``finished`` requests (tuples as
        :data:`~crashgate.middleware.observability.FINISHED_FIELDS` names them, taken off
        the queue before the requests begun since are counted) to the Prometheus values;
        sample the gauges."""
        pending = self._tally(finished)
        with self._lock:
            begun = self._begun
            started = len(begun)
            for _ in range(started):
                begun.popleft()
            self._active += started - len(finished)
            active = self._active
        for (service, method, status, backend, error), (count, whole, part) in pending.items():
            self.requests.labels(service, method, status, backend).inc(count)
            if error is not None:
                self.errors.labels(error).inc(count)
            whole.add_to(self.latency.labels(service))
            if any(part.buckets):
                part.add_to(self.backend_latency.labels(service, backend))
        self.in_flight.set(active)
        for name, pool in self.pools.items():
            for state, value in pool.state().items():
                self.pool.labels(name, state).set(value)

    def exposition(self):
        """The metrics in Prometheus text format (every process's under gunicorn), as last
        flushed."""
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)

