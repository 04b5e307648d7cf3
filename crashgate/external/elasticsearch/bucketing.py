"""The Elasticsearch bucketing engine: candidate search on the reports index
(crashgate.external.elasticsearch.reports_index); everything else is the engine-independent
PostgreSQL pipeline, so scores and thresholds are those of the PostgreSQL engine.

Candidates of a new report = the top ``bucketing.candidates`` hits of a more-like-this query
on the reports index, filtered to the project, whose like document is an artificial document
made of the report's query terms (its most discriminative terms, grouped by field, as the
pipeline hands them over) or of the report itself when the pipeline passes ``document``,
UNION the project's reports still in the outbox (stored, not yet searchable), ranked in SQL by
the query terms they share. The outbox is read before the search: the indexer refreshes the
index before it deletes a row, so a stored report is always seen by one or the other; two
reports posted back to back bucket together without any refresh per insert.

Entry points: ``elasticsearch.pc_reports``, ``elasticsearch.pc_dry_run`` (Reports) and
``elasticsearch.pc_search`` (Search). An Elasticsearch outage is a JSON 503.
"""
import re

import elasticsearch

from crashgate.bucketing.features import split_term
from crashgate.bucketing.tokenizers import load_tokenizer
from crashgate.errors import BadArgument
from crashgate.external.elasticsearch.backend import translated_errors
from crashgate.external.elasticsearch.reports_index import (HEX, ensure_index, field_name,
                                                            report_fields)
from crashgate.external.postgresql.partycrasher import implementations as pg
from crashgate.external.postgresql.partycrasher import queries
from crashgate.external.postgresql.partycrasher.pipeline import ingest

MAX_RESULT_WINDOW = 10_000  # Elasticsearch's index.max_result_window
_FIELD = re.compile(r"(^|[\s(+\-!])([A-Za-z_][A-Za-z0-9_.]*):(?!:)")
_OUTBOX_SQL = """
    SELECT r.database_id FROM pc_reports_index_outbox o JOIN pc_reports r ON r.id = o.report_id
     WHERE r.project_id = (SELECT id FROM pc_projects WHERE name = %(project)s)
       AND r.term_ids && %(ids)s::int4[]
     ORDER BY icount(r.term_ids & %(ids)s::int4[]) DESC, r.id
     LIMIT %(limit)s"""


def terms_document(query_terms):
    """The artificial like document of query terms: ``{field: [token, ...]}``."""
    fields = {}
    for query_term in query_terms:
        path, token = split_term(query_term.term)
        if not HEX.fullmatch(token):  # not in the index (see reports_index)
            fields.setdefault(field_name(path.split(".")), []).append(token)
    return fields


class CandidateFinder:
    """``find_candidates(cursor, project, query_terms, limit, document=None)`` for the
    pipeline, searching ``index`` with ``client``."""

    def __init__(self, client, index, tokenizer, replicas=0):
        self.client, self.index = client, index
        self.tokenizer, self.replicas = tokenizer, replicas
        self.index_ready = False

    def __call__(self, cursor, project, query_terms, limit, document=None):
        found = self.unindexed(cursor, project, query_terms, limit)
        like = report_fields(document) if document is not None else terms_document(query_terms)
        if like:
            found.extend(self.more_like_this(project, like, len(query_terms), limit))
        return list(dict.fromkeys(found))

    @staticmethod
    def unindexed(cursor, project, query_terms, limit):
        """Reports of ``project`` in the outbox sharing the most query terms."""
        ids = sorted({term.term_id for term in query_terms if term.term_id is not None})
        if not ids:
            return []
        cursor.execute(_OUTBOX_SQL, {"project": project, "ids": ids, "limit": limit})
        return [row[0] for row in cursor.fetchall()]

    def more_like_this(self, project, like, max_query_terms, limit):
        """database_ids of the ``limit`` indexed reports of ``project`` most like ``like``."""
        body = {"size": limit, "_source": False, "track_total_hits": False, "query": {"bool": {
            "filter": [{"term": {"project": project}}],
            "must": [{"more_like_this": {
                "like": [{"_index": self.index, "doc": {"text": like}}],
                "max_query_terms": max(max_query_terms, 1), "min_term_freq": 1,
                "min_doc_freq": 1, "minimum_should_match": 1}}]}}}
        return [hit["_id"] for hit in self.search(body)["hits"]["hits"]]

    def search(self, body):
        """Search the reports index, creating it first if needed (also when it was deleted
        under a running gateway)."""
        with translated_errors():
            if not self.index_ready:
                ensure_index(self.client, self.index, self.tokenizer, self.replicas)
                self.index_ready = True
            try:
                return self.client.search(index=self.index, body=body)
            except elasticsearch.NotFoundError:
                self.index_ready = False
                ensure_index(self.client, self.index, self.tokenizer, self.replicas)
                return self.client.search(index=self.index, body=body)


class _Engine(pg._PartyCrasher):
    """Built with the Elasticsearch backend: its client, its PostgreSQL pool, the config."""

    def __init__(self, backend):  # not super().__init__: that takes a PostgreSQL backend
        self.pool = backend.pg_pool
        self.settings = backend.config.bucketing
        self.tokenize = load_tokenizer(self.settings.tokenizer)
        self.es = backend.client
        self.index = backend.config.elasticsearch.reports_index
        self.finder = CandidateFinder(self.es, self.index, self.settings.tokenizer,
                                      backend.config.elasticsearch.replicas)


class Reports(_Engine):
    """POST /reports (and dry-run) bucketed with the Elasticsearch candidate search;
    DELETE /reports as PostgreSQL's (the outbox then empties the index)."""

    def ingest(self, reports, dry_run=False):
        return ingest(self.pool, self.settings, reports, self.finder, dry_run=dry_run)

    delete_all = pg.Reports.delete_all


class Search(_Engine):
    """GET [/:project]/search: ``q`` is a Lucene query string (AND by default) over the
    report fields, analysed with the configured tokenizer (``stacktrace.function:drawControl``
    is rewritten to the index field ``text.stacktrace__function``); reports dated strictly
    between since and until, newest first (then latest stored), with the exact total; bodies
    read from PostgreSQL. Near real time: a report is found once the indexer has sent it
    (``elasticsearch.indexer_idle_seconds`` after it was stored, when the indexer keeps up)."""

    def search(self, project=None, q=None, since=None, until=None, offset=0, size=10):
        window = {key: value.isoformat() for key, value in (("gt", since), ("lt", until))
                  if value is not None}
        filters = [{"range": {"date": window}}] if window else []
        if project is not None:
            filters.append({"term": {"project": project}})
        must = [{"query_string": {"query": _field_paths(q), "default_operator": "AND"}}] \
            if q and q.strip() else []
        if offset + size > MAX_RESULT_WINDOW:
            raise BadArgument("from", offset, f"from + size at most {MAX_RESULT_WINDOW}")
        body = {"from": offset, "size": size, "_source": False, "track_total_hits": True,
                "query": {"bool": {"filter": filters, "must": must}},
                "sort": [{"date": "desc"}, {"report_id": "desc"}]}
        try:
            found = self.finder.search(body)["hits"]
        except elasticsearch.RequestError as exc:  # 400: q is not a valid query string
            raise BadArgument("q", q, f"a Lucene query string ({exc.error})") from exc
        reports = []
        with self.pool.connection() as conn, conn.cursor() as cursor:
            for hit in found["hits"]:
                report = queries.get_report(cursor, hit["_id"], project)
                if report is not None:  # deleted meanwhile
                    reports.append(report)
        return {"total": found["total"]["value"], "reports": reports}


def _field_paths(q):
    """``q`` with ``field.path:`` prefixes turned into reports index fields."""
    return _FIELD.sub(lambda m: f"{m.group(1)}text.{field_name(m.group(2).split('.'))}:", q)
