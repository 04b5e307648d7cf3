"""The crash filters shared by every search-like service, declared once.

``/crashes/comments``, ``/crashes/frequency``, ``/report/list`` and ``/search/*`` all take
these; each backend turns the coerced values into one query with one builder.
"""
from crashgate.services.contract import DATETIME, INTEGER, PRODUCT_VERSION, Param
from crashgate.services.defaults import days_ago, now

SEARCH_MODES = ("default", "is_exactly", "contains", "starts_with")
REPORT_PROCESSES = ("any", "browser", "plugin", "content")
REPORT_TYPES = ("any", "crash", "hang")
PLUGIN_FIELDS = ("name", "filename")
# Text fields ``for`` can search in; ``dump`` is Socorro's name for the stack.
SEARCH_FIELDS = ("signature", "reason", "url", "user_comments", "frames", "dump")
# Personal data of a crash (docs/crash-format.md): left out of answers, and out of the text
# search, for callers without the 'pii' scope (middleware/access.py).
PERSONAL_FIELDS = frozenset(("url", "email", "user_comments"))

# Text terms of one search: each is a substring match in every field searched.
TEXT_TERMS = 50
# os values: an id, a short name or the full os_name, case-insensitive -> the stored os_name.
PLATFORMS = (
    ("windows", "Windows NT", ("windows", "win", "windows nt")),
    ("mac", "Mac OS X", ("mac", "macos", "mac os x", "osx")),
    ("linux", "Linux", ("linux", "lin")),
)
OS_NAMES = {alias: name for _, name, aliases in PLATFORMS for alias in aliases}


def os_name(value):
    """The stored os_name for an ``os`` value; unknown values are taken literally."""
    return OS_NAMES.get(value.strip().lower(), value.strip())


def versions_param(doc="Product:Version pairs (several separated by '+')"):
    return Param("versions", PRODUCT_VERSION, many=True, default=[], doc=doc,
                 example="Firefox:16.0.2")


def date_range_params():
    return [
        Param("from_date", DATETIME, aliases=("from",), default=days_ago(7),
              doc="crashes processed at or after this moment (default: now - 7 days)",
              example="2012-11-01"),
        Param("to_date", DATETIME, aliases=("to",), default=now,
              doc="crashes processed before this moment (default: now)"),
    ]


def crash_filter_params():
    """Filters narrowing which crashes count (no text search, no paging)."""
    return date_range_params() + [
        Param("products", many=True, default=[], doc="product names (several with '+')",
              example="Firefox"),
        versions_param("Product:Version pairs, with release-channel semantics"),
        Param("os", many=True, default=[],
              doc="operating systems: windows/win, mac, linux or an os_name"),
        Param("branches", many=True, default=[], doc="product branches (major versions)"),
        Param("reasons", many=True, default=[], doc="crash reasons"),
        Param("build_ids", INTEGER, many=True, default=[], doc="build ids"),
        Param("build_from", INTEGER, doc="build id at least this"),
        Param("build_to", INTEGER, doc="build id at most this"),
        Param("report_process", choices=REPORT_PROCESSES, default="any",
              doc="any, browser (no process type), plugin or content"),
        Param("report_type", choices=REPORT_TYPES, default="any",
              doc="any, crash (no hang id) or hang"),
        Param("plugin_in", many=True, choices=PLUGIN_FIELDS, default=["name"],
              doc="plugin fields plugin_terms search (report_process plugin)"),
        Param("plugin_search_mode", choices=SEARCH_MODES, default="default",
              doc="how plugin_terms match"),
        Param("plugin_terms", many=True, default=[], max_items=TEXT_TERMS,
              doc="plugin terms"),
    ]


def text_search_params():
    return [
        Param("terms", aliases=("for",), many=True, default=[], max_items=TEXT_TERMS,
              doc="terms to search for (any of them matches)"),
        Param("fields", aliases=("in",), many=True, choices=SEARCH_FIELDS,
              sensitive=tuple(f for f in SEARCH_FIELDS if f in PERSONAL_FIELDS),
              default=["signature", "reason", "url", "user_comments", "frames"],
              doc="fields the terms are searched in (default: all; url and user_comments "
                  "need the pii scope when tokens are configured, else the default omits "
                  "them)"),
        Param("search_mode", choices=SEARCH_MODES, default="default",
              doc="default (= contains), is_exactly, contains, starts_with"),
    ]


def paging_params(default_number=100):
    return [
        Param("result_number", INTEGER, default=default_number, minimum=0, maximum=10000,
              doc="number of results"),
        Param("result_offset", INTEGER, default=0, minimum=0, doc="offset of the first result"),
    ]
