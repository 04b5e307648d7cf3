"""The per-project term dictionary (``pc_terms``, ``pc_projects``) and compact term arrays.

A term is ``field SEP token`` (crashgate.bucketing.features); the dictionary stores the two
parts, an integer id and the document frequency. A stored report keeps its terms as sorted
term ids with aligned counts. Writes happen under the project's advisory lock (pipeline).
"""
from crashgate.bucketing.features import SEP, split_term

MAX_COUNT = 32767  # term counts are stored as int2

_PROJECT_SQL = "SELECT id, report_count FROM pc_projects WHERE name = %s"

_LOOKUP_SQL = """
    SELECT t.token, t.field, t.id, t.df
      FROM unnest(%(tokens)s::text[], %(fields)s::text[]) AS q (token, field)
      JOIN pc_terms t ON t.project_id = %(project_id)s AND t.token = q.token
                     AND t.field = q.field
"""

# The lookup of a request storing one report: the df of its known terms and the project's
# report count are counted at once (before the increment, as the lookup returns them).
_LOOKUP_COUNTING_SQL = """
    WITH counted AS (
        UPDATE pc_projects SET report_count = report_count + 1 WHERE id = %(project_id)s)
    UPDATE pc_terms t SET df = t.df + 1
      FROM unnest(%(tokens)s::text[], %(fields)s::text[]) AS q (token, field)
     WHERE t.project_id = %(project_id)s AND t.token = q.token AND t.field = q.field
    RETURNING t.token, t.field, t.id, t.df - 1
"""

_COUNT_SQL = """
    UPDATE pc_terms t SET df = t.df + q.added
      FROM unnest(%(tokens)s::text[], %(fields)s::text[], %(added)s::int4[])
           AS q (token, field, added)
     WHERE t.project_id = %(project_id)s AND t.token = q.token AND t.field = q.field
"""


def project_state(cursor, project):
    """``(project_id, report_count)``; ``(None, 0)`` for a project without reports."""
    cursor.execute(_PROJECT_SQL, (project,))
    row = cursor.fetchone()
    return (row[0], row[1]) if row else (None, 0)


def ensure_project(cursor, project):
    """The project's id, creating its row if needed."""
    cursor.execute("INSERT INTO pc_projects (name) VALUES (%s) ON CONFLICT (name) DO NOTHING",
                   (project,))
    return project_state(cursor, project)[0]


_COUNT_REPORTS_SQL = """
    WITH counted AS (
        UPDATE pc_projects SET report_count = report_count + %(reports)s
         WHERE id = %(project_id)s)
"""


def count_stored(cursor, project_id, reports_added, terms_added):
    """Add ``reports_added`` to the project's report count and ``terms_added`` (``{term:
    reports}``) to the df of its stored terms, in one statement, in key order (one update per
    term and request: repeated updates of a row within one transaction would leave a chain of
    row versions to walk)."""
    rows = sorted(split_term(term)[::-1] + (count,) for term, count in terms_added.items())
    cursor.execute(_COUNT_REPORTS_SQL + _COUNT_SQL, {
        "reports": reports_added, "project_id": project_id, "tokens": [r[0] for r in rows],
        "fields": [r[1] for r in rows], "added": [r[2] for r in rows]})


def _split(terms):
    # (token, field) in a fixed order; term.partition(SEP)[::-2] is split_term(term)[::-1]
    pairs = sorted([term.partition(SEP)[::-2] for term in terms])
    return {"tokens": [token for token, _ in pairs], "fields": [field for _, field in pairs]}


def lookup(cursor, project_id, terms, count_report=False):
    """``{term: (term_id, df)}`` of the ``terms`` the project's dictionary holds. With
    ``count_report`` (the report will be stored), also adds one to their df and to the
    project's report count (``count_stored`` is then not needed for this report)."""
    if project_id is None or not (terms or count_report):
        return {}
    cursor.execute(_LOOKUP_COUNTING_SQL if count_report else _LOOKUP_SQL,
                   dict(_split(terms), project_id=project_id))
    return {field + SEP + token: (term_id, df) for token, field, term_id, df in cursor.fetchall()}


def split_new(terms, known):
    """``{tokens, fields, counts}`` arrays of the terms not in ``known``, in (token, field)
    order."""
    rows = sorted(split_term(term)[::-1] + (min(count, MAX_COUNT),)
                  for term, count in terms.items() if term not in known)
    return {"new_tokens": [row[0] for row in rows], "new_fields": [row[1] for row in rows],
            "new_counts": [row[2] for row in rows]}


_TOKEN_IDS_SQL = """
    SELECT t.id FROM pc_terms t
     WHERE t.token = %(token)s
       AND (%(field)s::text IS NULL OR t.field = %(field)s)
       AND (%(project_id)s::int IS NULL OR t.project_id = %(project_id)s)
"""


def token_ids(cursor, project_id, token, field=None):
    """Ids of the dictionary terms with ``token`` (in ``field`` if given, in the project if
    given)."""
    cursor.execute(_TOKEN_IDS_SQL, {"token": token, "field": field, "project_id": project_id})
    return [row[0] for row in cursor.fetchall()]
