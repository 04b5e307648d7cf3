"""/crashes/comments, /crashes/frequency, /crashes/paireduuid on Elasticsearch; answers equal
to the PostgreSQL implementations'."""
import datetime

from crashgate.external.elasticsearch.backend import ElasticsearchImplementation
from crashgate.external.elasticsearch.search import (NEWEST_FIRST, OLDEST_FIRST, all_of,
                                                     build_query, count_and_hits, counts, date_range, exists, groups,
                                                     parse_date, sorted_hits, term, terms)
from crashgate.external.postgresql.crashes import date_in_uuid, with_frequencies
from crashgate.services.search_filters import PLATFORMS

MAX_TERMS = 10000  # builds per terms query (index.max_terms_count is 65536)


class CrashesComments(ElasticsearchImplementation):
    def get(self, signature, result_number, result_offset, **filters):
        if signature is None:
            return None
        # .lower holds every comment, even those too long for the keyword field itself
        query = all_of(build_query(self.backend, filters, signature=signature),
                       exists("user_comments.lower"), none_of=[term("user_comments.lower", "")])
        total, hits = count_and_hits(
            self.searcher(filters["from_date"], filters["to_date"]), query, NEWEST_FIRST,
            ["date_processed", "user_comments", "uuid", "email"], result_number, result_offset)
        return {"hits": [{"date_processed": parse_date(s["date_processed"]),
                          "user_comments": s["user_comments"], "uuid": s["uuid"],
                          "email": s.get("email") or None}
                         for s in (hit["_source"] for hit in hits)], "total": total}


class CrashesFrequency(ElasticsearchImplementation):
    def get(self, signature, **filters):
        search = self.searcher(filters["from_date"], filters["to_date"])
        query = build_query(self.backend, filters)
        signed = term("signature", signature)
        builds = [b["key"]["build"] for b in groups(search, all_of(query, signed), ["build"])]
        aggs = counts(count=signed)
        for platform, name, _ in PLATFORMS:
            on_os = term("os_name", name)
            aggs.update(counts(**{f"count_{platform}": all_of(signed, on_os),
                                  f"total_{platform}": on_os}))
        rows = []
        for first in range(0, len(builds), MAX_TERMS):
            chunk = all_of(query, terms("build", builds[first:first + MAX_TERMS]))
            rows += [{"build_date": b["key"]["build"], "total": b["doc_count"],
                      **{name: b[name]["doc_count"] for name in aggs}}
                     for b in groups(search, chunk, ["build"], aggs)]
        rows.sort(key=lambda row: row["build_date"], reverse=True)
        hits = [with_frequencies(row) for row in rows]
        return {"hits": hits, "total": len(hits)}


class CrashesPaireduuid(ElasticsearchImplementation):
    """The other crashes of a hang: same hangid, processed within a day of this one."""

    def get(self, uuid, hangid):
        found = self.search_all({"query": term("uuid", uuid), "size": 1, "track_total_hits": False,
                                 "_source": ["date_processed", "hangid"]})["hits"]["hits"]
        crash = found[0]["_source"] if found else None
        moment = parse_date(crash["date_processed"]) if crash else date_in_uuid(uuid)
        pair_hangid = hangid or (crash["hangid"] if crash else None)
        if moment is None or not pair_hangid:
            return {"hits": [], "total": 0}
        start, end = moment - datetime.timedelta(days=1), moment + datetime.timedelta(days=1)
        query = all_of(term("hangid", pair_hangid), date_range(start, end),
                       none_of=[term("uuid", uuid)])
        # With an explicit hangid the spec promises at most one result.
        hits = sorted_hits(self.searcher(start, end), query, OLDEST_FIRST, ["uuid"],
                           number=1 if hangid else None)
        return {"hits": [{"uuid": hit["_source"]["uuid"]} for hit in hits], "total": len(hits)}
