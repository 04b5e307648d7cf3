"""The one Elasticsearch query builder for the search filters (services/search_filters.py), and
the exact ways every Elasticsearch implementation reads results.

``build_query`` mirrors ``crashgate.external.postgresql.report_filter.build_report_filter``
clause by clause, so both backends select the same crashes. Release channels and branches come
from the products catalogue in PostgreSQL (``backend.pg_pool``), as on PostgreSQL.

Results are read exactly, never approximately: hits past the result window are paged with
``search_after``, and groups (signatures, builds, URLs) are read completely with composite
aggregations; ordering and paging of groups happen in Python (``most_frequent`` sorts only the
page asked for).
"""
import datetime
import heapq

from crashgate.external.elasticsearch.backend import translated_errors
from crashgate.external.postgresql.report_filter import NON_RELEASE_CHANNELS
from crashgate.external.postgresql.versions import version_channels
from crashgate.services.search_filters import os_name

UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
TEXT_FIELDS = {"signature": "signature", "reason": "reason", "url": "url",
               "user_comments": "user_comments", "frames": "frame_functions",
               "dump": "frame_functions"}
PLUGIN_FIELDS = {"name": "plugin_name", "filename": "plugin_filename"}
NEWEST_FIRST = [{"date_processed": "desc"}, {"uuid": "asc"}]
OLDEST_FIRST = [{"date_processed": "asc"}, {"uuid": "asc"}]
HIT_WINDOW = 10000  # index.max_result_window: from + size may not exceed it
GROUP_PAGE = 5000  # composite buckets per request
MAX_CLAUSES = 1000  # indices.query.bool.max_clause_count is 1024
# Wildcard and prefix automata grow quadratically with the pattern: a longer term is looked up
# by its first PIECE characters, then checked whole by SUBSTRING_SCRIPT.
PIECE = 32
SUBSTRING_SCRIPT = """
for (def value : doc[params.field]) {
  if (params.prefix ? value.startsWith(params.term) : value.contains(params.term)) { return true; }
}
return false;
"""
BRANCH_VERSIONS_SQL = """
    SELECT product_name, version_string FROM product_versions
     WHERE major_version = ANY(%(branches)s) ORDER BY 1, 2
"""


# -- query clauses ------------------------------------------------------------------------------
def term(field, value):
    return {"term": {field: value}}


def terms(field, values):
    return {"terms": {field: list(values)}}


def exists(field):
    return {"exists": {"field": field}}


def all_of(*clauses, none_of=()):
    return {"bool": {"filter": list(clauses), "must_not": list(none_of)}}


def any_of(*clauses):
    """At least one of ``clauses`` (nested in groups of at most MAX_CLAUSES)."""
    if not clauses:
        return {"match_none": {}}
    if len(clauses) > MAX_CLAUSES:
        clauses = [any_of(*clauses[i:i + MAX_CLAUSES]) for i in range(0, len(clauses), MAX_CLAUSES)]
    return {"bool": {"should": list(clauses), "minimum_should_match": 1}}


def not_(clause):
    return {"bool": {"must_not": [clause]}}


def epoch_ms_ceil(moment):
    """``moment`` in epoch milliseconds rounded up: with dates stored at millisecond
    resolution, ``stored >= moment`` iff ``stored >= epoch_ms_ceil(moment)`` (same for <)."""
    micros = (moment - EPOCH) // datetime.timedelta(microseconds=1)
    return -(-micros // 1000)


def date_range(start, end, field="date_processed"):
    """``start <= field < end``."""
    return {"range": {field: {"gte": epoch_ms_ceil(start), "lt": epoch_ms_ceil(end),
                              "format": "epoch_millis"}}}


def wildcard_escape(text):
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def text_match(field, values, mode, lowered):
    """``field`` matches any of ``values``: exactly (case-sensitive), or as a case-insensitive
    substring/prefix on its ``.lower`` twin, whose normalizer lower-cases the pattern as it did
    the indexed text; wildcard characters in ``values`` match only themselves. ``lowered``:
    the normalized text of the values longer than PIECE (see ``normalized``)."""
    if mode == "is_exactly":
        return terms(field, values)
    return any_of(*(_substring(f"{field}.lower", value, mode == "starts_with", lowered)
                    for value in values))


def _substring(field, value, prefix, lowered):
    piece = value[:PIECE]
    query = {"prefix": {field: piece}} if prefix else \
        {"wildcard": {field: {"value": f"*{wildcard_escape(piece)}*"}}}
    if len(value) <= PIECE:
        return query
    return all_of(query, {"script": {"script": {"source": SUBSTRING_SCRIPT, "params": {
        "field": field, "term": lowered[value], "prefix": prefix}}}})


def normalized(client, values):
    """{value: value as the ``.lower`` fields' normalizer writes it} for the values longer
    than PIECE (the analyze API runs the very lowercase filter of that normalizer)."""
    values = sorted({value for value in values if len(value) > PIECE})
    if not values:
        return {}
    with translated_errors():
        tokens = client.indices.analyze(body={"tokenizer": "keyword", "filter": ["lowercase"],
                                              "text": values})["tokens"]
    return dict(zip(values, (token["token"] for token in tokens)))


def product_versions(pairs):
    """Crashes of any of the exact (product, version) ``pairs``."""
    return any_of(*(all_of(term("product", p), term("version", v)) for p, v in pairs))


# -- the query builder --------------------------------------------------------------------------
def build_query(backend, filters, signature=None):
    """The bool query selecting the crashes ``build_report_filter`` selects on PostgreSQL."""
    catalogue = backend.pg_pool
    lowered = normalized(backend.client, _substring_terms(filters))
    must, must_not = [date_range(filters["from_date"], filters["to_date"])], []
    if signature is not None:
        must.append(term("signature", signature))
    if filters.get("products"):
        must.append(terms("product", filters["products"]))
    if filters.get("versions"):
        must.append(_versions_clause(catalogue, filters["versions"]))
    if filters.get("os"):
        must.append(terms("os_name", [os_name(o) for o in filters["os"]]))
    if filters.get("branches"):
        with catalogue.connection() as conn, conn.cursor() as cur:
            cur.execute(BRANCH_VERSIONS_SQL, {"branches": filters["branches"]})
            must.append(product_versions(cur.fetchall()))
    if filters.get("reasons"):
        must.append(terms("reason", filters["reasons"]))
    if filters.get("build_ids"):
        must.append(terms("build", [str(b) for b in filters["build_ids"]]))
    builds = {bound: filters[name] for bound, name in (("gte", "build_from"), ("lte", "build_to"))
              if filters.get(name) is not None}
    if builds:
        must.append({"range": {"build_numeric": builds}})
    _process_clauses(filters, must, must_not, lowered)
    report_type = filters.get("report_type", "any")
    if report_type != "any":
        (must if report_type == "hang" else must_not).append(exists("hangid"))
    if filters.get("terms"):
        fields = dict.fromkeys(TEXT_FIELDS[f] for f in filters["fields"])
        must.append(any_of(*(text_match(field, filters["terms"], filters["search_mode"], lowered)
                             for field in fields)))
    return all_of(*must, none_of=must_not)


def _substring_terms(filters):
    """The terms ``build_query`` matches as substrings or prefixes."""
    found = []
    if filters.get("search_mode") != "is_exactly":
        found += filters.get("terms") or []
    if filters.get("report_process") == "plugin" and filters["plugin_search_mode"] != "is_exactly":
        found += filters["plugin_terms"]
    return found


def _versions_clause(catalogue, pairs):
    """Product:Version with release-channel semantics (docs/api.md, "versions")."""
    with catalogue.connection() as conn, conn.cursor() as cur:
        channels = version_channels(cur, pairs)
    alternatives = []
    for product, version in pairs:
        known = channels.get((product.lower(), version))
        clause, exclude = [term("product", known["product"] if known else product)], []
        channel = (known or {}).get("channel")
        if channel in NON_RELEASE_CHANNELS:
            same_version = term("version", version)
            if known["build_ids"] and known["major_version"]:
                same_version = any_of(same_version, all_of(
                    term("version", known["major_version"]), terms("build", known["build_ids"])))
            clause += [same_version, term("release_channel.lower", channel)]
        else:
            clause.append(term("version", version))
            if known:
                exclude.append(terms("release_channel.lower", NON_RELEASE_CHANNELS))
        alternatives.append(all_of(*clause, none_of=exclude))
    return any_of(*alternatives)


def _process_clauses(filters, must, must_not, lowered):
    process = filters.get("report_process", "any")
    if process == "browser":
        must_not.append(exists("process_type"))
    elif process in ("content", "plugin"):
        must.append(term("process_type", process))
    if process == "plugin" and filters.get("plugin_terms"):
        must.append(any_of(*(text_match(PLUGIN_FIELDS[field], filters["plugin_terms"],
                                        filters["plugin_search_mode"], lowered)
                             for field in filters["plugin_in"])))


# -- reading results ----------------------------------------------------------------------------
def count_and_hits(search, query, sort, source, number, offset):
    """(true total, the hits [offset, offset + number) in ``sort`` order); number None = all."""
    fits = number is not None and offset + number <= HIT_WINDOW
    first = search({"query": query, "track_total_hits": True, "sort": sort, "_source": source,
                    "from": offset if fits else 0, "size": number if fits else 0})
    total = first["hits"]["total"]["value"]
    if fits:
        return total, first["hits"]["hits"]
    return total, sorted_hits(search, query, sort, source, number, offset) if total > offset else []


def sorted_hits(search, query, sort, source, number=None, offset=0):
    """The hits [offset, offset + number) in ``sort`` order (a total order; number None = all),
    through ``search_after`` pages of at most HIT_WINDOW hits."""
    hits, after, skip = [], None, offset
    while number is None or len(hits) < number:
        if skip:
            size = min(skip, HIT_WINDOW)
        else:
            size = HIT_WINDOW if number is None else min(HIT_WINDOW, number - len(hits))
        body = {"query": query, "sort": sort, "size": size, "track_total_hits": False,
                "_source": False if skip else source}
        if after is not None:
            body["search_after"] = after
        page = search(body)["hits"]["hits"]
        if skip:
            skip -= len(page)
        else:
            hits.extend(page)
        if len(page) < size:
            break
        after = page[-1]["sort"]
    return hits


def groups(search, query, fields, aggs=None):
    """Every bucket of a composite aggregation on the keyword ``fields`` (ascending keys,
    crashes missing a field left out), read completely page by page: exact on any sharding."""
    composite = {"size": GROUP_PAGE,
                 "sources": [{field: {"terms": {"field": field}}} for field in fields]}
    while True:
        group = {"composite": composite, **({"aggs": aggs} if aggs else {})}
        result = search({"size": 0, "track_total_hits": False, "query": query,
                         "aggs": {"groups": group}}).get("aggregations")
        if not result:  # no index in the range
            return
        yield from result["groups"]["buckets"]
        if len(result["groups"]["buckets"]) < GROUP_PAGE or "after_key" not in result["groups"]:
            return
        composite = dict(composite, after=result["groups"]["after_key"])


def most_frequent(buckets, field, number, offset=0):
    """(how many ``buckets``, those [offset, offset + number) by ``doc_count`` descending, ties
    by their key ``field``): only the leading offset + number are sorted."""
    keyed = [(-bucket["doc_count"], bucket["key"][field], bucket) for bucket in buckets]
    # keys are unique within a composite aggregation: the buckets themselves never compare
    page = heapq.nsmallest(offset + number, keyed)[offset:]
    return len(keyed), [bucket for _, _, bucket in page]


def counts(**clauses):
    """Filter sub-aggregations counting the crashes of a bucket matching each clause."""
    return {name: {"filter": clause} for name, clause in clauses.items()}


def parse_date(text):
    """A ``_source`` date (ISO-8601 as indexed) as an aware UTC datetime."""
    return None if text is None else datetime.datetime.fromisoformat(text).astimezone(UTC)
