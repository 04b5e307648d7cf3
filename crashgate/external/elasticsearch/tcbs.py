"""/crashes/signatures (top crashers) on Elasticsearch, from aggregations over the crashes.

Elasticsearch has no ``tcbs`` table: one composite aggregation over both periods counts what
the PostgreSQL aggregate holds, with the same whole-day periods, ranks, ties and shares; the
signatures' first crash and versions come from every crash index, as ``signatures`` and
``signature_products`` hold them on PostgreSQL.
"""
import bisect
import heapq

from crashgate.external.elasticsearch.backend import ElasticsearchImplementation
from crashgate.external.elasticsearch.search import (OLDEST_FIRST, all_of, any_of,
                                                     counts, date_range, exists, groups, not_,
                                                     parse_date, term, terms)
from crashgate.external.postgresql.tcbs import crasher_row, midnight, period_days
from crashgate.services.search_filters import PLATFORMS

OS_NAMES = {platform: name for platform, name, _ in PLATFORMS}
# tcbs.process_type is coalesce(process_type, 'browser')
CRASH_TYPES = {"browser": any_of(not_(exists("process_type")), term("process_type", "browser")),
               "plugin": term("process_type", "plugin"),
               "content": term("process_type", "content")}
CURRENT_COUNTS = counts(
    win_count=term("os_name", OS_NAMES["windows"]), mac_count=term("os_name", OS_NAMES["mac"]),
    linux_count=term("os_name", OS_NAMES["linux"]), hang_count=exists("hangid"),
    startup_count={"range": {"uptime": {"lt": 60}}},
    plugin_count=term("process_type", "plugin"), content_count=term("process_type", "content"))
FIRST_CRASH = {"first": {"top_hits": {"size": 1, "sort": OLDEST_FIRST,
                                      "_source": ["date_processed"]}}}


class CrashesSignatures(ElasticsearchImplementation):
    def get(self, product, version, crash_type, end_date, duration, os, limit):
        previous_start, current_start, end = map(midnight, period_days(end_date, duration))
        clauses = [term("product", product), term("version", version),
                   date_range(previous_start, end)]
        if crash_type != "all":
            clauses.append(CRASH_TYPES[crash_type])
        on_os = counts(os_count=term("os_name", OS_NAMES[os])) if os else {}
        periods = {"current": {"filter": date_range(current_start, end),
                               "aggs": {**CURRENT_COUNTS, **on_os}},
                   "previous": {"filter": date_range(previous_start, current_start),
                                **({"aggs": on_os} if on_os else {})}}
        current, previous = _period_counts(
            groups(self.searcher(previous_start, end), all_of(*clauses), ["signature"], periods),
            "os_count" if os else None)
        total = sum(count for count, _ in current.values())
        # ranks by count, ties by signature: only the top of the current period is sorted
        top = heapq.nsmallest(limit, ((-count, signature)
                                      for signature, (count, _) in current.items()))
        previous_ranks = _ranks(previous, [signature for _, signature in top])
        history = self._history(product, [signature for _, signature in top])
        crashes = []
        for rank, (_, signature) in enumerate(top):
            count, aggs = current[signature]
            previous_rank, previous_percent = previous_ranks.get(signature, (None, None))
            crashes.append(crasher_row({
                "signature": signature, "count": count,
                **{name: aggs[name]["doc_count"] for name in CURRENT_COUNTS},
                "rank": rank, "percent": count / total, "previous_rank": previous_rank,
                "previous_percent": previous_percent, **history[signature]}))
        return {
            "crashes": crashes,
            "start_date": current_start,
            "end_date": end,
            "totalNumberOfCrashes": total,
            "totalPercentage": sum(c["percentOfTotal"] for c in crashes),
        }

    def _history(self, product, signatures):
        """{signature: first crash ever, versions of ``product`` it ever crashed in}."""
        if not signatures:
            return {}
        history = {signature: {"first_report": None, "versions": []} for signature in signatures}
        for bucket in groups(self.search_all, terms("signature", signatures), ["signature"],
                             FIRST_CRASH):
            first = bucket["first"]["hits"]["hits"][0]["_source"]["date_processed"]
            history[bucket["key"]["signature"]]["first_report"] = parse_date(first)
        for bucket in groups(self.search_all, all_of(terms("signature", signatures),
                                                     term("product", product)),
                             ["signature", "version"]):
            history[bucket["key"]["signature"]]["versions"].append(bucket["key"]["version"])
        return history


def _period_counts(buckets, os_count):
    """({signature: (count, current bucket)}, {signature: count}) of the current and previous
    periods, signatures without crashes in a period left out; counted on the ``os_count``
    sub-aggregation when given."""
    current, previous = {}, {}
    for bucket in buckets:
        signature, now, before = bucket["key"]["signature"], bucket["current"], bucket["previous"]
        count = (now[os_count] if os_count else now)["doc_count"]
        if count:
            current[signature] = (count, now)
        count = (before[os_count] if os_count else before)["doc_count"]
        if count:
            previous[signature] = count
    return current, previous


def _ranks(counts, signatures):
    """{signature: (rank, share of the total)} of those of ``signatures`` in ``counts``
    ({signature: count}), ranked by count descending, ties by signature, without sorting
    every signature: rank = signatures with a greater count + those tied before it."""
    wanted = {signature: counts[signature] for signature in signatures if signature in counts}
    if not wanted:
        return {}
    total = sum(counts.values())
    ascending = sorted(counts.values())
    tied = {count: [] for count in wanted.values()}
    for signature, count in counts.items():
        if count in tied:
            tied[count].append(signature)
    for names in tied.values():
        names.sort()
    greater = {count: len(ascending) - bisect.bisect_right(ascending, count) for count in tied}
    return {signature: (greater[count] + bisect.bisect_left(tied[count], signature),
                        count / total) for signature, count in wanted.items()}
