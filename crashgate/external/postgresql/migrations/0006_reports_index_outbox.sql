-- crashgate schema, version 6: the outbox feeding the Elasticsearch reports index (the
-- Elasticsearch bucketing engine, crashgate/external/elasticsearch/reports_index.py).
--
-- A trigger adds one row per new PartyCrasher report in the transaction storing it, so the
-- index can never miss a stored report; the reports indexer sends them to Elasticsearch,
-- refreshes the index and only then deletes their rows. Until then the Elasticsearch
-- candidate finder reads the project's rows here (stored but not yet searchable).
-- Deleting every report (TRUNCATE pc_reports) empties the queue and leaves one row with
-- report_id NULL: the indexer then deletes every document of the index first.
-- A document Elasticsearch rejects for good stays with failed_at and error set, out of the
-- queue.

CREATE TABLE pc_reports_index_outbox (
    id          bigserial PRIMARY KEY,
    report_id   integer,  -- pc_reports.id; NULL: delete every document (no FK: truncation)
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    failed_at   timestamptz,
    error       text
);
CREATE INDEX pc_reports_index_outbox_pending ON pc_reports_index_outbox (id)
    WHERE failed_at IS NULL;
ALTER TABLE pc_reports_index_outbox SET (autovacuum_vacuum_scale_factor = 0,
                                         autovacuum_vacuum_threshold = 10000);

CREATE FUNCTION pc_reports_index_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pc_reports_index_outbox (report_id) SELECT id FROM new_reports ORDER BY id;
    RETURN NULL;
END $$;

CREATE TRIGGER pc_reports_index_enqueue AFTER INSERT ON pc_reports
    REFERENCING NEW TABLE AS new_reports
    FOR EACH STATEMENT EXECUTE FUNCTION pc_reports_index_enqueue();

CREATE FUNCTION pc_reports_index_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM pc_reports_index_outbox;
    INSERT INTO pc_reports_index_outbox (report_id) VALUES (NULL);
    RETURN NULL;
END $$;

CREATE TRIGGER pc_reports_index_reset AFTER TRUNCATE ON pc_reports
    FOR EACH STATEMENT EXECUTE FUNCTION pc_reports_index_reset();

-- Reports stored before this version: queue them too.
INSERT INTO pc_reports_index_outbox (report_id) SELECT id FROM pc_reports ORDER BY id;
