"""Reads of PartyCrasher reports and buckets, and delete-all.

Results are plain dicts with datetimes, Decimal thresholds and TopMatch; the services add
hrefs. A report dict: ``{database_id, project, date, stored_at, document, buckets:
{Decimal: bucket id}, top_match: TopMatch | None, crash_uuid}``.

``q`` (top buckets, search): whitespace-separated parts, all of which must match (AND). A part
``field.path:value`` matches reports with ``value``'s tokens in that field (exact field path,
e.g. ``stacktrace.function:drawControl``); any other part matches its tokens in any field.
Parts are tokenised with the configured tokenizer and every token must be present; a part
yielding no token (e.g. only punctuation) is ignored.
"""
import re

from psycopg2 import sql

from crashgate.bucketing import scoring
from crashgate.bucketing.features import report_terms
from crashgate.external.postgresql.partycrasher import terms as dictionary
from crashgate.external.postgresql.partycrasher.pipeline import TopMatch, parse_buckets
from crashgate.external.postgresql.pool import dict_rows

_FIELD_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*):(?!:)(.+)", re.S)

_REPORT_COLUMNS = sql.SQL("""
    r.id, r.database_id, p.name AS project, r.date, r.stored_at, r.document, r.buckets,
    r.crash_uuid, r.norm, r.top_match_score, tm.database_id AS top_match_id,
    tmp.name AS top_match_project""")
_REPORT_JOINS = sql.SQL("""
      JOIN pc_projects p ON p.id = r.project_id
      LEFT JOIN pc_reports tm ON tm.id = r.top_match_id
      LEFT JOIN pc_projects tmp ON tmp.id = tm.project_id""")


def _report(row):
    match = (TopMatch(row["top_match_id"], row["top_match_project"],
                      float(row["top_match_score"])) if row["top_match_id"] else None)
    return {"database_id": row["database_id"], "project": row["project"], "date": row["date"],
            "stored_at": row["stored_at"], "document": row["document"],
            "buckets": parse_buckets(row["buckets"]), "top_match": match,
            "crash_uuid": row["crash_uuid"]}


def _project_filter(column, project):
    if project is None:
        return sql.SQL("")
    return sql.SQL(" AND {} = (SELECT id FROM pc_projects WHERE name = %(project)s)").format(
        sql.SQL(column))


def _fetch_report_row(cursor, database_id, project):
    cursor.execute(sql.SQL("SELECT {} FROM pc_reports r {} WHERE r.database_id = %(id)s{}")
                   .format(_REPORT_COLUMNS, _REPORT_JOINS,
                           _project_filter("r.project_id", project)),
                   {"id": database_id, "project": project})
    return _one(cursor)


def get_report(cursor, database_id, project=None):
    """The report dict, or None when it is not stored (in ``project``, if given)."""
    row = _fetch_report_row(cursor, database_id, project)
    return _report(row) if row else None


def bucket_page(cursor, threshold, bucket_id, project, offset, size):
    """``{id, threshold, project, total, reports}`` (report dicts, newest first), or None when
    the bucket has no report (in ``project``, if given)."""
    where = sql.SQL("m.threshold = %(threshold)s AND m.bucket_id = %(bucket_id)s{}").format(
        _project_filter("m.project_id", project))
    params = {"threshold": threshold, "bucket_id": bucket_id, "offset": offset, "size": size,
              "project": project}
    cursor.execute(sql.SQL("SELECT count(*) AS total, min(m.project_id) AS project_id "
                           "FROM pc_bucket_members m WHERE {}").format(where), params)
    head = _one(cursor)
    if not head["total"]:
        return None
    cursor.execute(sql.SQL("""
        SELECT {} FROM pc_bucket_members m JOIN pc_reports r ON r.id = m.report_id {}
         WHERE {} ORDER BY m.date DESC, m.report_id DESC
         LIMIT %(size)s OFFSET %(offset)s""").format(_REPORT_COLUMNS, _REPORT_JOINS, where),
        params)
    rows = _all(cursor)
    cursor.execute("SELECT name FROM pc_projects WHERE id = %s", (head["project_id"],))
    return {"id": bucket_id, "threshold": threshold, "project": cursor.fetchone()[0],
            "total": head["total"], "reports": [_report(row) for row in rows]}


def _range(column, since, until):
    parts = []
    if since is not None:
        parts.append(sql.SQL(" AND {} > %(since)s").format(sql.SQL(column)))
    if until is not None:
        parts.append(sql.SQL(" AND {} < %(until)s").format(sql.SQL(column)))
    return sql.Composed(parts)


def top_buckets(cursor, tokenize, threshold, project, since, until, offset, size, q=None):
    """``{total, buckets: [{bucket_id, project, total, first_seen, last_seen}]}``: buckets at
    ``threshold`` by number of reports dated strictly between ``since`` and ``until`` (either
    may be None), most reports first; ``total`` counts every such bucket."""
    match = _q_filter(cursor, tokenize, q, project)
    if match is False:
        return {"total": 0, "buckets": []}
    params = {"threshold": threshold, "size": size, "offset": offset, "project": project,
              "since": since, "until": until, "match": match}
    filters = _project_filter("m.project_id", project) + _range("m.date", since, until)
    if match is not None:
        filters += sql.SQL(" AND m.report_id IN (SELECT id FROM pc_reports "
                           "WHERE term_ids @@ %(match)s::query_int)")
    cursor.execute(sql.SQL("""
        SELECT m.bucket_id AS id, min(m.project_id) AS project_id, count(*) AS total,
               min(m.date) AS first_seen, max(m.date) AS last_seen,
               count(*) OVER () AS buckets
          FROM pc_bucket_members m
         WHERE m.threshold = %(threshold)s{}
         GROUP BY m.bucket_id
         ORDER BY total DESC, last_seen DESC, m.bucket_id
         LIMIT %(size)s OFFSET %(offset)s""").format(filters), params)
    rows = _all(cursor)
    if not rows and offset:  # past the last page: count the buckets on their own
        cursor.execute(sql.SQL("SELECT count(DISTINCT m.bucket_id) AS buckets "
                               "FROM pc_bucket_members m WHERE m.threshold = %(threshold)s{}"
                               ).format(filters), params)
        total = cursor.fetchone()[0]
    else:
        total = rows[0]["buckets"] if rows else 0
    names = _project_names(cursor, {row["project_id"] for row in rows})
    return {"total": total, "buckets": [
        {"bucket_id": row["id"], "project": names[row["project_id"]], "total": row["total"],
         "first_seen": row["first_seen"], "last_seen": row["last_seen"]} for row in rows]}


def _project_names(cursor, ids):
    if not ids:
        return {}
    cursor.execute("SELECT id, name FROM pc_projects WHERE id = ANY(%s)", (sorted(ids),))
    return dict(cursor.fetchall())


def search(cursor, tokenize, project, q, since, until, offset, size):
    """``{total, reports}``: reports (of ``project`` if given) matching ``q`` and dated
    strictly between ``since`` and ``until``, newest first."""
    match = _q_filter(cursor, tokenize, q, project)
    if match is False:
        return {"total": 0, "reports": []}
    params = {"size": size, "offset": offset, "project": project, "since": since,
              "until": until, "match": match}
    filters = _project_filter("r.project_id", project) + _range("r.date", since, until)
    if match is not None:
        filters += sql.SQL(" AND r.term_ids @@ %(match)s::query_int")
    cursor.execute(sql.SQL("""
        SELECT {}, count(*) OVER () AS total FROM pc_reports r {} WHERE true{}
         ORDER BY r.date DESC, r.id DESC LIMIT %(size)s OFFSET %(offset)s""").format(
        _REPORT_COLUMNS, _REPORT_JOINS, filters), params)
    rows = _all(cursor)
    if rows:
        total = rows[0]["total"]
    else:
        cursor.execute(sql.SQL("SELECT count(*) AS total FROM pc_reports r WHERE true{}")
                       .format(filters), params)
        total = cursor.fetchone()[0]
    return {"total": total, "reports": [_report(row) for row in rows]}


def parse_q(q, tokenize):
    """``[(field or None, token), ...]``: the tokens ``q`` requires (see the module doc)."""
    required = []
    for part in (q or "").split():
        field_part = _FIELD_PART.fullmatch(part)
        field, value = (field_part.group(1), field_part.group(2)) if field_part else (None, part)
        required.extend((field, token) for token in tokenize(value))
    return required


def _q_filter(cursor, tokenize, q, project):
    """An intarray ``query_int`` text for ``q``; None without q; False when ``q`` cannot
    match (a token absent from the dictionary)."""
    required = parse_q(q, tokenize)
    if not required:
        return None
    project_id = None
    if project is not None:
        project_id = dictionary.project_state(cursor, project)[0]
        if project_id is None:
            return False
    clauses = []
    for field, token in dict.fromkeys(required):
        ids = dictionary.token_ids(cursor, project_id, token, field)
        if not ids:
            return False
        clauses.append("(" + "|".join(str(int(term_id)) for term_id in ids) + ")")
    return "&".join(clauses)


def _all(cursor):
    """The fetched rows as dicts keyed by column name."""
    return dict_rows(cursor, cursor.fetchall())


def _one(cursor):
    rows = _all(cursor)
    return rows[0] if rows else None


# -- similarity explained ------------------------------------------------------------------
def _similarity(cursor, tokenize, query_row, other_row):
    """Score and explain rows of ``other_row`` as a match for ``query_row`` (both report rows),
    with the query report's project's current statistics."""
    query_terms = report_terms(query_row["document"], tokenize)
    other_terms = report_terms(other_row["document"], tokenize)
    project_id, n_docs = dictionary.project_state(cursor, query_row["project"])
    known = dictionary.lookup(cursor, project_id, query_terms)
    weights = scoring.query_weights(query_terms, {t: df for t, (_, df) in known.items()},
                                    n_docs)
    self_score = scoring.self_score(weights, query_terms)
    norm = scoring.document_norm(other_terms)
    return (scoring.score(weights, self_score, other_terms, norm),
            scoring.explain(weights, self_score, other_terms, norm))


def compare(cursor, tokenize, database_id, other_id, project=None):
    """``{database_id, other_id, project, other_project, score, terms, reverse_score,
    reverse_terms, shared_buckets}``, or ``{missing: id}`` naming a report that is not stored
    (``database_id`` must be in ``project`` if given). ``score``/``terms``: ``other_id`` as a match for
    ``database_id`` (as if ``database_id`` were posted now); ``reverse_*`` the other way;
    ``shared_buckets``: {threshold: bucket id} where both reports are in the same bucket."""
    row = _fetch_report_row(cursor, database_id, project)
    if row is None:
        return {"missing": database_id}
    other = _fetch_report_row(cursor, other_id, None)
    if other is None:
        return {"missing": other_id}
    score, terms = _similarity(cursor, tokenize, row, other)
    reverse_score, reverse_terms = _similarity(cursor, tokenize, other, row)
    shared = {t: b for t, b in parse_buckets(row["buckets"]).items()
              if b is not None and parse_buckets(other["buckets"]).get(t) == b}
    return {"database_id": database_id, "other_id": other_id, "project": row["project"],
            "other_project": other["project"], "score": score, "terms": terms,
            "reverse_score": reverse_score, "reverse_terms": reverse_terms,
            "shared_buckets": shared}


def summary(cursor, tokenize, database_id, project=None):
    """``{database_id, project, top_match, score, terms}`` or None when the report is missing:
    why it was bucketed with its top match (``top_match.score``: the score when it was
    stored; ``score`` and ``terms``: the match explained with today's statistics)."""
    row = _fetch_report_row(cursor, database_id, project)
    if row is None:
        return None
    result = {"database_id": database_id, "project": row["project"],
              "top_match": _report(row)["top_match"], "score": None, "terms": []}
    if row["top_match_id"]:
        match = _fetch_report_row(cursor, row["top_match_id"], None)
        result["score"], result["terms"] = _similarity(cursor, tokenize, row, match)
    return result


def delete_all(cursor):
    """Delete every PartyCrasher report, bucket and term; returns how many reports there
    were. Crashes stored from reports stay in the crash tables (their aggregates count them)."""
    cursor.execute("LOCK TABLE pc_reports IN ACCESS EXCLUSIVE MODE")
    cursor.execute("SELECT count(*) AS reports FROM pc_reports")
    count = cursor.fetchone()[0]
    cursor.execute("TRUNCATE pc_bucket_members, pc_reports, pc_terms, pc_projects "
                   "RESTART IDENTITY")
    return count
