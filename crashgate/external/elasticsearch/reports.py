"""/report/list, /search/crashes, /search/signatures, /signatureurls, /extensions on
Elasticsearch; answers equal to the PostgreSQL implementations'."""
import datetime

from crashgate.external.elasticsearch.backend import ElasticsearchImplementation
from crashgate.external.elasticsearch.search import (NEWEST_FIRST, all_of,
                                                     build_query, count_and_hits, counts,
                                                     date_range, exists, groups, most_frequent,
                                                     parse_date, product_versions, term, terms)
from crashgate.services.search_filters import PLATFORMS

# The row of a crash, in the order of postgresql.reports.REPORT_COLUMNS.
REPORT_FIELDS = ("uuid", "date_processed", "client_crash_date", "product", "version", "build",
                 "release_channel", "signature", "reason", "address", "os_name", "os_version",
                 "cpu_name", "cpu_info", "url", "user_comments", "uptime", "install_age",
                 "last_crash", "hangid", "process_type", "duplicate_of")
DATE_FIELDS = ("date_processed", "client_crash_date")
MAX_URLS = 100  # /signatureurls answers the most frequent URLs only
SIGNATURE_COUNTS = counts(
    **{f"is_{platform}": term("os_name", name) for platform, name, _ in PLATFORMS},
    numhang=exists("hangid"), numplugin=term("process_type", "plugin"),
    numcontent=term("process_type", "content"))


def report_row(source):
    """The /report/list row of a crash ``_source``."""
    row = {field: source.get(field) for field in REPORT_FIELDS}
    for field in DATE_FIELDS:
        row[field] = parse_date(row[field])
    crashed, age = row["client_crash_date"], row["install_age"]
    row["install_time"] = None if crashed is None or age is None \
        else crashed - datetime.timedelta(seconds=age)
    return row


class SearchCrashes(ElasticsearchImplementation):
    def get(self, result_number, result_offset, signature=None, **filters):
        query = build_query(self.backend, filters, signature=signature)
        total, hits = count_and_hits(self.searcher(filters["from_date"], filters["to_date"]),
                                     query, NEWEST_FIRST, REPORT_FIELDS, result_number,
                                     result_offset)
        return {"hits": [report_row(hit["_source"]) for hit in hits], "total": total}


class ReportList(SearchCrashes):
    """/report/list is /search/crashes for one exact signature."""


class SearchSignatures(ElasticsearchImplementation):
    def get(self, result_number, result_offset, **filters):
        total, page = most_frequent(
            groups(self.searcher(filters["from_date"], filters["to_date"]),
                   build_query(self.backend, filters), ["signature"], aggs=SIGNATURE_COUNTS),
            "signature", result_number, result_offset)
        return {"hits": [{"signature": b["key"]["signature"], "count": b["doc_count"],
                          **{name: b[name]["doc_count"] for name in SIGNATURE_COUNTS}}
                         for b in page], "total": total}


class SignatureURLs(ElasticsearchImplementation):
    def get(self, signature, start_date, end_date, products, versions):
        clauses = [term("signature", signature), date_range(start_date, end_date)]
        if products is not None:
            clauses.append(terms("product", products))
        if versions is not None:
            clauses.append(product_versions(versions))
        query = all_of(*clauses, none_of=[term("url", "")])
        _, top = most_frequent(groups(self.searcher(start_date, end_date), query, ["url"]), "url",
                               MAX_URLS)
        hits = [{"url": b["key"]["url"], "crash_count": b["doc_count"]} for b in top]
        return {"hits": hits, "total": len(hits)}


class Extensions(ElasticsearchImplementation):
    def get(self, uuid, date):
        try:
            until = date + datetime.timedelta(milliseconds=1)
        except OverflowError:  # the last millisecond of the calendar
            until = date
        found = self.search(date, until, {
            "query": term("uuid", uuid), "size": 1, "track_total_hits": False,
            "_source": ["report_id", "date_processed", "extensions"]})["hits"]["hits"]
        source = found[0]["_source"] if found else {}
        if not found or parse_date(source["date_processed"]) != date:
            return {"hits": [], "total": 0}
        hits = [{"report_id": source["report_id"], "date_processed": date,
                 "extension_key": e["extension_key"], "extension_id": e["extension_id"],
                 "extension_version": e["extension_version"]}
                for e in sorted(source["extensions"], key=lambda e: e["extension_key"])]
        return {"hits": hits, "total": len(hits)}
