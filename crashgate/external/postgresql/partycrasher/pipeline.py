"""Ingestion with bucketing, engine-independent: the engines differ only in ``find_candidates``.

One request is one transaction: an array is all-or-nothing (any error rolls back every item)
and its items are processed in order, each seeing the ones before it. Per item:

1. a ``database_id`` already stored (in any project) or earlier in the batch -> not stored
   again, ``created=False`` with the stored buckets; checked before any similarity work;
2. terms -> query weights (df of the query's own terms, per project) -> the engine's
   candidates -> exact scores (crashgate.bucketing.scoring) on their stored term counts ->
   top match (highest score, earliest stored on ties) -> buckets at every threshold;
3. store the report (document, term arrays, norm, buckets, top match), its new terms and its
   bucket rows; at the end of the request, the df of the terms already stored and the
   project's report count (once per term: later items add this request's counts to what they
   read), and the crashes of the reports carrying one.

Writers take ``pg_advisory_xact_lock`` on each project of the request (sorted, before any
candidate search, held until commit), so two similar reports posted at the same moment are
bucketed one after the other and cannot both found a new bucket. The same new database_id
posted at the same moment to two projects (two locks) meets the unique key: the loser's
transaction is rolled back and run again, and then finds the id stored (``created=False``).
A dry run computes the same without writing or locking; its items do not see each other
(nothing is stored).
"""
import collections
import dataclasses
import datetime
import json
import types
from typing import NamedTuple

from crashgate.bucketing import scoring
from crashgate.bucketing.assignment import assign_buckets, assign_buckets_dry_run
from crashgate.bucketing.features import SEP, report_terms
from crashgate.bucketing.thresholds import format_threshold, parse_threshold
from crashgate.bucketing.tokenizers import load_tokenizer
from crashgate.errors import CrashgateError
from crashgate.external.postgresql.partycrasher import terms as dictionary
from crashgate.ingest.store import store_crashes

LOCK_NAMESPACE = 7_402_113  # pg_advisory_xact_lock(LOCK_NAMESPACE, hashtext(project))
ATTEMPTS = 3  # runs of a request whose new database_id another project's request stored


@dataclasses.dataclass(frozen=True)
class TopMatch:
    database_id: str
    project: str
    score: float  # 0..10, 4 decimals


@dataclasses.dataclass(frozen=True)
class IngestResult:
    database_id: str
    project: str
    date: datetime.datetime
    created: bool  # False: the database_id was already stored (or earlier in the request)
    buckets: dict  # {Decimal threshold: bucket id, or None for a would-be new bucket (dry run)}
    top_match: TopMatch | None


class QueryTerm(NamedTuple):
    """A query term handed to ``find_candidates``, most discriminative first."""
    term: str  # "field\\x1ftoken" (crashgate.bucketing.features)
    weight: float
    df: int  # stored reports of the project holding it
    term_id: int  # pc_terms.id


class CandidateRows(list):
    """What ``find_candidates`` may return instead of database_ids (saving a round trip):
    rows ``(id, database_id, term_ids, term_counts, norm, buckets::text)`` of pc_reports."""


class ConcurrentDuplicate(CrashgateError):
    """The same database_id was stored meanwhile by a request for another project."""

    status = 409
    type = "conflict"


def parse_buckets(stored):
    """``{"4.0": id}`` (as stored) -> ``{Decimal("4.0"): id}``."""
    return {parse_threshold(key): value for key, value in stored.items()}


# The stored reports among the ids, then (database_id NULL) the projects' ids and counts.
_STORED_SQL = """
    SELECT r.database_id, p.name, r.date, r.buckets, m.database_id, mp.name,
           r.top_match_score, NULL::int, NULL::int
      FROM pc_reports r
      JOIN pc_projects p ON p.id = r.project_id
      LEFT JOIN pc_reports m ON m.id = r.top_match_id
      LEFT JOIN pc_projects mp ON mp.id = m.project_id
     WHERE r.database_id = ANY(%s)
    UNION ALL
    SELECT NULL, name, NULL, NULL, NULL, NULL, NULL, id, report_count
      FROM pc_projects WHERE name = ANY(%s)
"""


_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s, hashtext(%s));"
# The transaction's plans assume the reports are cached: with the default random page cost the
# planner scans every stored report for the rare-term candidates (the GIN index: 10x faster).
_PLANNER_SQL = "SET LOCAL random_page_cost = 1.1;"


def stored_results(cursor, database_ids, projects, lock_projects=()):
    """``({database_id: IngestResult(created=False)}, {project: (id, report_count)})``: the
    stored reports among the ids and the state of the ``projects`` that exist, read after
    taking the advisory lock of each of ``lock_projects`` in that order (same round trip)."""
    params = [value for project in lock_projects for value in (LOCK_NAMESPACE, project)]
    cursor.execute(_PLANNER_SQL + _LOCK_SQL * len(lock_projects) + _STORED_SQL,
                   params + [list(database_ids), list(projects)])
    found, states = {}, {}
    for (database_id, project, date, buckets, match_id, match_project, score, project_id,
         report_count) in cursor.fetchall():
        if database_id is None:
            states[project] = (project_id, report_count)
            continue
        top_match = TopMatch(match_id, match_project, float(score)) if match_id else None
        found[database_id] = IngestResult(database_id, project, date, False,
                                          parse_buckets(buckets), top_match)
    return found, states


_CANDIDATES_SQL = """
    SELECT id, database_id, term_ids, term_counts, norm, buckets::text
      FROM pc_reports WHERE database_id = ANY(%s) AND project_id = %s
"""
# One statement stores a report: its new terms (df 1), the report with its sorted term ids and
# counts (known terms: ``known_ids``/``known_counts``), and its bucket rows.
_STORE_SQL = """
    WITH new_terms AS (
        INSERT INTO pc_terms (project_id, token, field, df)
        SELECT %(project_id)s, q.token, q.field, 1
          FROM unnest(%(new_tokens)s::text[], %(new_fields)s::text[]) AS q (token, field)
         ORDER BY q.token, q.field
        RETURNING token, field, id),
    counted AS (
        SELECT k.id, k.count
          FROM unnest(%(known_ids)s::int4[], %(known_counts)s::int2[]) AS k (id, count)
        UNION ALL
        SELECT n.id, q.count
          FROM new_terms n
          JOIN unnest(%(new_tokens)s::text[], %(new_fields)s::text[], %(new_counts)s::int2[])
               AS q (token, field, count) ON q.token = n.token AND q.field = n.field),
    report AS (
        INSERT INTO pc_reports (database_id, project_id, date, norm, top_match_id,
                                top_match_score, crash_uuid, term_ids, term_counts, buckets,
                                document)
        SELECT %(database_id)s, %(project_id)s, %(date)s, %(norm)s, %(top_match_id)s,
               %(top_match_score)s, %(crash_uuid)s,
               coalesce(array_agg(id ORDER BY id), '{}'),
               coalesce(array_agg(count ORDER BY id), '{}'), %(buckets)s, %(document)s
          FROM counted
        ON CONFLICT (database_id) DO NOTHING
        RETURNING id),
    members AS (
        INSERT INTO pc_bucket_members (date, project_id, report_id, threshold, bucket_id)
        SELECT %(date)s, %(project_id)s, report.id, b.threshold, b.bucket_id
          FROM report,
               unnest(%(thresholds)s::numeric[], %(bucket_ids)s::text[]) AS b (threshold,
                                                                              bucket_id))
    SELECT report.id, n.token, n.field, n.id FROM report LEFT JOIN new_terms n ON true
"""


@dataclasses.dataclass
class _Project:
    id: int | None
    report_count: int
    count_live: bool = False  # count each report's df and the report count at its lookup
    added: int = 0  # reports stored by this request and not yet counted
    counted: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    # ^ df increments of already stored terms by this request, written once at the end
    # (one row version per term: a long batch would leave long chains of them)
    dictionary: dict | None = None
    # ^ several reports: ``{term: (term_id, df)}`` of all their terms, looked up once (df as
    # stored: ``counted`` is added), completed with the terms this request stores


def ingest(pool, settings, reports, find_candidates, dry_run=False):
    """Bucket and store ``reports`` (crashgate.ingest.report_document.Report) in one
    transaction; a list of IngestResult in the same order. Terms are computed before the
    transaction (and its locks) starts.

    ``settings``: the ``bucketing`` config namespace (thresholds, tokenizer, candidates,
    query_terms). ``find_candidates(cursor, project, query_terms, limit)`` returns database_ids
    of stored reports of ``project`` worth scoring, or their CandidateRows; ``query_terms`` are
    QueryTerm.
    """
    bucketer = _Bucketer(settings, find_candidates, dry_run)
    all_terms = [report_terms(report.document, bucketer.tokenize) for report in reports]
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _ingest_once(pool, bucketer, reports, all_terms, dry_run)
        except ConcurrentDuplicate:  # rolled back; the next run sees the id stored
            if attempt == ATTEMPTS:
                raise


def _ingest_once(pool, bucketer, reports, all_terms, dry_run):
    with pool.connection() as conn, conn.cursor() as cursor:
        names = sorted({report.project for report in reports})
        known, states = stored_results(cursor, {report.database_id for report in reports},
                                       names, [] if dry_run else names)
        results, crashes, projects = [], [], {}
        for report, terms in zip(reports, all_terms):
            previous = known.get(report.database_id)
            if previous is not None:
                results.append(previous)
                continue
            if report.project not in projects:
                projects[report.project] = _project(cursor, report.project, states, reports,
                                                    all_terms, dry_run)
            result = bucketer.bucket(cursor, report, terms, projects[report.project])
            results.append(result)
            known[report.database_id] = dataclasses.replace(result, created=False)
            if report.crash is not None and not dry_run:
                crashes.append(report.crash)
        if not dry_run:
            for project in projects.values():
                if project.added:
                    dictionary.count_stored(cursor, project.id, project.added, project.counted)
            if crashes:
                store_crashes(cursor, crashes)
        else:
            conn.rollback()
    return results


def _project(cursor, name, states, reports, all_terms, dry_run):
    """The _Project of ``name``; for several reports, with the dictionary of all their terms."""
    project = _Project(*states.get(name, (None, 0)),
                       count_live=not dry_run and len(reports) == 1)
    if len(reports) > 1:
        union = set().union(*(terms for report, terms in zip(reports, all_terms)
                              if report.project == name))
        project.dictionary = dictionary.lookup(cursor, project.id, union)
    return project


class _Bucketer:
    def __init__(self, settings, find_candidates, dry_run):
        self.thresholds = list(settings.thresholds)
        self.tokenize = load_tokenizer(settings.tokenizer)
        self.candidates = settings.candidates
        self.query_terms = settings.query_terms
        self.find_candidates = find_candidates
        self.dry_run = dry_run

    def bucket(self, cursor, report, terms, project):
        counted = project.count_live and project.id is not None
        if project.dictionary is None:
            known = dictionary.lookup(cursor, project.id, terms, count_report=counted)
        else:
            get = project.dictionary.get
            known = {term: entry for term in terms if (entry := get(term)) is not None}
        if project.counted:  # reports stored earlier in this request
            known = {term: (term_id, df + project.counted[term])
                     for term, (term_id, df) in known.items()}
        weights = scoring.query_weights(terms, {term: df for term, (_, df) in known.items()},
                                        project.report_count)
        match = self._top_match(cursor, report.project, project, terms, known, weights)
        top_match = TopMatch(match.database_id, report.project, match.score) if match else None
        if self.dry_run:
            buckets = assign_buckets_dry_run(self.thresholds, match)
        else:
            buckets = assign_buckets(self.thresholds, match)
            self._store(cursor, report, project, terms, known, buckets, match, counted)
        return IngestResult(report.database_id, report.project, report.date, True, buckets,
                            top_match)

    def _top_match(self, cursor, project_name, project, terms, known, weights):
        """The best candidate (namespace: id, database_id, score, buckets) or None."""
        if not weights:
            return None
        query_terms = [QueryTerm(term, weights[term], known[term][1], known[term][0])
                       for term in scoring.top_query_terms(weights, self.query_terms)]
        found = self.find_candidates(cursor, project_name, query_terms, self.candidates)
        if not found:
            return None
        if not isinstance(found, CandidateRows):  # database_ids
            cursor.execute(_CANDIDATES_SQL, (list(found), project.id))
            found = cursor.fetchall()
        self_score = scoring.self_score(weights, terms)
        weight_of = {known[term][0]: weight for term, weight in weights.items()}  # by term id
        best = None
        for row_id, database_id, term_ids, term_counts, norm, buckets in found:
            score = scoring.score_stored(weight_of, self_score, term_ids, term_counts, norm)
            if score > 0 and (best is None or (score, -row_id) > (best.score, -best.id)):
                best = types.SimpleNamespace(id=row_id, database_id=database_id, score=score,
                                             buckets=buckets)
        if best is not None and isinstance(best.buckets, str):  # read as text: parse one
            best.buckets = json.loads(best.buckets)
        return best

    def _store(self, cursor, report, project, terms, known, buckets, match, counted):
        if project.id is None:
            project.id = dictionary.ensure_project(cursor, report.project)
        ordered = sorted(buckets.items())
        cursor.execute(_STORE_SQL, dict(
            dictionary.split_new(terms, known),
            known_ids=[term_id for term_id, _ in known.values()],
            known_counts=[min(terms[term], dictionary.MAX_COUNT) for term in known],
            database_id=report.database_id, project_id=project.id, date=report.date,
            norm=scoring.document_norm(terms),
            top_match_id=match.id if match else None,
            top_match_score=match.score if match else None,
            crash_uuid=report.crash["uuid"] if report.crash is not None else None,
            buckets=json.dumps({format_threshold(t): b for t, b in ordered}),
            document=json.dumps(report.document, ensure_ascii=False, default=str),
            thresholds=[t for t, _ in ordered], bucket_ids=[b for _, b in ordered]))
        stored = cursor.fetchall()
        if project.dictionary is not None:
            project.dictionary.update((field + SEP + token, (term_id, 1))
                                      for _, token, field, term_id in stored if term_id)
        if not stored:
            raise ConcurrentDuplicate(
                f"Report {report.database_id!r} was stored meanwhile by another request; "
                f"retry to get its location", parameter="database_id")
        project.report_count += 1
        if not counted:  # by the lookup
            project.added += 1
            project.counted.update(known.keys())
