"""The PostgreSQL implementations of the PartyCrasher services (built as ``Cls(backend)``).

Entry points (group ``crashgate.implementations``): ``postgresql.pc_reports`` and
``postgresql.pc_dry_run`` (Reports), ``postgresql.pc_report``, ``postgresql.pc_report_summary``
and ``postgresql.pc_report_compare`` (Report), ``postgresql.pc_buckets`` (TopBuckets),
``postgresql.pc_bucket`` (Bucket), ``postgresql.pc_search`` (Search).
"""
from crashgate.bucketing.thresholds import parse_threshold
from crashgate.bucketing.tokenizers import load_tokenizer
from crashgate.errors import Forbidden
from crashgate.external.postgresql.backend import PostgreSQLImplementation
from crashgate.external.postgresql.partycrasher import queries
from crashgate.external.postgresql.partycrasher.candidates import find_candidates
from crashgate.external.postgresql.partycrasher.pipeline import ingest


class _PartyCrasher(PostgreSQLImplementation):
    def __init__(self, backend):
        super().__init__(backend)
        self.settings = backend.config.bucketing
        self.tokenize = load_tokenizer(self.settings.tokenizer)

    def _read(self, function, *args):
        with self.pool.connection() as conn, conn.cursor() as cursor:
            return function(cursor, *args)


class Reports(_PartyCrasher):
    """POST /reports (and dry-run), DELETE /reports."""

    def ingest(self, reports, dry_run=False):
        """A list of pipeline.IngestResult, in the order of ``reports``."""
        return ingest(self.pool, self.settings, reports, find_candidates, dry_run=dry_run)

    def delete_all(self):
        """The number of reports deleted; Forbidden (403) unless
        ``bucketing.allow_delete_all``."""
        if not self.settings.allow_delete_all:
            raise Forbidden("Deleting all reports is not enabled "
                                     "(bucketing.allow_delete_all)")
        return self._read(queries.delete_all)


class Report(_PartyCrasher):
    """GET /:project/reports/:id, its summary, and compare."""

    def get(self, database_id, project=None):
        return self._read(queries.get_report, database_id, project)

    def summary(self, database_id, project=None):
        return self._read(queries.summary, self.tokenize, database_id, project)

    def compare(self, database_id, other_id, project=None):
        return self._read(queries.compare, self.tokenize, database_id, other_id, project)


class TopBuckets(_PartyCrasher):
    """GET [/:project]/buckets/:threshold."""

    def top(self, threshold, project=None, since=None, until=None, offset=0, size=10, q=None):
        return self._read(queries.top_buckets, self.tokenize, parse_threshold(threshold),
                          project, since, until, offset, size, q)


class Bucket(_PartyCrasher):
    """GET [/:project]/buckets/:threshold/:bucket_id."""

    def get(self, threshold, bucket_id, project=None, offset=0, size=10):
        return self._read(queries.bucket_page, parse_threshold(threshold), bucket_id, project,
                          offset, size)


class Search(_PartyCrasher):
    """GET /:project/search."""

    def search(self, project=None, q=None, since=None, until=None, offset=0, size=10):
        return self._read(queries.search, self.tokenize, project, q, since, until, offset,
                          size)
