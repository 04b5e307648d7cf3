"""/crashes/comments, /crashes/frequency, /crashes/paireduuid, /crashes/signatures."""
import datetime

from crashgate.errors import BadArgument
from crashgate.services.base import Service
from crashgate.services.contract import CRASH_ID, DATETIME, INTEGER, Contract, Param
from crashgate.services.defaults import now
from crashgate.services.search_filters import (PERSONAL_FIELDS, crash_filter_params,
                                               paging_params)


class CrashesComments(Service):
    path = "/crashes/comments"
    sensitive_fields = PERSONAL_FIELDS
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
        Param("uuid", CRASH_ID, required=True, doc="crash id"),
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
    # Both periods (up to 2 x 366 days before end_date, its end rounded up) stay in the calendar.
    END_DATES = (datetime.datetime(3, 1, 1, tzinfo=datetime.timezone.utc),
                 datetime.datetime(9999, 12, 30, tzinfo=datetime.timezone.utc))

    def call(self, implementation, method, params, request):
        if not self.END_DATES[0] <= params["end_date"] <= self.END_DATES[1]:
            raise BadArgument("end_date", params["end_date"].isoformat(),
                              "a date from 0003-01-01 to 9999-12-30")
        return super().call(implementation, method, params, request)
