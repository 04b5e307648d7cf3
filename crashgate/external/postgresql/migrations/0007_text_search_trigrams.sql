-- crashgate schema, version 7: trigram indexes for term searches in crash text
-- (/search/crashes and /search/signatures with ``terms`` in reason, url, user_comments or
-- frames; report_filter.py). ``col ILIKE '%term%'`` and ``col LIKE ...`` (and ``=``) read
-- these GIN indexes instead of every crash of the range. Signature terms are matched in the
-- small ``signatures`` table and need none.
--
-- Indexes on the partitioned parent reach every existing weekly partition and every
-- partition created later (partitions.py).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The function names of a crash's frames, one per line: an indexable test for a term in
-- any frame function, exact for a term without a newline (report_filter.py adds the
-- per-frame test otherwise: a term spanning two lines matches only here). COST: it
-- decompresses and walks the jsonb (about 13 us a crash), so the planner prefers its index
-- to testing every crash of the range.
CREATE FUNCTION crash_frame_functions(frames jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 1000
    RETURN CASE WHEN jsonb_typeof(frames) = 'array' THEN
        (SELECT string_agg(frame ->> 'function', E'\n')
           FROM jsonb_array_elements(frames) AS frame) END;

CREATE INDEX reports_reason_trgm ON reports USING gin (reason gin_trgm_ops);
CREATE INDEX reports_url_trgm ON reports USING gin (url gin_trgm_ops);
CREATE INDEX reports_user_comments_trgm ON reports USING gin (user_comments gin_trgm_ops);
CREATE INDEX reports_frame_functions_trgm ON reports
    USING gin (crash_frame_functions(frames) gin_trgm_ops);
