"""The indexer: drains the PostgreSQL outbox (``es_outbox``) into the crash indices.

``drain_once`` claims the oldest pending outbox rows (``FOR UPDATE SKIP LOCKED``, so several
workers or processes share the queue and no crash goes to two of them), reads the crashes with
``BY_KEYS_SQL``, sends them in one bulk request and, in the same transaction, deletes the rows
Elasticsearch acknowledged. A document rejected for good (a 4xx such as a mapping error) is
marked failed with its error and leaves the queue; a temporary rejection (429, 5xx, a write
block) or an unreachable store keeps the rows queued and raises BackendUnavailable, on which
``run_forever`` backs off exponentially. While a large backlog waits, ``run_forever`` turns
refresh and replicas off in the crash indices ("bulk mode"). Documents are indexed under the
crash uuid, so sending one twice (after an indexer died mid-batch) only overwrites it with
itself.
"""
import collections
import concurrent.futures
import contextlib
import contextvars
import dataclasses
import logging
import random
import threading
import time

from elasticsearch import Elasticsearch

from crashgate.errors import BackendTimeout, BackendUnavailable
from crashgate.external.elasticsearch.backend import FastSerializer, translated_errors
from crashgate.external.elasticsearch.document import BY_KEYS_SQL, BY_RANGE_SQL, bulk_lines
from crashgate.external.elasticsearch.indices import (crash_index_patterns, indices_between,
                                                      install_template)
from crashgate.external.postgresql.pool import ConnectionPool

log = logging.getLogger(__name__)

CLAIM_SQL = """
    SELECT id, uuid, date_processed FROM es_outbox WHERE failed_at IS NULL
     ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED"""
DELETE_SQL = "DELETE FROM es_outbox WHERE id = ANY(%(ids)s)"
MARK_FAILED_SQL = """
    UPDATE es_outbox o SET failed_at = now(), error = f.error
      FROM unnest(%(ids)s::bigint[], %(errors)s::text[]) AS f(id, error) WHERE o.id = f.id"""
INSERT_FAILED_SQL = """
    INSERT INTO es_outbox (uuid, date_processed, failed_at, error)
    SELECT *, now() FROM unnest(%(uuids)s::text[], %(dates)s::timestamptz[], %(errors)s::text[])"""
REQUEUE_SQL = "UPDATE es_outbox SET failed_at = NULL, error = NULL WHERE failed_at IS NOT NULL"
COUNT_SQL = "SELECT count(*) FROM es_outbox WHERE failed_at IS {} NULL"
# 4xx statuses that say nothing about the document: blocks, security, a missing index, timeouts.
TRANSIENT_4XX = (403, 404, 408, 429)
BULK_TIMEOUT_SECONDS = 60.0  # at least; a bulk of thousands of documents may outlast a search
OUTAGE = (BackendUnavailable, BackendTimeout)  # a store down or too slow: retried
BACKLOG_CHECK_SECONDS = 2.0
BULK_MODE_SETTINGS = {"refresh_interval": "-1", "number_of_replicas": 0}


class Indexer:
    """Sends crashes from PostgreSQL to Elasticsearch; build it with ``from_config``.

    ``workers`` bulk requests run at once (while one waits for Elasticsearch, another reads
    PostgreSQL and builds documents). Subclasses draining another outbox set the statements.
    """

    count_sql = COUNT_SQL
    requeue_sql = REQUEUE_SQL

    def __init__(self, dsn, urls, *, index_prefix, index_period, shards=1, replicas=0,
                 batch_size=500, idle_seconds=1.0, workers=3, bulk_mode_backlog=20000,
                 timeout_seconds=10.0, frame_words=False,
                 statement_timeout_ms=60000, connect_timeout_seconds=3,
                 first_backoff_seconds=0.5, max_backoff_seconds=30.0):
        self.client = Elasticsearch(list(urls), timeout=max(timeout_seconds,
                                                            BULK_TIMEOUT_SECONDS),
                                    max_retries=0, retry_on_timeout=False,
                                    serializer=_BulkSerializer())
        self.pool = ConnectionPool(dsn, max_connections=workers + 1, wait_seconds=60,
                                   statement_timeout_ms=statement_timeout_ms,
                                   connect_timeout_seconds=connect_timeout_seconds,
                                   application_name="crashgate-indexer")
        self.prefix, self.period = index_prefix, index_period
        self.shards, self.replicas = shards, replicas
        self.frame_words = frame_words  # the frame_functions.text subfield (indices.py)
        self.batch_size, self.idle_seconds, self.workers = batch_size, idle_seconds, workers
        self.bulk_mode_backlog = bulk_mode_backlog
        self.bulk_mode = False  # refresh off, no replicas: see _switch_bulk_mode
        self.first_backoff, self.max_backoff = first_backoff_seconds, max_backoff_seconds
        self.stats = Stats()
        self.failures = 0  # consecutive failed drains: > 0 during an outage
        self._lock = threading.Lock()
        self._template_installed = False

    @classmethod
    def from_config(cls, config, **overrides):
        es, db = config.elasticsearch, config.database
        settings = dict(index_prefix=es.index_prefix, index_period=es.index_period,
                        shards=es.shards, replicas=es.replicas, frame_words=es.frame_words,
                        batch_size=es.indexer_batch_size, idle_seconds=es.indexer_idle_seconds,
                        workers=es.indexer_workers,
                        bulk_mode_backlog=es.indexer_bulk_mode_backlog,
                        timeout_seconds=es.timeout_seconds,
                        connect_timeout_seconds=db.connect_timeout_seconds)
        return cls(db.dsn, es.urls, **{**settings, **overrides})

    # -- the outbox ---------------------------------------------------------------------------
    def drain_once(self):
        """Send one batch from the outbox; return how many rows left the queue (indexed,
        failed for good, or whose crash is no longer stored).

        Raises BackendUnavailable / BackendTimeout when a store is down or Elasticsearch
        deferred some documents: their rows stay queued.
        """
        self._install_template()
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute(CLAIM_SQL, {"limit": self.batch_size})
            claimed = cur.fetchall()  # (id, uuid, date_processed)
            if not claimed:
                return 0
            _, uuids, dates = zip(*claimed)
            outcome = self._send(_fetch(cur, BY_KEYS_SQL, uuids=list(uuids), dates=list(dates)))
            results = [(id_, outcome.get(uuid, _GONE)) for id_, uuid, _ in claimed]
            done = [id_ for id_, result in results if result in (_OK, _GONE)]
            failed = [(id_, r.error) for id_, r in results if _permanent(r)]
            cur.execute(DELETE_SQL, {"ids": done})
            if failed:
                ids, errors = zip(*failed)
                cur.execute(MARK_FAILED_SQL, {"ids": list(ids), "errors": list(errors)})
        self.stats.add(result for _, result in results)
        deferred = len(claimed) - len(done) - len(failed)
        if deferred:
            raise BackendUnavailable(f"Elasticsearch deferred {deferred} documents: "
                                     f"{_first_transient(outcome)}")
        return len(claimed)

    def backlog(self):
        """Rows waiting in the outbox."""
        return self._count(self.count_sql.format(""))

    def failed(self):
        """Outbox rows Elasticsearch rejected for good (see ``requeue_failed``)."""
        return self._count(self.count_sql.format("NOT"))

    def requeue_failed(self):
        """Put every failed row back in the queue (after fixing the cause); return how many."""
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute(self.requeue_sql)
            return cur.rowcount

    def run_forever(self, stop):
        """Drain with ``workers`` threads until ``stop`` (a threading.Event) is set; back off
        while a store is down, logging one warning per outage. The calling thread watches the
        backlog and switches bulk mode (``bulk_mode_backlog``)."""
        drainers = [threading.Thread(target=self._drain_loop, args=(stop,), daemon=True,
                                     name=f"{threading.current_thread().name}-{n}")
                    for n in range(1, self.workers + 1)]
        for thread in drainers:
            thread.start()
        try:
            self._watch_backlog(stop)
        finally:
            for thread in drainers:
                thread.join()
            if self.bulk_mode:
                try:
                    self._switch_bulk_mode(False)
                except Exception as exc:  # the next indexer to start undoes it
                    log.warning("indexer: could not leave bulk mode: %s", exc)

    def _watch_backlog(self, stop):
        """Bulk mode on while the backlog exceeds ``bulk_mode_backlog``, off once it is down to
        what the workers have in hand. First undoes a bulk mode an indexer died in."""
        if self.bulk_mode_backlog <= 0:
            stop.wait()
            return
        self.bulk_mode = self._leftover_bulk_mode()
        while True:
            with contextlib.suppress(Exception):  # an outage: the drainers report it
                pending = self.backlog()
                if not self.bulk_mode and pending >= self.bulk_mode_backlog:
                    self._switch_bulk_mode(True)
                elif self.bulk_mode and pending <= self.batch_size * self.workers:
                    self._switch_bulk_mode(False)
            if stop.wait(BACKLOG_CHECK_SECONDS):
                return

    def _drain_loop(self, stop):
        while not stop.is_set():
            try:
                moved = self.drain_once()
            except Exception as exc:  # an outage (or a bug): the thread must survive it
                stop.wait(self.backoff(self._failed(exc)))
                continue
            self._succeeded()
            if moved < self.batch_size:  # the queue is (nearly) empty
                stop.wait(self.idle_seconds)

    def backoff(self, failures):
        """Seconds to wait after ``failures`` consecutive failures: doubling, capped, jittered
        (so indexers do not all come back at once)."""
        ceiling = min(self.max_backoff, self.first_backoff * 2 ** (failures - 1))
        return ceiling * random.uniform(0.5, 1.0)

    # -- reindexing ---------------------------------------------------------------------------
    def reindex(self, start, end, attempts=8, pause_refresh=False):
        """Send again every crash processed in [start, end), in keyset pages of ``batch_size``
        with ``workers`` bulk requests in flight; return a ReindexSummary. Documents rejected
        for good are recorded as failed outbox rows (``requeue_failed`` sends them again).

        A page that fails is retried with backoff up to ``attempts`` times, then the error is
        raised with a note telling how far the reindex got. ``pause_refresh`` turns refresh
        off in the range's indices meanwhile (faster; new documents show at the end).
        """
        summary = ReindexSummary(start, end)
        in_flight = collections.deque()
        with self._refresh_paused(start, end, pause_refresh), \
                concurrent.futures.ThreadPoolExecutor(self.workers) as senders:
            try:
                for rows in self._pages(start, end, attempts):
                    in_flight.append((rows, senders.submit(self._send_all, rows)))
                    if len(in_flight) >= self.workers:
                        self._settle(*in_flight.popleft(), summary, attempts)
                while in_flight:
                    self._settle(*in_flight.popleft(), summary, attempts)
            except Exception as exc:
                exc.add_note(f"reindex: {summary.sent} crashes sent; every crash processed "
                             f"before {summary.done_before.isoformat()} is done")
                raise
        summary.seconds = time.perf_counter() - summary.started
        return summary

    def _pages(self, start, end, attempts):
        after = (start, "")
        while rows := self._retrying(attempts, self._page, start, end, after):
            yield rows
            after = (rows[-1]["date_processed"], rows[-1]["uuid"])

    def _page(self, start, end, after):
        with self.pool.connection() as conn, conn.cursor() as cur:
            return _fetch(cur, BY_RANGE_SQL, start=start, end=end, after_date=after[0],
                          after_uuid=after[1], limit=self.batch_size)

    def _settle(self, rows, future, summary, attempts):
        """Wait for a page's bulk; retry what Elasticsearch could not take; record the rest."""
        try:
            outcome = future.result()
        except OUTAGE:
            outcome = self._retrying(attempts, self._send_all, rows)
        failed = [(row, outcome[row["uuid"]].error) for row in rows
                  if _permanent(outcome[row["uuid"]])]
        if failed:
            with self.pool.connection() as conn, conn.cursor() as cur:
                cur.execute(INSERT_FAILED_SQL, {"uuids": [r["uuid"] for r, _ in failed],
                                                "dates": [r["date_processed"] for r, _ in failed],
                                                "errors": [e for _, e in failed]})
        summary.sent += len(rows) - len(failed)
        summary.failed += len(failed)
        summary.done_before = rows[-1]["date_processed"]  # pages are settled in order
        self.stats.add(outcome.values())

    def _send_all(self, rows):
        """``_send``, raising BackendUnavailable if Elasticsearch deferred any document."""
        outcome = self._send(rows)
        if deferred := _first_transient(outcome):
            raise BackendUnavailable(f"Elasticsearch deferred documents: {deferred}")
        return outcome

    @contextlib.contextmanager
    def _refresh_paused(self, start, end, pause):
        """Refresh off in the indices of [start, end) (new ones too), back to 1 s after."""
        if not pause:
            yield
            return
        names = indices_between(self.prefix, self.period, start, end)
        self._install_template()
        with _quiet_client_logs(), translated_errors():
            self.client.indices.put_template(name=f"{self.prefix}reindex", body={
                "index_patterns": names, "order": 1, "settings": {"refresh_interval": "-1"}})
            self._set_refresh(names, "-1")
        try:
            yield
        finally:
            with _quiet_client_logs(), translated_errors():
                self.client.indices.delete_template(name=f"{self.prefix}reindex")
                self._set_refresh(names, "1s")

    def _set_refresh(self, names, interval):
        for first in range(0, len(names), 50):  # index names go in the URL: keep it short
            self._put_settings(names[first:first + 50], {"refresh_interval": interval})

    def _put_settings(self, names, settings):
        self.client.indices.put_settings(index=",".join(names), body=settings,
                                         ignore_unavailable=True, allow_no_indices=True)

    # -- bulk mode ----------------------------------------------------------------------------
    def _switch_bulk_mode(self, on):
        """Bulk mode: refresh off and no replicas in every crash index (new ones too, through
        a higher-order template), so Elasticsearch neither refreshes nor copies documents while
        a large backlog drains; off: the template's refresh (1 s) and ``replicas`` again."""
        patterns = crash_index_patterns(self.prefix)
        with _quiet_client_logs(), translated_errors():
            if on:
                self._install_template()
                self.client.indices.put_template(name=f"{self.prefix}bulk", body={
                    "index_patterns": patterns, "order": 1, "settings": BULK_MODE_SETTINGS})
                self._put_settings(patterns, BULK_MODE_SETTINGS)
            else:
                self.client.indices.delete_template(name=f"{self.prefix}bulk", ignore=404)
                self._put_settings(patterns, {"refresh_interval": "1s",
                                              "number_of_replicas": self.replicas})
        self.bulk_mode = on
        log.info("indexer: bulk mode %s", "on (refresh off, no replicas)" if on else "off")

    def _leftover_bulk_mode(self):
        """Whether the bulk mode template of an indexer that stopped without undoing it is
        still installed (then the watcher switches bulk mode off, or keeps it if needed)."""
        with contextlib.suppress(Exception), _quiet_client_logs(), translated_errors():
            return bool(self.client.indices.exists_template(name=f"{self.prefix}bulk"))
        return False

    def _retrying(self, attempts, function, *args):
        for attempt in range(1, attempts + 1):
            try:
                return function(*args)
            except OUTAGE as exc:
                if attempt == attempts:
                    raise
                self._report(exc, attempt)
                time.sleep(self.backoff(attempt))

    # -- Elasticsearch ------------------------------------------------------------------------
    def _send(self, rows):
        """Bulk-index ``rows`` in one request (the documents' JSON as PostgreSQL wrote it);
        return {uuid: _OK or _Rejected}."""
        if not rows:
            return {}
        body = b"".join([bulk_lines(row, self.prefix, self.period) for row in rows])
        with _quiet_client_logs(), translated_errors():
            items = self.client.bulk(body=body, filter_path="items.*._id,items.*.status,"
                                                            "items.*.error")["items"]
        outcome = {}
        for item in items:
            result = item["index"]
            outcome[result["_id"]] = _OK if 200 <= result["status"] < 300 else \
                _Rejected.of(result)
        return outcome

    def _install_template(self):
        """(Re)install the index template before the first bulk and after every outage, in
        case the cluster came back empty."""
        if not self._template_installed:
            with _quiet_client_logs(), translated_errors():
                install_template(self.client, self.prefix, self.shards, self.replicas,
                                 self.frame_words)
            self._template_installed = True

    # -- outages ------------------------------------------------------------------------------
    def _failed(self, exc):
        with self._lock:
            self.failures += 1
            self._report(exc, self.failures)
            return self.failures

    def _succeeded(self):
        if self.failures:
            with self._lock:
                if self.failures:
                    log.info("indexer: resumed after %d failed attempts", self.failures)
                    self.failures = 0

    def _report(self, exc, failures):
        self._template_installed = False
        if failures > 1:
            log.debug("indexer: attempt %d failed: %s", failures, exc)
        elif isinstance(exc, OUTAGE):
            log.warning("indexer: %s; the outbox keeps the crashes, retrying with backoff "
                        "(up to %.0f s)", exc, self.max_backoff)
        else:
            log.exception("indexer: unexpected error; retrying with backoff")

    def _count(self, query):
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute(query)
            return cur.fetchone()[0]

    def close(self):
        self.client.close()
        self.pool.close()


def run_in_thread(indexer):
    """Run ``indexer.run_forever`` in a daemon thread; return a function stopping it (and
    closing the indexer) that waits for the batches in flight."""
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run_forever, args=(stop,), name="es-indexer",
                              daemon=True)
    thread.start()

    def stopper(timeout=BULK_TIMEOUT_SECONDS + 5):
        stop.set()
        thread.join(timeout)
        indexer.close()

    return stopper


class _BulkSerializer(FastSerializer):
    """Passes a ready bulk body (bytes) through as it is."""

    def dumps(self, data):
        return data if isinstance(data, bytes) else super().dumps(data)


def _fetch(cur, query, **params):
    """Rows of ``query`` as dicts."""
    cur.execute(query, params)
    names = [column.name for column in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


@dataclasses.dataclass
class Stats:
    """What the indexer did since it started (documents)."""
    indexed: int = 0
    failed: int = 0  # rejected for good
    deferred: int = 0  # rejected for now, retried
    gone: int = 0  # outbox rows whose crash is no longer in PostgreSQL
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    def add(self, results):
        counts = collections.Counter(
            "indexed" if r is _OK else "gone" if r is _GONE
            else "deferred" if r.transient else "failed" for r in results)
        with self._lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)


@dataclasses.dataclass
class ReindexSummary:
    start: object
    end: object
    sent: int = 0
    failed: int = 0
    seconds: float = 0.0
    done_before: object = None  # every crash processed before this moment was sent
    started: float = dataclasses.field(default_factory=time.perf_counter, repr=False)

    def __post_init__(self):
        self.done_before = self.start

    @property
    def rate(self):
        return self.sent / self.seconds if self.seconds else 0.0


_OK, _GONE = "ok", "gone"


@dataclasses.dataclass(frozen=True)
class _Rejected:
    status: int
    error: str

    @property
    def transient(self):
        return self.status >= 500 or self.status in TRANSIENT_4XX

    @classmethod
    def of(cls, result):
        error = result.get("error")
        if isinstance(error, dict):
            error = f"{error.get('type')}: {error.get('reason')}"
        return cls(int(result.get("status") or 500), str(error))


def _permanent(result):
    return isinstance(result, _Rejected) and not result.transient


def _first_transient(outcome):
    first = next((r for r in outcome.values() if isinstance(r, _Rejected) and r.transient),
                 None)
    return first and f"{first.status} {first.error}"


# The client logs a warning per failed request; the indexer reports outages itself, once.
_QUIET = contextvars.ContextVar("crashgate_indexer_quiet", default=False)


class _DropWhileQuiet(logging.Filter):
    def filter(self, record):
        return record.levelno >= logging.ERROR or not _QUIET.get()


logging.getLogger("elasticsearch").addFilter(_DropWhileQuiet())


@contextlib.contextmanager
def _quiet_client_logs():
    token = _QUIET.set(True)
    try:
        yield
    finally:
        _QUIET.reset(token)
