"""/report/list, /search/crashes, /search/signatures, /signatureurls, /extensions."""
from crashgate.errors import BadArgument
from crashgate.services.base import Service
from crashgate.services.contract import CRASH_ID, DATETIME, Contract, Param, ParamType
from crashgate.services.contract import PRODUCT_VERSION
from crashgate.services.search_filters import (PERSONAL_FIELDS, crash_filter_params,
                                               paging_params, text_search_params)


class ReportList(Service):
    path = "/report/list"
    sensitive_fields = PERSONAL_FIELDS
    summary = "Crash reports with a signature, newest first, paged, with the true total."
    methods = {"GET": Contract(
        Param("signature", required=True, doc="exact signature"),
        *crash_filter_params(), *paging_params())}


class SearchCrashes(Service):
    path = "/search/crashes"
    sensitive_fields = PERSONAL_FIELDS
    summary = "Crashes matching the filters and text search, newest first, paged."
    methods = {"GET": Contract(*text_search_params(), *crash_filter_params(), *paging_params())}


class SearchSignatures(Service):
    path = "/search/signatures"
    summary = ("Signatures of the crashes matching the filters, most frequent first, with "
               "per-OS, hang, plugin and content counts; paged, with the true total.")
    methods = SearchCrashes.methods


def _product_version_or_all(text):
    return "ALL" if text.strip().upper() == "ALL" else PRODUCT_VERSION.parse(text)


VERSION_OR_ALL = ParamType("product_version_or_all", "'Product:Version' or ALL",
                           _product_version_or_all)


class SignatureURLs(Service):
    path = "/signatureurls"
    sensitive_fields = PERSONAL_FIELDS
    summary = "URLs crashes with a signature were reported on, most frequent first (100)."
    methods = {"GET": Contract(
        Param("signature", required=True),
        Param("start_date", DATETIME, required=True),
        Param("end_date", DATETIME, required=True, doc="end of the period (excluded)"),
        Param("products", many=True, required=True, doc="products, or ALL"),
        Param("versions", VERSION_OR_ALL, many=True, required=True,
              doc="Product:Version pairs, or ALL"))}

    def call(self, implementation, method, params, request):
        if params["end_date"] <= params["start_date"]:
            raise BadArgument("end_date", params["end_date"].isoformat(),
                              "a date after start_date")
        products = params["products"]
        params = dict(params,
                      products=None if any(p.upper() == "ALL" for p in products) else products,
                      versions=None if "ALL" in params["versions"] else params["versions"])
        return super().call(implementation, method, params, request)


class Extensions(Service):
    path = "/extensions"
    summary = "Extensions installed when a crash happened (uuid and exact date_processed)."
    methods = {"GET": Contract(
        Param("uuid", CRASH_ID, required=True),
        Param("date", DATETIME, required=True, doc="the crash's exact date_processed"))}
