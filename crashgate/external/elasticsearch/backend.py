"""The Elasticsearch backend: one shared client, index naming, error translation.

Product and version metadata (release channels, build ids) stay in PostgreSQL, the source of
truth, so the backend also keeps a small PostgreSQL pool for those lookups.
"""
import contextlib
import datetime

import elasticsearch
import orjson
from elasticsearch import Elasticsearch
from elasticsearch.serializer import JSONSerializer

from crashgate.errors import BackendTimeout, BackendUnavailable
from crashgate.external.elasticsearch.indices import indices_between
from crashgate.external.postgresql.pool import ConnectionPool

OUTBOX_STATUS_SQL = """
    SELECT count(*) FILTER (WHERE failed_at IS NULL),
           extract(epoch FROM now() - min(enqueued_at) FILTER (WHERE failed_at IS NULL)),
           count(*) FILTER (WHERE failed_at IS NOT NULL)
      FROM es_outbox"""
MAX_INDEX_LIST = 3000  # characters; Elasticsearch rejects request lines over 4 KB
MAX_SPAN = datetime.timedelta(days=366)  # wider ranges search every crash index


class ElasticsearchBackend:
    name = "elasticsearch"

    def __init__(self, config):
        self.config = config
        es = config.elasticsearch
        self.client = Elasticsearch(list(es.urls), timeout=es.timeout_seconds, max_retries=0,
                                    retry_on_timeout=False, serializer=FastSerializer())
        self.index_prefix = es.index_prefix
        self.index_period = es.index_period
        db = config.database
        # PostgreSQL (the source of truth) for what Elasticsearch does not hold: the products
        # catalogue of the crash searches and the PartyCrasher reports of the bucketing engine
        self.pg_pool = ConnectionPool.from_config(db, application_name="crashgate-es")

    def indices(self, start, end):
        """The search target for [start, end): the names of its crash indices, comma-separated,
        or every crash index (the ``<prefix>all`` alias; the query's own date range still
        applies) when the range is longer than MAX_SPAN, reaches past the calendar, or its
        names would not fit in a request line."""
        if end - start <= MAX_SPAN:
            try:
                names = ",".join(indices_between(self.index_prefix, self.index_period, start,
                                                 end))
            except OverflowError:  # a period beyond year 9999
                names = None
            if names is not None and len(names) <= MAX_INDEX_LIST:
                return names or f"{self.index_prefix}none"  # none: an empty range
        return self.all_indices

    @property
    def all_indices(self):
        return f"{self.index_prefix}all"

    def health(self):
        """Cluster status and the indexing backlog (``outbox``); a failure's message names
        the backlog too."""
        outbox = self.outbox_status()
        try:
            with translated_errors():
                health = self.client.cluster.health()
            if health["status"] == "red":
                raise BackendUnavailable("Elasticsearch cluster status is red")
        except (BackendUnavailable, BackendTimeout) as exc:
            exc.message = f"{exc.message}; outbox: " + (outbox.get("error") or (
                "{pending} crashes pending (oldest {oldest_seconds} s), {failed} rejected"
                .format(**outbox)))
            raise
        return {"cluster_status": health["status"], "outbox": outbox}

    def outbox_status(self):
        """Crashes waiting to be indexed (``pending``), the age of the oldest in seconds,
        and those Elasticsearch rejected for good (``failed``), from PostgreSQL."""
        try:
            with self.pg_pool.connection() as conn, conn.cursor() as cur:
                cur.execute(OUTBOX_STATUS_SQL)
                pending, oldest, failed = cur.fetchone()
        except (BackendUnavailable, BackendTimeout) as exc:
            return {"error": exc.message}
        return {"pending": pending, "oldest_seconds": None if oldest is None
                else round(float(oldest), 1), "failed": failed}

    def close(self):
        self.client.close()
        self.pg_pool.close()


class FastSerializer(JSONSerializer):
    """orjson instead of json: several times faster on bulk bodies and large responses."""

    def dumps(self, data):
        if isinstance(data, str):
            return data
        return orjson.dumps(data, default=self.default).decode()

    def loads(self, s):
        return orjson.loads(s)


@contextlib.contextmanager
def translated_errors():
    """Elasticsearch client errors -> BackendUnavailable (503) / BackendTimeout (504)."""
    try:
        yield
    except elasticsearch.ConnectionTimeout as exc:
        raise BackendTimeout(f"Elasticsearch did not answer in time: {exc}") from exc
    except elasticsearch.ConnectionError as exc:
        raise BackendUnavailable(f"Elasticsearch is unavailable: {exc}") from exc
    except elasticsearch.TransportError as exc:
        if exc.status_code in (429, 502, 503, 504) or not isinstance(exc.status_code, int):
            raise BackendUnavailable(f"Elasticsearch is unavailable: {exc}") from exc
        raise


class ElasticsearchImplementation:
    """Base of the Elasticsearch implementations: searches over a date range or every crash
    index."""

    def __init__(self, backend):
        self.backend = backend
        self.es = backend.client

    def search(self, start, end, body, **kwargs):
        """Search the indices of [start, end) (``backend.indices``); missing ones are empty."""
        return self._search(self.backend.indices(start, end), body, **kwargs)

    def search_all(self, body, **kwargs):
        """Search every crash index."""
        return self._search(self.backend.all_indices, body, **kwargs)

    def searcher(self, start, end):
        """``body -> response`` over [start, end)."""
        return lambda body: self.search(start, end, body)

    def _search(self, index, body, **kwargs):
        with translated_errors():
            return self.es.search(index=index, body=body, ignore_unavailable=True,
                                  allow_no_indices=True, **kwargs)
