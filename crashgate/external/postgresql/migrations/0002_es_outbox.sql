-- crashgate schema, version 2: the Elasticsearch outbox.
-- store_crashes adds one row per new crash in the transaction that stores it; the indexer
-- (crashgate.external.elasticsearch.indexer) sends the crashes to Elasticsearch in bulk and
-- deletes their rows once Elasticsearch has acknowledged them. A document Elasticsearch
-- rejects for good (a mapping error) stays with failed_at and error set, out of the queue.

CREATE TABLE es_outbox (
    id             bigserial PRIMARY KEY,
    uuid           text NOT NULL,
    date_processed timestamptz NOT NULL,
    enqueued_at    timestamptz NOT NULL DEFAULT now(),
    failed_at      timestamptz,
    error          text
);
-- The queue proper: what the indexer claims, oldest first.
CREATE INDEX es_outbox_pending ON es_outbox (id) WHERE failed_at IS NULL;
-- A queue table: rows come and go all the time, so vacuum it after every few batches.
ALTER TABLE es_outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);

-- Crashes stored before this version: queue them too, newest first (searchable soonest).
INSERT INTO es_outbox (uuid, date_processed)
SELECT uuid, date_processed FROM crash_ids ORDER BY date_processed DESC, uuid;
