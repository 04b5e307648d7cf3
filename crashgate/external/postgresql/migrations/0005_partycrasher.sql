-- crashgate schema, version 5: PartyCrasher reports and their buckets (the PostgreSQL
-- bucketing engine, crashgate/external/postgresql/partycrasher/).
--
-- Every table is keyed by small integers so the per-report overhead stays low: a report's
-- terms are an int4[] of term ids (sorted) with an aligned int2[] of their counts, and the
-- postings (term -> reports) are the GIN index over that array (compressed posting lists)
-- instead of a (term, report) table, which would cost ~50 bytes per term occurrence.
-- intarray (a trusted contrib extension) gives the GIN operator class for int4[] and the
-- intersection/count operators the candidate search ranks with.
CREATE EXTENSION IF NOT EXISTS intarray;

-- One row per project: its id and how many reports it holds (N of the idf).
CREATE TABLE pc_projects (
    id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    report_count integer NOT NULL DEFAULT 0
);

-- The term dictionary, per project (idf is per project: projects never influence each
-- other). A term is (field path, token); df = reports of the project holding it. Updated for
-- every new report under the project's advisory lock; fillfactor leaves room for HOT updates.
CREATE TABLE pc_terms (
    project_id integer NOT NULL,  -- pc_projects.id (no FK: its check costs every update)
    token      text NOT NULL,
    field      text NOT NULL,
    id         integer GENERATED ALWAYS AS IDENTITY,
    df         integer NOT NULL,
    PRIMARY KEY (project_id, token, field)  -- also serves q: a token in any field
) WITH (fillfactor = 80);

-- The reports. database_id is unique across projects (PartyCrasher's 303 is global).
-- buckets: {"4.0": "<bucket id>", ...} as assigned (the report's own copy of its rows in
-- pc_bucket_members, read by GET and by the next report whose top match it is).
CREATE TABLE pc_reports (
    id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- storage order
    database_id   text NOT NULL UNIQUE,
    project_id    integer NOT NULL,  -- pc_projects.id
    date          timestamptz NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    norm          double precision NOT NULL,
    top_match_id  integer,  -- pc_reports.id of the top match (no FK: delete-all truncates)
    top_match_score real,
    crash_uuid    text,     -- the crash stored from this report, if it carried crash fields
    term_ids      integer[] NOT NULL,   -- sorted term ids (pc_terms.id)
    term_counts   smallint[] NOT NULL,  -- count of each term, aligned with term_ids
    buckets       jsonb NOT NULL,
    document      jsonb NOT NULL
);
CREATE INDEX pc_reports_project_date ON pc_reports (project_id, date DESC, id DESC);
CREATE INDEX pc_reports_terms ON pc_reports USING gin (term_ids gin__int_ops);

-- One row per report and threshold: the bucket it was assigned. Top buckets group the first
-- index's range (index-only); a bucket's page reads the second newest first.
CREATE TABLE pc_bucket_members (
    date       timestamptz NOT NULL,
    project_id integer NOT NULL,
    report_id  integer NOT NULL,
    threshold  numeric(4, 1) NOT NULL,
    bucket_id  text NOT NULL
);
CREATE INDEX pc_bucket_members_top ON pc_bucket_members (threshold, project_id, date)
    INCLUDE (bucket_id, report_id);
CREATE INDEX pc_bucket_members_bucket ON pc_bucket_members (threshold, bucket_id, date DESC,
    report_id);
