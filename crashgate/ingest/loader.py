"""``crashgate load``: load products files (``.json``) and crash files (``.jsonl[.gz]``).

Products files are loaded first, so the versions exist; then crashes in batches, one
transaction per batch. A malformed crash line is reported as ``FILE:LINE: message`` and
skipped, or, with ``strict``, everything before it is stored and a LoadError is raised.
"""
import dataclasses
import gzip
import json
import os
import queue
import sys
import threading
import time

import psycopg2
import psycopg2.errors

from crashgate import exactjson
from crashgate.errors import CrashgateError
from crashgate.external.postgresql.partitions import ensure_partitions
from crashgate.ingest.crash_document import InvalidCrash, normalize_crash
from crashgate.ingest.products_document import InvalidProducts
from crashgate.ingest.store import load_products, store_crashes

CRASH_SUFFIXES = (".jsonl", ".jsonl.gz")
PRODUCTS_SUFFIX = ".json"
RETRIES = 3  # attempts per batch when PostgreSQL aborts it to break a deadlock
# UTC session; room for the staging table in memory (temp_buffers can only be set at start).
CONNECTION_OPTIONS = "-c TimeZone=UTC -c temp_buffers=64MB"


class LoadError(CrashgateError):
    """A file cannot be loaded: unknown kind, unreadable, or malformed (in strict mode)."""

    status = 400
    type = "load_error"

    def __init__(self, path, message, line=None):
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}", path=str(path), line=line)


@dataclasses.dataclass
class LoadSummary:
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    files: int = 0
    seconds: float = 0.0

    @property
    def rate(self):
        """Crashes stored or found already stored, per second."""
        return (self.loaded + self.duplicates) / self.seconds if self.seconds else 0.0

    def __str__(self):
        return (f"loaded {self.loaded} crashes ({self.duplicates} duplicates, "
                f"{self.rejected} rejected) from {self.files} files in {self.seconds:.1f} s: "
                f"{self.rate:.0f} crashes/s")


def load_files(dsn, paths, strict=False, batch_size=5000, out=sys.stderr):
    """Load ``paths`` into the database at ``dsn``; print and return a LoadSummary."""
    started = time.monotonic()
    products_files, crash_files = _sort_by_kind(paths)
    summary = LoadSummary(files=len(products_files) + len(crash_files))
    progress = _Progress(out, sum(os.path.getsize(p) for p in crash_files), started)
    conn = psycopg2.connect(dsn, options=CONNECTION_OPTIONS)
    try:
        for path in products_files:
            _load_products_file(conn, path)
        with _BatchWriter(conn, summary) as writer:
            _read_into(writer, crash_files, strict, batch_size, summary, progress, out)
    finally:
        conn.close()
        progress.clear()
    summary.seconds = time.monotonic() - started
    print(summary, file=out, flush=True)
    return summary


def _read_into(writer, crash_files, strict, batch_size, summary, progress, out):
    """Read every crash file, handing full batches to ``writer``; report malformed lines."""
    batch = []
    for path in crash_files:
        for line_no, crash, error in _read_crashes(path, progress):
            if error is None:
                batch.append(crash)
                if len(batch) >= batch_size:
                    writer.put(batch)
                    batch = []
                    progress.show(summary.loaded + summary.duplicates)
            elif strict:
                writer.put(batch)
                writer.close()
                raise LoadError(path, error, line_no)
            else:
                summary.rejected += 1
                progress.clear()
                print(f"{path}:{line_no}: {error}", file=out, flush=True)
    writer.put(batch)


def _sort_by_kind(paths):
    """``(products files, crash files)``; raise LoadError for a missing or unknown file."""
    products_files, crash_files = [], []
    for path in map(str, paths):
        if not os.path.isfile(path):
            raise LoadError(path, "no such file")
        if path.endswith(CRASH_SUFFIXES):
            crash_files.append(path)
        elif path.endswith(PRODUCTS_SUFFIX):
            products_files.append(path)
        else:
            raise LoadError(path, "unknown file kind: expected .json (products) or "
                                  ".jsonl / .jsonl.gz (crashes)")
    return products_files, crash_files


def _load_products_file(conn, path):
    """Load one products file in its own transaction; any error is a LoadError."""
    try:
        with open(path, "rb") as file:
            doc = json.load(file)
        with conn, conn.cursor() as cursor:
            load_products(cursor, doc)
    except ValueError as exc:  # bad JSON or UTF-8
        raise LoadError(path, f"invalid JSON: {exc}") from None
    except InvalidProducts as exc:
        raise LoadError(path, exc.message) from None


def _read_crashes(path, progress):
    """Yield ``(line number, normalised crash, None)`` or ``(line number, None, error)``."""
    with open(path, "rb") as raw:
        stream = gzip.GzipFile(fileobj=raw) if path.endswith(".gz") else raw
        progress.start_file(raw)
        line_no = 0
        try:
            for line_no, line in enumerate(stream, 1):
                if line.isspace():
                    continue
                try:
                    yield line_no, normalize_crash(exactjson.loads(line)), None
                except exactjson.JSONDecodeError as exc:
                    yield line_no, None, f"invalid JSON: {exc}"
                except (ValueError, RecursionError) as exc:  # bad UTF-8, nested too deep
                    yield line_no, None, f"invalid JSON: {exc}"
                except InvalidCrash as exc:
                    yield line_no, None, exc.message
        except (OSError, EOFError) as exc:  # corrupt or truncated gzip
            yield line_no + 1, None, f"unreadable: {exc}"
        finally:
            progress.end_file()


class _BatchWriter:
    """Stores batches from a background thread, so reading the next batch overlaps the writing.

    Each batch is one transaction (retried if PostgreSQL aborts it to break a deadlock); its
    partitions are created first in a transaction of their own, so DDL locks stay short.
    ``close`` waits for the last batch and raises the first error the thread met.
    """

    def __init__(self, conn, summary):
        self.conn, self.summary = conn, summary
        self.queue = queue.Queue(maxsize=1)
        self.error = None
        self.thread = threading.Thread(target=self._run, name="crash-writer", daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def put(self, batch):
        if self.error is not None:
            self.close()
        if batch:
            self.queue.put(batch)

    def close(self):
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def _run(self):
        while (batch := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self._store(batch)
                except BaseException as exc:  # handed to the reading thread
                    self.error = exc

    def _store(self, batch):
        for attempt in range(1, RETRIES + 1):
            try:
                with self.conn, self.conn.cursor() as cursor:
                    ensure_partitions(cursor, {crash["date_processed"] for crash in batch})
                with self.conn, self.conn.cursor() as cursor:
                    result = store_crashes(cursor, batch)
                break
            except psycopg2.errors.DeadlockDetected:
                if attempt == RETRIES:
                    raise
        self.summary.loaded += len(result.new_uuids)
        self.summary.duplicates += result.duplicates


class _Progress:
    """A progress line redrawn in place on a terminal; silent otherwise."""

    def __init__(self, out, total_bytes, started):
        self.out, self.total_bytes, self.started = out, total_bytes, started
        self.enabled = out.isatty()
        self.done_bytes = 0
        self.file = None
        self.shown = False

    def start_file(self, raw):
        self.file = raw

    def end_file(self):
        self.done_bytes += os.fstat(self.file.fileno()).st_size
        self.file = None

    def show(self, crashes):
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        read = self.done_bytes + (self.file.tell() if self.file else 0)
        percent = f", {100 * read / self.total_bytes:.0f}% read" if self.total_bytes else ""
        rate = crashes / elapsed if elapsed else 0.0
        self.out.write(f"\r{crashes} crashes, {rate:.0f} crashes/s{percent}\x1b[K")
        self.out.flush()
        self.shown = True

    def clear(self):
        if self.shown:
            self.out.write("\r\x1b[K")
            self.out.flush()
            self.shown = False
