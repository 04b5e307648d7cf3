"""/crashes/comments, /crashes/frequency, /crashes/paireduuid, /crashes/signatures."""
from crashgate.services.base import Service
from crashgate.services.contract import DATETIME, INTEGER, Contract, Param
from crashgate.services.defaults import now
from crashgate.services.search_filters import crash_filter_params, paging_params


class CrashesComments(Service):
    path = "/crashes/comments"
    summary = ("User comments (with e-mail) on crashes with a signature, newest first; "
               "null without a signature.")
    methods = {"GET": Contract(
        Param("signature", doc="exact signature", example="js::GCMarker::processMarkStackTop"),
        *crash_filter_params(), *paging_params(default_number=None))}


class CrashesFrequency(Service):
    path = "/crashes/frequency"
    summary = ("Per build: crashes with the signature (count), all crashes of that build "
               "matching the filters (total) and their ratio, overall and per OS.")
    methods = {"GET": Contract(
        Param("signature", required=True, doc="exact signature"), *crash_filter_params())}


class CrashesPaireduuid(Service):
    path = "/crashes/paireduuid"
    summary = "The other crash(es) of a hang pair (at most one when hangid is given)."
    methods = {"GET": Contract(
        Param("uuid", required=True, doc="crash id"),
        Param("hangid", doc="hang id shared by the pair"))}


class CrashesSignatures(Service):
    path = "/crashes/signatures"
    summary = ("Top crashers of a product version over a period, with ranks and shares "
               "compared to the period before.")
    methods = {"GET": Contract(
        Param("product", required=True, example="Firefox"),
        Param("version", required=True, example="16.0.2"),
        Param("crash_type", choices=("all", "browser", "plugin", "content"), default="all"),
        Param("end_date", DATETIME, aliases=("to_date", "to_from"), default=now,
              doc="end of the period (default: now); rounded up to the end of its day"),
        Param("duration", INTEGER, default=168, minimum=1, maximum=24 * 366,
              doc="length of the period in hours (default 168); rounded up to whole days"),
        Param("os", choices=("windows", "mac", "linux"),
              doc="count only crashes on this OS"),
        Param("limit", INTEGER, default=100, minimum=1, maximum=10000))}
