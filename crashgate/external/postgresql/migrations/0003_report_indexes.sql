-- Indexes measured with benchmarks/bench_services.py at 1M crashes (benchmarks/RESULTS.md):
-- partial indexes for the rows /crashes/comments and /signatureurls read, and a covering
-- index that answers /crashes/frequency's per-build counts of a signature from the index.
CREATE INDEX reports_signature_comments ON reports (signature, date_processed)
    WHERE user_comments IS NOT NULL AND user_comments <> '';
CREATE INDEX reports_signature_urls ON reports (signature, date_processed)
    WHERE url IS NOT NULL AND url <> '';
CREATE INDEX reports_signature_date_cover ON reports (signature, date_processed)
    INCLUDE (build, os_name);
DROP INDEX reports_signature_date;
