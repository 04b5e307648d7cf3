-- crashgate schema, version 1.
-- Crash tables are range-partitioned on date_processed by week (Monday 00:00 UTC, half-open);
-- partitions are created on demand by crashgate.external.postgresql.partitions.

CREATE TABLE products (
    product_name          text PRIMARY KEY,
    sort                  smallint NOT NULL DEFAULT 0,
    rapid_release_version text,
    release_name          text NOT NULL
);

CREATE TABLE release_channels (
    release_channel text PRIMARY KEY,
    sort            smallint NOT NULL
);
INSERT INTO release_channels (release_channel, sort) VALUES
    ('Nightly', 1), ('Aurora', 2), ('Beta', 3), ('Release', 4), ('ESR', 5);

CREATE TABLE product_versions (
    product_version_id serial PRIMARY KEY,
    product_name       text NOT NULL REFERENCES products (product_name),
    version_string     text NOT NULL,
    major_version      text,
    release_version    text,
    beta_number        integer,
    version_sort       text NOT NULL DEFAULT '',
    build_date         date,
    sunset_date        date,
    featured_version   boolean NOT NULL DEFAULT false,
    build_type         text NOT NULL REFERENCES release_channels (release_channel),
    throttle           numeric(5, 2) NOT NULL DEFAULT 100.0,
    UNIQUE (product_name, version_string)
);

CREATE TABLE product_version_builds (
    product_version_id integer NOT NULL REFERENCES product_versions ON DELETE CASCADE,
    build_id           bigint NOT NULL,
    platform           text NOT NULL,
    repository         text NOT NULL DEFAULT '',
    PRIMARY KEY (product_version_id, build_id, platform)
);

-- Builds as reported by the release tooling (POST /products/builds, products files).
CREATE TABLE releases_raw (
    product_name text NOT NULL,
    version      text NOT NULL,
    platform     text NOT NULL,
    build_id     bigint NOT NULL,
    build_type   text NOT NULL,
    beta_number  integer,
    repository   text NOT NULL DEFAULT '',
    build_date   date GENERATED ALWAYS AS (make_date((build_id / 10000000000)::int,
                                                     (build_id / 100000000 % 100)::int,
                                                     (build_id / 1000000 % 100)::int)) STORED
);
CREATE UNIQUE INDEX releases_raw_key ON releases_raw
    (lower(product_name), version, platform, build_id, lower(build_type), coalesce(beta_number, -1), repository);
CREATE INDEX releases_raw_product_date ON releases_raw (lower(product_name), build_date);

CREATE TABLE signatures (
    signature_id serial PRIMARY KEY,
    signature    text NOT NULL UNIQUE,
    first_report timestamptz,
    first_build  bigint
);

-- Global uniqueness of crash ids (a partitioned table cannot enforce it) and uuid -> date lookup.
CREATE TABLE crash_ids (
    uuid           text PRIMARY KEY,
    date_processed timestamptz NOT NULL
);

CREATE SEQUENCE reports_id_seq;
CREATE TABLE reports (
    id                 bigint NOT NULL DEFAULT nextval('reports_id_seq'),
    uuid               text NOT NULL,
    date_processed     timestamptz NOT NULL,
    client_crash_date  timestamptz,
    product            text NOT NULL,
    version            text NOT NULL,
    build              text,
    release_channel    text,
    signature_id       integer NOT NULL,
    signature          text NOT NULL,
    reason             text,
    address            text,
    os_name            text,
    os_version         text,
    cpu_name           text,
    cpu_info           text,
    url                text,
    email              text,
    user_comments      text,
    app_notes          text,
    uptime             integer,
    install_age        integer,
    last_crash         integer,
    hangid             text,
    process_type       text,
    frames             jsonb,
    started_datetime   timestamptz,
    completed_datetime timestamptz,
    success            boolean,
    processor_notes    text,
    duplicate_of       text,
    extra              jsonb,
    PRIMARY KEY (uuid, date_processed)
) PARTITION BY RANGE (date_processed);
CREATE INDEX reports_date ON reports (date_processed);
CREATE INDEX reports_signature_date ON reports (signature, date_processed);
CREATE INDEX reports_product_version ON reports (product, version, date_processed);
CREATE INDEX reports_hangid ON reports (hangid) WHERE hangid IS NOT NULL;
CREATE INDEX reports_id ON reports (id);

CREATE TABLE extensions (
    report_id         bigint NOT NULL,
    uuid              text NOT NULL,
    date_processed    timestamptz NOT NULL,
    extension_key     integer NOT NULL,
    extension_id      text NOT NULL,
    extension_version text,
    PRIMARY KEY (uuid, date_processed, extension_key)
) PARTITION BY RANGE (date_processed);

CREATE TABLE plugins (
    id       serial PRIMARY KEY,
    filename text NOT NULL,
    name     text NOT NULL,
    UNIQUE (filename, name)
);

CREATE TABLE plugins_reports (
    report_id      bigint NOT NULL,
    uuid           text NOT NULL,
    plugin_id      integer NOT NULL REFERENCES plugins (id),
    date_processed timestamptz NOT NULL,
    version        text,
    PRIMARY KEY (uuid, date_processed)
) PARTITION BY RANGE (date_processed);

CREATE TABLE jobs (
    id                serial PRIMARY KEY,
    pathname          text NOT NULL DEFAULT '',
    uuid              text NOT NULL UNIQUE,
    owner             integer,
    priority          integer NOT NULL DEFAULT 0,
    queueddatetime    timestamptz,
    starteddatetime   timestamptz,
    completeddatetime timestamptz,
    success           boolean,
    message           text
);

CREATE TABLE priorityjobs (
    uuid      text PRIMARY KEY,
    queued_at timestamptz NOT NULL DEFAULT now()
);

-- Top crashers by signature, per day / product / version / process type / channel, maintained
-- incrementally by every write of a new crash (never recomputed per request).
CREATE TABLE tcbs (
    signature_id    integer NOT NULL REFERENCES signatures,
    report_date     date NOT NULL,
    product         text NOT NULL,
    version         text NOT NULL,
    process_type    text NOT NULL,          -- 'browser', 'plugin', 'content'
    release_channel text NOT NULL DEFAULT '',
    report_count    integer NOT NULL DEFAULT 0,
    win_count       integer NOT NULL DEFAULT 0,
    mac_count       integer NOT NULL DEFAULT 0,
    lin_count       integer NOT NULL DEFAULT 0,
    hang_count      integer NOT NULL DEFAULT 0,
    startup_count   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (product, version, report_date, signature_id, process_type, release_channel)
);
CREATE INDEX tcbs_signature ON tcbs (signature_id, report_date);

-- Which versions of which product each signature appeared in, and when first.
CREATE TABLE signature_products (
    signature_id integer NOT NULL REFERENCES signatures,
    product      text NOT NULL,
    version      text NOT NULL,
    first_report timestamptz NOT NULL,
    PRIMARY KEY (signature_id, product, version)
);

CREATE VIEW product_info AS
    SELECT pv.product_version_id, pv.product_name, pv.version_string,
           pv.build_date AS start_date, pv.sunset_date AS end_date,
           pv.featured_version AS is_featured, pv.build_type, pv.throttle,
           pv.major_version, pv.release_version, pv.beta_number, pv.version_sort
      FROM product_versions pv;
