"""Buckets at every threshold from the single top match (PartyCrasher's rule, notes §2.4).

For each threshold T ascending: a top match scoring ``>= T`` means joining its bucket at T,
otherwise the report founds a new bucket at T. Partitions are nested: a higher threshold
refines a lower one.
"""
import secrets

from crashgate.bucketing.thresholds import format_threshold, parse_thresholds


def random_bucket_id():
    """A new bucket id: 16 URL-safe characters from ``secrets``."""
    return secrets.token_urlsafe(12)


def _matched_bucket(top_match, threshold):
    """The top match's bucket at ``threshold`` if its score reaches it, else None."""
    if top_match is None or top_match.score is None or top_match.score < threshold:
        return None
    buckets = top_match.buckets or {}
    bucket = buckets.get(threshold)
    if bucket is None:  # engines may key by the string form
        bucket = buckets.get(format_threshold(threshold))
    return bucket


def assign_buckets(thresholds, top_match, new_bucket_id=random_bucket_id):
    """{threshold: bucket id} for ``thresholds``; ``top_match`` is None or has ``.score`` and
    ``.buckets`` (threshold -> bucket id). Each threshold needing a new bucket gets its own id.
    A top match without a bucket at some threshold (e.g. stored before the threshold was
    configured) counts as no match there."""
    assigned = {}
    for threshold in parse_thresholds(thresholds):
        bucket = _matched_bucket(top_match, threshold)
        assigned[threshold] = bucket if bucket is not None else new_bucket_id()
    return assigned


def assign_buckets_dry_run(thresholds, top_match):
    """As ``assign_buckets`` but None where a new bucket would be created (nothing is stored)."""
    return {threshold: _matched_bucket(top_match, threshold) for threshold in parse_thresholds(thresholds)}
