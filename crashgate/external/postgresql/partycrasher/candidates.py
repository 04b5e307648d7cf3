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
"""
POSTINGS_BUDGET = 1000  # postings the rare-term search may rank
COMMON_TERMS = 3
COMMON_WINDOW = 5000  # most recent reports the common-term search looks at

_RARE_SQL = """
    SELECT database_id FROM pc_reports
     WHERE term_ids && %(ids)s::int4[]
     ORDER BY icount(term_ids & %(ids)s::int4[]) DESC, id
     LIMIT %(limit)s
"""
_COMMON_SQL = """
    SELECT database_id FROM pc_reports
     WHERE term_ids @> %(ids)s::int4[]
       AND id > (SELECT max(id) FROM pc_reports) - %(window)s
     ORDER BY id DESC
     LIMIT %(limit)s
"""


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


def find_candidates(cursor, project, query_terms, limit):
    """database_ids of up to ``2 * limit`` reports of ``project`` sharing the query's terms."""
    rare, common = split_by_frequency(query_terms)
    found = []
    if rare:
        cursor.execute(_RARE_SQL, {"ids": sorted(rare), "limit": limit})
        found.extend(row[0] for row in cursor.fetchall())
    if common:
        cursor.execute(_COMMON_SQL, {"ids": sorted(common), "limit": limit,
                                     "window": COMMON_WINDOW})
        rows = cursor.fetchall()
        if len(rows) < limit and len(common) > 1:
            cursor.execute(_COMMON_SQL, {"ids": common[:1], "limit": limit,
                                         "window": COMMON_WINDOW})
            rows = cursor.fetchall()
        found.extend(row[0] for row in rows)
    return list(dict.fromkeys(found))
