-- crashgate schema, version 4: daily aggregates of the crashes and a weekly rollup of tcbs,
-- all maintained by store_crashes in the transaction that stores the crashes (only new
-- crashes are counted, so duplicates never count twice; upserts in key order, so concurrent
-- loaders neither lose counts nor deadlock).
--
-- Their columns carry the names and values of the reports columns they group, so the one
-- filter builder (report_filter.py) reads them unchanged: `date_processed` is the midnight
-- (UTC) that starts the day counted, `hangid` is true for hangs and NULL otherwise (only
-- IS NULL / IS NOT NULL is ever asked), every other column holds the crash's value, NULL
-- included (NULLS NOT DISTINCT keys). A request uses an aggregate only when its range is whole
-- UTC days and each of its filters names columns of that aggregate; otherwise it scans reports.

-- Crashes per day and per value of every non-text filter: /crashes/frequency totals.
CREATE TABLE crash_daily (
    date_processed  timestamptz NOT NULL,
    product         text NOT NULL,
    version         text NOT NULL,
    build           text,
    release_channel text,
    os_name         text,
    process_type    text,
    reason          text,
    hangid          boolean,
    report_count    integer NOT NULL
);
CREATE UNIQUE INDEX crash_daily_key ON crash_daily (date_processed, product, version, build,
    release_channel, os_name, process_type, reason, hangid) NULLS NOT DISTINCT;

-- Crashes per day and signature (without build and reason, to stay small): /search/signatures.
CREATE TABLE signature_daily (
    date_processed  timestamptz NOT NULL,
    signature_id    integer NOT NULL REFERENCES signatures,
    product         text NOT NULL,
    version         text NOT NULL,
    release_channel text,
    os_name         text,
    process_type    text,
    hangid          boolean,
    report_count    integer NOT NULL
);
CREATE UNIQUE INDEX signature_daily_key ON signature_daily (date_processed, signature_id,
    product, version, release_channel, os_name, process_type, hangid) NULLS NOT DISTINCT;
-- versions filters read only their product version's rows
CREATE INDEX signature_daily_version ON signature_daily (product, version, date_processed);

-- Crashes per day and signature, nothing else: /search/signatures with no filter but dates.
CREATE TABLE signature_daily_totals (
    date_processed timestamptz NOT NULL,
    signature_id   integer NOT NULL REFERENCES signatures,
    report_count   integer NOT NULL,
    win_count      integer NOT NULL,
    mac_count      integer NOT NULL,
    lin_count      integer NOT NULL,
    hang_count     integer NOT NULL,
    plugin_count   integer NOT NULL,
    content_count  integer NOT NULL,
    PRIMARY KEY (date_processed, signature_id)
);

-- Aggregates of no crashes: emptied with reports (DELETE, not TRUNCATE: the statement that
-- truncates reports may be truncating them too).
CREATE FUNCTION empty_daily_aggregates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM crash_daily;
    DELETE FROM signature_daily;
    DELETE FROM signature_daily_totals;
    RETURN NULL;
END $$;
CREATE TRIGGER reports_truncated AFTER TRUNCATE ON reports
    FOR EACH STATEMENT EXECUTE FUNCTION empty_daily_aggregates();

-- tcbs summed by week (Monday to Sunday, UTC), without the channel: /crashes/signatures reads
-- the whole weeks of a period here and only its edge days from tcbs.
CREATE TABLE tcbs_weekly (
    product       text NOT NULL,
    version       text NOT NULL,
    week_start    date NOT NULL,           -- a Monday
    signature_id  integer NOT NULL REFERENCES signatures,
    process_type  text NOT NULL,           -- as in tcbs
    report_count  integer NOT NULL,
    win_count     integer NOT NULL,
    mac_count     integer NOT NULL,
    lin_count     integer NOT NULL,
    hang_count    integer NOT NULL,
    startup_count integer NOT NULL,
    PRIMARY KEY (product, version, week_start, signature_id, process_type)
);

-- Crashes stored before this version.
INSERT INTO crash_daily (date_processed, product, version, build, release_channel, os_name,
                         process_type, reason, hangid, report_count)
SELECT date_trunc('day', date_processed, 'UTC'), product, version, build, release_channel,
       os_name, process_type, reason, CASE WHEN hangid IS NOT NULL THEN true END, count(*)
  FROM reports GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
INSERT INTO signature_daily (date_processed, signature_id, product, version, release_channel,
                             os_name, process_type, hangid, report_count)
SELECT date_trunc('day', date_processed, 'UTC'), signature_id, product, version,
       release_channel, os_name, process_type, CASE WHEN hangid IS NOT NULL THEN true END,
       count(*)
  FROM reports GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO signature_daily_totals
SELECT date_trunc('day', date_processed, 'UTC'), signature_id, count(*),
       count(*) FILTER (WHERE os_name = 'Windows NT'), count(*) FILTER (WHERE os_name = 'Mac OS X'),
       count(*) FILTER (WHERE os_name = 'Linux'), count(*) FILTER (WHERE hangid IS NOT NULL),
       count(*) FILTER (WHERE process_type = 'plugin'),
       count(*) FILTER (WHERE process_type = 'content')
  FROM reports GROUP BY 1, 2;
INSERT INTO tcbs_weekly
SELECT product, version, date_trunc('week', report_date)::date, signature_id, process_type,
       sum(report_count), sum(win_count), sum(mac_count), sum(lin_count), sum(hang_count),
       sum(startup_count)
  FROM tcbs GROUP BY 1, 2, 3, 4, 5;
ANALYZE crash_daily, signature_daily, signature_daily_totals, tcbs_weekly;
