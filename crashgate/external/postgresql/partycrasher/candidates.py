"""The PostgreSQL candidate finder: stored reports of the same project worth scoring exactly.

Term ids are unique across projects, so any report sharing a term id is of the same project.
Two searches over the GIN postings of ``pc_reports.term_ids``, merged:

- rare terms: the query terms, most discriminative first, while the sum of their document
  frequencies stays within ``POSTINGS_BUDGET``; reports sharing the most of them, ranked in
  SQL by the number shared (intarray ``icount(a & b)``), earliest first on ties;
- common terms (the rest, whose posting lists are too long to rank): the newest reports that
  hold the ``COMMON_TERMS`` most discriminative of them all, so a report of a large bucket
  still finds recent members of that bucket (falling back to the single most discriminative
  common term when fewer reports hold them all); only the last ``COMMON_WINDOW`` reports
  stored (all projects) are searched, so the cost stays bounded as the corpus grows.

Both searches and the candidates' rows are one statement (one round trip).
"""
from crashgate.external.postgresql.partycrasher.pipeline import CandidateRows

POSTINGS_BUDGET = 1000  # postings the rare-term search may rank
COMMON_TERMS = 3
COMMON_WINDOW = 5000  # most recent reports the common-term search looks at

# The searches, each a CTE of candidate ids; the statement returns the candidates' rows.
_RARE = """rare AS (
    SELECT id FROM pc_reports
     WHERE term_ids && %(rare)s::int4[]
     ORDER BY icount(term_ids & %(rare)s::int4[]) DESC, id
     LIMIT %(limit)s)"""
_COMMON = """common_all AS (
    SELECT id FROM pc_reports
     WHERE term_ids @> %(common)s::int4[]
       AND id > (SELECT max(id) FROM pc_reports) - %(window)s
     ORDER BY id DESC
     LIMIT %(limit)s)"""
# Fewer than ``limit`` reports hold all the common terms: those holding the first one instead.
_COMMON_FALLBACK = """common_first AS (
    SELECT id FROM pc_reports
     WHERE (SELECT count(*) FROM common_all) < %(limit)s
       AND term_ids @> %(first)s::int4[]
       AND id > (SELECT max(id) FROM pc_reports) - %(window)s
     ORDER BY id DESC
     LIMIT %(limit)s),
common AS (
    SELECT id FROM common_first
    UNION ALL
    SELECT id FROM common_all WHERE NOT EXISTS (SELECT FROM common_first))"""
_ROWS = """
    SELECT id, database_id, term_ids, term_counts, norm, buckets::text
      FROM pc_reports WHERE id IN ({})"""


def split_by_frequency(query_terms, budget=None):
    """``(rare ids, common ids)`` of ``query_terms`` (QueryTerm, most discriminative first)."""
    budget = POSTINGS_BUDGET if budget is None else budget
    rare, common, postings = [], [], 0
    for term in query_terms:
        if term.term_id is None:
            continue
        if not common and postings + term.df <= budget:
            rare.append(term.term_id)
            postings += term.df
        else:
            common.append(term.term_id)
    return rare, common[:COMMON_TERMS]


def _search_sql(rare, common):
    """The statement for a query with (or without) rare and common terms."""
    searches, sources = [], []
    if rare:
        searches.append(_RARE)
        sources.append("SELECT id FROM rare")
    if common:
        searches.append(_COMMON)
        if len(common) > 1:
            searches.append(_COMMON_FALLBACK)
            sources.append("SELECT id FROM common")
        else:
            sources.append("SELECT id FROM common_all")
    return "WITH " + ",\n".join(searches) + _ROWS.format(" UNION ".join(sources))


_STATEMENTS = {(rare, common): _search_sql(rare, ["x"] * common)
               for rare in (False, True) for common in (0, 1, 2)}


def find_candidates(cursor, project, query_terms, limit):
    """CandidateRows of up to ``2 * limit`` reports of ``project`` sharing the query's terms, in
    one statement (term ids belong to one project, so every report found is of ``project``)."""
    rare, common = split_by_frequency(query_terms)
    if not rare and not common:
        return CandidateRows()
    cursor.execute(_STATEMENTS[bool(rare), min(len(common), 2)],
                   {"rare": sorted(rare), "common": sorted(common), "first": common[:1],
                    "limit": limit, "window": COMMON_WINDOW})
    return CandidateRows(cursor.fetchall())
