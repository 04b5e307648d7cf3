"""PartyCrasher reports on PostgreSQL: storage, the bucketing pipeline, reads.

- ``pipeline``: ingestion (engine-independent; takes a candidate finder);
- ``candidates``: the PostgreSQL candidate finder (GIN postings of term ids);
- ``terms``: the per-project term dictionary and a report's compact term arrays;
- ``queries``: reads (report, bucket, top buckets, search, compare, summary, delete all);
- ``implementations``: the classes the PartyCrasher services call.

Schema: migrations/0005_partycrasher.sql.
"""
