"""The Elasticsearch backend: one shared client, index naming, error translation.

Product and version metadata (release channels, build ids) stay in PostgreSQL, the source of
truth, so the backend also keeps a small PostgreSQL pool for those lookups.
"""
import contextlib

import elasticsearch
from elasticsearch import Elasticsearch

from crashgate.errors import BackendTimeout, BackendUnavailable
from crashgate.external.elasticsearch.indices import indices_between
from crashgate.external.postgresql.pool import ConnectionPool


class ElasticsearchBackend:
    name = "elasticsearch"

    def __init__(self, config):
        es = config.elasticsearch
        self.client = Elasticsearch(list(es.urls), timeout=es.timeout_seconds, max_retries=0,
                                    retry_on_timeout=False)
        self.index_prefix = es.index_prefix
        self.index_period = es.index_period
        db = config.database
        self.catalogue = ConnectionPool(
            db.dsn, max_connections=2, wait_seconds=db.pool_wait_seconds,
            statement_timeout_ms=db.statement_timeout_ms,
            connect_timeout_seconds=db.connect_timeout_seconds,
            application_name="crashgate-es-catalogue")

    def indices(self, start, end):
        """Comma-separated crash indices covering [start, end)."""
        return ",".join(indices_between(self.index_prefix, self.index_period, start, end)) \
            or f"{self.index_prefix}none"

    def health(self):
        with translated_errors():
            health = self.client.cluster.health()
        if health["status"] == "red":
            raise BackendUnavailable("Elasticsearch cluster status is red")
        return {"cluster_status": health["status"]}

    def close(self):
        self.client.close()
        self.catalogue.close()


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
    """Base of the Elasticsearch implementations."""

    def __init__(self, backend):
        self.backend = backend
        self.es = backend.client

    def search(self, start, end, body, **kwargs):
        """Search the indices of [start, end); missing indices count as empty."""
        with translated_errors():
            return self.es.search(index=self.backend.indices(start, end), body=body,
                                  ignore_unavailable=True, allow_no_indices=True, **kwargs)
