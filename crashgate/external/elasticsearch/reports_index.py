"""The reports index: PartyCrasher reports in Elasticsearch, for the ES bucketing engine's
candidate search (crashgate.external.elasticsearch.bucketing). PostgreSQL stays the truth.

One index (``elasticsearch.reports_index``), one document per report (``_id`` = database_id)
with ``project`` and ``database_id`` (keyword), ``date`` and ``text``: the report's values as
text fields, one per field path, analysed like the configured Python tokenizer
(``bucketing.tokenizer``: camel, lerch or space). ``report_fields`` builds ``text`` the way
crashgate.bucketing.features reads a report: the same excluded keys, the stack (``stacktrace``
or ``frames``) under ``stacktrace`` with recursion collapsed, and the top frames' functions as
``stacktrace__top0..2`` repeated by their weight. Field paths join keys with ``__`` (ES would
turn dots into objects, and a key holding a string in one report and an object in another
would then be rejected); they are cut at MAX_DEPTH keys and a report's paths beyond
MAX_FIELDS go to ``other``, so the mapping stays small. Hexadecimal numbers are left out
(addresses: noise for the candidate search; the exact scores still count them).

Fed by the outbox ``pc_reports_index_outbox`` (migration 0006: a trigger queues each new
report in its storing transaction). ``ReportsIndexer.drain_once`` claims a batch, sends the
documents read from PostgreSQL in one bulk request, refreshes the index once, and only then
deletes the rows (so a report is always either in the outbox or searchable). One drainer at a
time (an advisory lock), retried with backoff by the crash indexer's loop while ES is down.
"""
import logging
import re
import time

import elasticsearch
from elasticsearch import helpers

from crashgate.bucketing.features import (EXCLUDED_ANYWHERE, EXCLUDED_TOP, STACK_FIELDS,
                                          STACK_PATH, TOP_FRAME_WEIGHTS, collapse_recursion)
from crashgate.errors import BackendUnavailable
from crashgate.external.elasticsearch.backend import translated_errors
from crashgate.external.elasticsearch.indexer import (Indexer, _fetch, _quiet_client_logs,
                                                      _Rejected)
from crashgate.external.elasticsearch.indices import KEYWORD, LOWER_CHARS, SETTINGS

log = logging.getLogger(__name__)

MAX_DEPTH = 4
MAX_FIELDS = 64
OTHER_FIELD = "other"
PATH_SEP = "__"
TOTAL_FIELDS_LIMIT = 5000
READY_ATTEMPTS = 20
DRAIN_LOCK = (7_402_114, 1)  # pg_try_advisory_xact_lock: one reports drainer at a time
HEX = re.compile(r"0[xX][0-9a-fA-F]+")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_]+")

# -- the index ------------------------------------------------------------------------------
_TRUNCATE = {"type": "truncate", "length": LOWER_CHARS}  # Lucene's term size limit
ANALYSIS = {  # tokenizer name -> (tokenizers, filters, analyzer), mirroring bucketing.tokenizers
    "camel": ({"camel": SETTINGS["analysis"]["tokenizer"]["camel"]},
              {"term_limit": _TRUNCATE},
              {"type": "custom", "tokenizer": "camel", "filter": ["term_limit"]}),
    "lerch": ({"non_word": {"type": "pattern", "pattern": "\\W+"}},
              {"lerch_length": {"type": "length", "min": 4, "max": 2000}},
              {"type": "custom", "tokenizer": "non_word",
               "filter": ["lowercase", "lerch_length"]}),
    "space": ({}, {"term_limit": _TRUNCATE},
              {"type": "custom", "tokenizer": "whitespace", "filter": ["term_limit"]}),
}


def index_body(tokenizer, replicas=0):
    """Settings and mappings of the reports index for the named Python tokenizer."""
    if tokenizer not in ANALYSIS:
        raise ValueError(f"no Elasticsearch analyzer for tokenizer {tokenizer!r}; "
                         f"supported: {', '.join(sorted(ANALYSIS))}")
    tokenizers, filters, analyzer = ANALYSIS[tokenizer]
    return {
        "settings": {
            "number_of_shards": 1, "number_of_replicas": replicas,  # one shard: one idf
            "index.mapping.total_fields.limit": TOTAL_FIELDS_LIMIT,
            "index.query.default_field": ["text.*"],
            "analysis": {"tokenizer": tokenizers, "filter": filters,
                         "analyzer": {"report_text": analyzer}},
        },
        "mappings": {
            "_meta": {"tokenizer": tokenizer},
            "dynamic": "strict",
            "properties": {
                "report_id": {"type": "long"},  # pc_reports.id: storage order
                "database_id": KEYWORD, "project": KEYWORD,
                "date": {"type": "date", "format": "strict_date_optional_time"},
                "text": {"type": "object", "dynamic": True},
            },
            "dynamic_templates": [{"report_text": {
                "path_match": "text.*", "match_mapping_type": "string",
                "mapping": {"type": "text", "analyzer": "report_text"}}}],
        },
    }


def ensure_index(client, name, tokenizer, replicas=0):
    """Create the reports index if missing and wait until it can be searched; warn when it
    was made for another tokenizer (then delete it and requeue every report:
    ``ReportsIndexer.requeue_all``)."""
    with _quiet_client_logs(), translated_errors():
        if client.indices.exists(index=name):
            meta = client.indices.get_mapping(index=name)[name]["mappings"].get("_meta", {})
            if meta.get("tokenizer") != tokenizer:
                log.warning("reports index %s was made for tokenizer %r, configured: %r",
                            name, meta.get("tokenizer"), tokenizer)
        else:
            created = client.indices.create(index=name, body=index_body(tokenizer, replicas),
                                            ignore=400)  # 400: created meanwhile
            if created.get("acknowledged"):  # out of aliases a matching template adds, such
                client.indices.delete_alias(index=name, name="_all", ignore=404)  # as <prefix>all
        client.cluster.health(index=name, wait_for_status="yellow", timeout="30s")
        for attempt in range(READY_ATTEMPTS):  # green can come before the shard serves
            try:
                client.count(index=name)
                return
            except elasticsearch.TransportError as exc:
                if exc.status_code != 503 or attempt == READY_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))


# -- documents ------------------------------------------------------------------------------
def report_fields(document):
    """``{field: [text, ...]}`` of a report (a dict), the ``text`` of its index document."""
    fields = {}
    for key, value in document.items():
        if key in EXCLUDED_TOP or value is None:
            continue
        if key in STACK_FIELDS and isinstance(value, list):
            _add_stack(fields, collapse_recursion(value))
        else:
            _add(fields, [key], value)
    return fields


def _add(fields, path, value):
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if key not in EXCLUDED_ANYWHERE and item is not None:
                _add(fields, path + [key] if len(path) < MAX_DEPTH else path, item)
    elif kind is list:
        for item in value:
            if item is not None:
                _add(fields, path, item)
    else:
        text = ("true" if value else "false") if kind is bool else HEX.sub(" ", str(value))
        if text.strip():
            name = field_name(path)
            if name not in fields and len(fields) >= MAX_FIELDS:
                name = OTHER_FIELD
            fields.setdefault(name, []).append(text)


def field_name(path):
    """The index field of a field path (a list of keys): keys reduced to ``[A-Za-z0-9_]``,
    joined with ``__``, at most MAX_DEPTH of them."""
    return PATH_SEP.join(_NOT_NAME.sub("_", key) or "_" for key in path[:MAX_DEPTH])


def _add_stack(fields, frames):
    top = []
    for frame in frames:
        _add(fields, [STACK_PATH], frame)
        function = frame.get("function") if isinstance(frame, dict) else None
        if isinstance(function, str) and function not in ("", "??") \
                and len(top) < len(TOP_FRAME_WEIGHTS):
            top.append(function)
    for position, function in enumerate(top):
        fields[f"{STACK_PATH}{PATH_SEP}top{position}"] = [function] * TOP_FRAME_WEIGHTS[position]


def index_document(row):
    """The index document of a report row (id, database_id, project, date, document)."""
    return {"report_id": row["id"], "database_id": row["database_id"], "project": row["project"],
            "date": row["date"].isoformat(), "text": report_fields(row["document"])}


# -- the outbox -----------------------------------------------------------------------------
CLAIM_SQL = """
    SELECT id, report_id FROM pc_reports_index_outbox WHERE failed_at IS NULL
     ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED"""
ROWS_SQL = """
    SELECT r.id, r.database_id, p.name AS project, r.date, r.document
      FROM pc_reports r JOIN pc_projects p ON p.id = r.project_id
     WHERE r.id = ANY(%(ids)s)"""
DELETE_SQL = "DELETE FROM pc_reports_index_outbox WHERE id = ANY(%(ids)s)"
MARK_FAILED_SQL = """
    UPDATE pc_reports_index_outbox o SET failed_at = now(), error = f.error
      FROM unnest(%(ids)s::bigint[], %(errors)s::text[]) AS f(id, error) WHERE o.id = f.id"""
COUNT_SQL = "SELECT count(*) FROM pc_reports_index_outbox WHERE failed_at IS {} NULL"
REQUEUE_FAILED_SQL = """
    UPDATE pc_reports_index_outbox SET failed_at = NULL, error = NULL
     WHERE failed_at IS NOT NULL"""
REQUEUE_ALL_SQL = """
    INSERT INTO pc_reports_index_outbox (report_id)
    SELECT NULL UNION ALL (SELECT id FROM pc_reports ORDER BY id)"""


class ReportsIndexer(Indexer):
    """Drains ``pc_reports_index_outbox`` into the reports index; the crash indexer's loop
    (``run_forever``: backoff, one warning per outage) with one worker."""

    count_sql = COUNT_SQL
    requeue_sql = REQUEUE_FAILED_SQL

    def __init__(self, dsn, urls, *, reports_index, tokenizer, **settings):
        super().__init__(dsn, urls, **{**settings, "workers": 1, "bulk_mode_backlog": 0})
        self.index, self.tokenizer = reports_index, tokenizer

    @classmethod
    def from_config(cls, config, **overrides):
        settings = dict(reports_index=config.elasticsearch.reports_index,
                        tokenizer=config.bucketing.tokenizer)
        return super().from_config(config, **{**settings, **overrides})

    def drain_once(self):
        """Index one batch; return how many rows left the queue (0 also when another drainer
        holds the queue). BackendUnavailable / BackendTimeout: the rows stay queued."""
        self._install_template()
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", DRAIN_LOCK)
            if not cur.fetchone()[0]:
                return 0
            cur.execute(CLAIM_SQL, {"limit": self.batch_size})
            claimed = cur.fetchall()  # (outbox id, report id or None)
            if not claimed:
                return 0
            if any(report_id is None for _, report_id in claimed):
                self._delete_all_documents()
            rows = _fetch(cur, ROWS_SQL, ids=[r for _, r in claimed if r is not None])
            rejected = self._send(rows)
            failed = [(id_, rejected[report_id]) for id_, report_id in claimed
                      if report_id in rejected]
            cur.execute(DELETE_SQL, {"ids": [id_ for id_, report_id in claimed
                                             if report_id not in rejected]})
            if failed:
                cur.execute(MARK_FAILED_SQL, {"ids": [id_ for id_, _ in failed],
                                              "errors": [error for _, error in failed]})
        return len(claimed)

    def _send(self, rows):
        """Bulk-index ``rows`` and refresh; ``{report id: error}`` of the documents rejected
        for good. Raises BackendUnavailable when some were rejected for now."""
        by_id = {row["database_id"]: row["id"] for row in rows}
        actions = [{"_index": self.index, "_id": row["database_id"],
                    "_source": index_document(row)} for row in rows]
        rejected, deferred = {}, None
        with _quiet_client_logs(), translated_errors():
            for ok, item in helpers.streaming_bulk(
                    self.client, actions, chunk_size=max(len(actions), 1),
                    raise_on_error=False, raise_on_exception=True):
                if not ok:
                    result = _Rejected.of(item["index"])
                    if result.transient:
                        deferred = result
                    else:
                        rejected[by_id[item["index"]["_id"]]] = result.error
            self.client.indices.refresh(index=self.index)
        self.stats.indexed += len(rows) - len(rejected)
        self.stats.failed += len(rejected)
        if deferred:
            raise BackendUnavailable(f"Elasticsearch deferred reports: {deferred.status} "
                                     f"{deferred.error}")
        return rejected

    def _delete_all_documents(self):
        with _quiet_client_logs(), translated_errors():
            self.client.delete_by_query(index=self.index, body={"query": {"match_all": {}}},
                                        conflicts="proceed", refresh=True)

    def _install_template(self):
        """Make sure the index exists before a bulk (which would otherwise create it with
        default mappings): once, after an outage, and whenever it was deleted."""
        if self._template_installed:
            with _quiet_client_logs(), translated_errors():
                self._template_installed = self.client.indices.exists(index=self.index)
        if not self._template_installed:
            ensure_index(self.client, self.index, self.tokenizer, self.replicas)
            self._template_installed = True

    def requeue_all(self):
        """Empty the index and queue every stored report again (after a tokenizer change:
        delete the index first, it is recreated with the new analyzer)."""
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute(REQUEUE_ALL_SQL)
            return cur.rowcount - 1
