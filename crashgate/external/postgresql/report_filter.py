"""The one query builder for the search filters (services/search_filters.py) on PostgreSQL.

``build_report_filter`` turns coerced filter values into ``FROM reports r ... WHERE ...`` with
bound parameters only. Every query is bounded by ``date_processed`` so only the partitions of
the range are read. The same conditions read a daily aggregate (migration 0004) instead of
``reports`` when ``on_aggregate`` finds that they only name columns of it.
"""
import datetime
import re

from crashgate.external.postgresql.versions import version_channels
from crashgate.services.search_filters import os_name

NON_RELEASE_CHANNELS = ("beta", "aurora", "nightly")
# Daily aggregates (migration 0004) and the reports columns they keep.
CRASH_DAILY = ("crash_daily", frozenset({
    "date_processed", "product", "version", "build", "release_channel", "os_name",
    "process_type", "reason", "hangid"}))
SIGNATURE_DAILY = ("signature_daily", frozenset({
    "date_processed", "signature_id", "product", "version", "release_channel", "os_name",
    "process_type", "hangid"}))
SIGNATURE_DAILY_TOTALS = ("signature_daily_totals", frozenset({"date_processed"}))
_COLUMN_REFERENCE = re.compile(r"\br\.([a-z_]+)")
TEXT_COLUMNS = {"signature": "r.signature", "reason": "r.reason", "url": "r.url",
                "user_comments": "r.user_comments"}
FRAME_FUNCTION = "frame.f->>'function'"


def like_pattern(term, mode):
    """LIKE pattern for ``term``: ``%`` and ``_`` in the term match themselves."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%" if mode == "starts_with" else f"%{escaped}%"


class ReportFilter:
    """SQL fragments and their parameters, built clause by clause."""

    def __init__(self):
        self.table = "reports"
        self.whole_days = False  # the date range starts and ends at midnight UTC
        self.joins = []
        self.conditions = []
        self.params = {}

    def bind(self, value):
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"

    def add(self, condition):
        self.conditions.append(condition)

    @property
    def from_sql(self):
        return " ".join([f"{self.table} r", *self.joins])

    @property
    def where_sql(self):
        return " AND ".join(self.conditions) or "TRUE"

    def on_aggregate(self, aggregate):
        """This filter reading ``aggregate`` (CRASH_DAILY, ...) when it holds every column the
        conditions name and the range is whole days; None otherwise (scan reports)."""
        table, columns = aggregate
        if (not self.whole_days or self.joins
                or not set(_COLUMN_REFERENCE.findall(self.where_sql)) <= columns):
            return None
        query = ReportFilter()
        query.table, query.whole_days = table, True
        query.conditions, query.params = list(self.conditions), dict(self.params)
        return query

    def match(self, column, terms, mode):
        """``column`` matches any of ``terms``: equality or case-insensitive LIKE. On the crash
        text columns a trigram index (migration 0007) serves both, ``ANY`` included."""
        if mode == "is_exactly":
            return f"{column} = ANY({self.bind(list(terms))})"
        patterns = [like_pattern(term, mode) for term in terms]
        return f"{column} ILIKE ANY({self.bind(patterns)})"


def build_report_filter(cursor, filters, signature=None):
    """A :class:`ReportFilter` for the coerced ``filters`` (and an exact ``signature``)."""
    query = ReportFilter()
    query.whole_days = _is_midnight(filters["from_date"]) and _is_midnight(filters["to_date"])
    date_range = (f"r.date_processed >= {query.bind(filters['from_date'])}"
                  f" AND r.date_processed < {query.bind(filters['to_date'])}")
    query.add(date_range)
    if signature is not None:
        query.add(f"r.signature = {query.bind(signature)}")
    if filters.get("products"):
        query.add(f"r.product = ANY({query.bind(filters['products'])})")
    if filters.get("versions"):
        query.add(_versions_condition(cursor, query, filters["versions"]))
    if filters.get("os"):
        query.add(f"r.os_name = ANY({query.bind([os_name(o) for o in filters['os']])})")
    if filters.get("branches"):
        query.add("EXISTS (SELECT 1 FROM product_versions pv WHERE pv.product_name = r.product"
                  " AND pv.version_string = r.version"
                  f" AND pv.major_version = ANY({query.bind(filters['branches'])}))")
    if filters.get("reasons"):
        query.add(f"r.reason = ANY({query.bind(filters['reasons'])})")
    if filters.get("build_ids"):
        query.add(f"r.build = ANY({query.bind([str(b) for b in filters['build_ids']])})")
    numeric_build = "(CASE WHEN r.build ~ '^[0-9]{1,18}$' THEN r.build::bigint END)"
    if filters.get("build_from") is not None:
        query.add(f"{numeric_build} >= {query.bind(filters['build_from'])}")
    if filters.get("build_to") is not None:
        query.add(f"{numeric_build} <= {query.bind(filters['build_to'])}")
    _process_conditions(query, filters)
    report_type = filters.get("report_type", "any")
    if report_type == "crash":
        query.add("r.hangid IS NULL")
    elif report_type == "hang":
        query.add("r.hangid IS NOT NULL")
    if filters.get("terms"):
        query.add(_text_condition(query, filters["terms"], filters["fields"],
                                  filters["search_mode"], date_range))
    return query


def _is_midnight(moment):
    utc = moment.astimezone(datetime.timezone.utc)
    return utc.timetz().replace(tzinfo=None) == datetime.time()


def _versions_condition(cursor, query, pairs):
    """Product:Version with release-channel semantics (docs/api.md, "versions")."""
    channels = version_channels(cursor, pairs)
    alternatives = []
    for product, version in pairs:
        known = channels.get((product.lower(), version))
        clause = [f"r.product = {query.bind(known['product'] if known else product)}"]
        channel = (known or {}).get("channel")
        if channel in NON_RELEASE_CHANNELS:
            same_version = f"r.version = {query.bind(version)}"
            if known["build_ids"] and known["major_version"]:
                same_version = (f"({same_version} OR (r.version = {query.bind(known['major_version'])}"
                                f" AND r.build = ANY({query.bind(known['build_ids'])})))")
            clause += [same_version, f"lower(r.release_channel) = {query.bind(channel)}"]
        else:
            clause.append(f"r.version = {query.bind(version)}")
            if known:
                clause.append("(r.release_channel IS NULL OR lower(r.release_channel) <> ALL("
                              f"{query.bind(list(NON_RELEASE_CHANNELS))}))")
        alternatives.append("(" + " AND ".join(clause) + ")")
    return "(" + " OR ".join(alternatives) + ")"


def _process_conditions(query, filters):
    process = filters.get("report_process", "any")
    if process == "browser":
        query.add("r.process_type IS NULL")
    elif process == "content":
        query.add("r.process_type = 'content'")
    elif process == "plugin":
        query.add("r.process_type = 'plugin'")
        if filters.get("plugin_terms"):
            query.joins.append(
                "JOIN plugins_reports pr ON pr.uuid = r.uuid AND pr.date_processed = r.date_processed"
                " JOIN plugins p ON p.id = pr.plugin_id")
            query.add(f"pr.date_processed >= {query.bind(filters['from_date'])}")
            query.add(f"pr.date_processed < {query.bind(filters['to_date'])}")
            mode = filters["plugin_search_mode"]
            columns = {"name": "p.name", "filename": "p.filename"}
            query.add("(" + " OR ".join(query.match(columns[field], filters["plugin_terms"], mode)
                                        for field in filters["plugin_in"]) + ")")


def _text_condition(query, terms, fields, mode, date_range):
    """Any term in any of ``fields``. Crash text (reason, url, user_comments, frames) is
    matched through trigram indexes (migration 0007), its group bounded by ``date_range``
    again so that the planner can AND their scans with the date index beside the signature
    alternative, which reads the (signature, date) index."""
    alternatives, crash_text = [], []
    for field in dict.fromkeys("frames" if f == "dump" else f for f in fields):
        if field == "frames":
            crash_text.append(_frames_condition(query, terms, mode))
        elif field == "signature" and mode != "is_exactly":
            # Match the few distinct signatures first, then find crashes by exact signature
            # (index) instead of pattern-matching every crash of the range.
            alternatives.append("r.signature = ANY(ARRAY(SELECT s.signature FROM signatures s"
                                f" WHERE {query.match('s.signature', terms, mode)}))")
        elif field == "signature":
            alternatives.append(query.match(TEXT_COLUMNS[field], terms, mode))
        else:
            crash_text.append(query.match(TEXT_COLUMNS[field], terms, mode))
    if crash_text:
        alternatives.append(f"(({' OR '.join(crash_text)}) AND {date_range})")
    return "(" + " OR ".join(alternatives) + ")"


def _frames_condition(query, terms, mode):
    """A frame function matches. ``crash_frame_functions`` (migration 0007, trigram index)
    joins the function names of a crash with newlines: a term without a newline found in it
    lies within one name, so containment is tested there alone; otherwise that test only
    narrows the crashes and the exact test runs frame by frame."""
    names = "crash_frame_functions(r.frames)"
    if mode not in ("starts_with", "is_exactly") and not any("\n" in t for t in terms):
        return query.match(names, terms, mode)
    if mode == "is_exactly":  # case-sensitive: the whole name occurs in the names
        prefilter = f"{names} LIKE ANY({query.bind([like_pattern(t, 'contains') for t in terms])})"
    else:  # a name starting with the term contains it
        prefilter = query.match(names, terms, "contains")
    return (f"({prefilter} AND EXISTS (SELECT 1 FROM jsonb_array_elements(r.frames) AS frame(f)"
            f" WHERE {query.match(FRAME_FUNCTION, terms, mode)}))")
