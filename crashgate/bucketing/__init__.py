"""The engine-independent bucketing core (PartyCrasher's algorithm, improved).

No database, no HTTP: the storage engines find CANDIDATE reports their own way and call these
modules for everything else, so scores and thresholds mean the same on every engine.

- ``tokenizers``: camel, lerch and space tokenizers (stevedore group ``crashgate.tokenizers``);
- ``features``: a report's field-qualified terms (``report_terms``);
- ``scoring``: query weights, document norms, the normalised 0..10 score and its explanation;
- ``thresholds``: 0.1-quantised Decimal thresholds;
- ``assignment``: buckets at every threshold from the top match;
- ``metrics`` / ``evaluation``: BCubed and purity, and the paper's online evaluation protocol.
"""
