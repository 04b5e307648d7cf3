"""``crashgate evaluate-bucketing``: the paper's online protocol run on a real engine.

Labelled reports are posted one by one, in time order, through the engine's ``pc_reports``
implementation (the same code path as ``POST /reports``), in a scratch database created for
the run (and, for the Elasticsearch engine, a scratch reports index), both dropped
afterwards. The buckets the engine assigns are compared with the gold labels
(:mod:`crashgate.bucketing.evaluation`).
"""
import contextlib
import copy
import secrets
import time

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import make_dsn

from crashgate.bucketing.evaluation import evaluate
from crashgate.ingest.report_document import parse_reports


def evaluate_engines(config, engines, labelled, every=None, out=None):
    """{engine: (rows, seconds)} for each engine name, on ``labelled`` (report, label)."""
    results = {}
    for engine in engines:
        with scratch_database(config, engine == "elasticsearch") as scratch_config:
            started = time.perf_counter()
            rows = _evaluate_engine(scratch_config, engine, labelled, every)
            results[engine] = (rows, time.perf_counter() - started)
        if out is not None:
            out(engine, *results[engine])
    return results


def _evaluate_engine(config, engine, labelled, every):
    from crashgate.runtime import build_gateway

    gateway = build_gateway(config)
    stop_indexer = _start_reports_indexer(config) if engine == "elasticsearch" else None
    try:
        _, implementation = gateway.dispatcher.resolve("pc_reports", engine)

        def assign(report):
            [result] = implementation.ingest(parse_reports(report), dry_run=False)
            return result.buckets

        return evaluate(labelled, assign, config.bucketing.thresholds, every)
    finally:
        if stop_indexer is not None:
            stop_indexer()
        for backend in gateway.backends.values():
            backend.close()


def _start_reports_indexer(config):
    from crashgate.external.elasticsearch.indexer import run_in_thread
    from crashgate.external.elasticsearch.reports_index import ReportsIndexer

    return run_in_thread(ReportsIndexer.from_config(config))


@contextlib.contextmanager
def scratch_database(config, reports_index=False):
    """A copy of ``config`` pointing at a new, migrated database (and, with
    ``reports_index``, a new Elasticsearch reports index); both are dropped on exit."""
    from crashgate.external.postgresql.schema import setup_database

    name = f"crashgate_eval_{secrets.token_hex(4)}"
    admin = psycopg2.connect(config.database.dsn)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        scratch = copy.deepcopy(config)
        scratch.database.dsn = make_dsn(config.database.dsn, dbname=name)
        if reports_index:
            scratch.elasticsearch.reports_index = name.replace("_", "-")
        setup_database(scratch.database.dsn)
        try:
            yield scratch
        finally:
            if reports_index:
                _drop_reports_index(scratch)
            with admin.cursor() as cur:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                            .format(sql.Identifier(name)))
    finally:
        admin.close()


def _drop_reports_index(config):
    from elasticsearch import Elasticsearch

    client = Elasticsearch(list(config.elasticsearch.urls), timeout=10, max_retries=0)
    with contextlib.suppress(Exception):  # a node that is down has no index to drop
        client.indices.delete(index=config.elasticsearch.reports_index,
                              ignore_unavailable=True)
    client.close()


def best_row(rows):
    """The final row (all reports) with the highest BCubed F1."""
    final_n = max(row["n"] for row in rows)
    return max((row for row in rows if row["n"] == final_n), key=lambda row: row["bcubed_f1"])
