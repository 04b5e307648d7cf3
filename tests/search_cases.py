"""One small crash set and the answers every backend must give for the shared search filters.

Used by the PostgreSQL acceptance tests and the Elasticsearch service tests alike, so both
backends are held to the same cases.
"""
from tests.factories import crash_doc, products_doc, version


def search_crash_set(when):
    """(crash documents processed at ``when``, products document)."""
    products = products_doc(
        version("WaterWolf", "1.0", "Release"),
        version("WaterWolf", "3.0b2", "Beta", builds=["20001212010203"], major="3.0"),
        version("WaterWolf", "4.0a1", "Nightly"))
    windows = dict(os_name="Windows NT", build="20001212010203", reason="STACK_OVERFLOW")
    docs = [
        crash_doc(when, "sig1", product="WaterWolf", version="1.0", **windows),
        crash_doc(when, "sig2", product="WaterWolf", version="3.0b2", release_channel="beta",
                  **windows),
        crash_doc(when, "sig2", product="WaterWolf", version="3.0", release_channel="beta",
                  **windows),
        crash_doc(when, "sig3", product="WaterWolf", version="1.0", release_channel="beta",
                  **windows),
        crash_doc(when, "sig1", product="WaterWolf", version="1.0", os_name="Linux",
                  build="20001212010204", reason="SIGSEGV", hangid="h1"),
        crash_doc(when, "sig1", product="WaterWolf", version="1.0", hangid="h1",
                  process_type="plugin", plugin={"name": "Shockwave Flash",
                                                 "filename": "NPSWF32.dll", "version": "11"},
                  **windows),
        crash_doc(when, "sig1", product="WaterWolf", version="4.0a1", release_channel="nightly",
                  process_type="content", url="http://a.example/sig2", **windows),
        crash_doc(when, "Foo::Bar", product="Firefox", version="16.0",
                  user_comments="crashed on sig3 again", reason="SIGSEGV",
                  build="20121024073032"),
        crash_doc(when, "100%_*?\\", product="Other", version="1", build="x1"),
    ]
    return docs, products


def frequency_crash_set(when):
    """Crashes of the /crashes/frequency cases, processed at ``when``: signature js in builds
    2012033116 (Windows, Linux) and 2012033117 (Windows); blah in 2012033117."""
    return [
        crash_doc(when, "js", build="2012033116", os_name="Windows NT"),
        crash_doc(when, "js", build="2012033116", os_name="Linux"),
        crash_doc(when, "js", build="2012033117", os_name="Windows NT"),
        crash_doc(when, "blah", build="2012033117", os_name="Unknown"),
    ]


# /crashes/frequency/signature/js/ on frequency_crash_set: per build, its js crashes (count)
# among all its crashes (total), and the same per OS.
FREQUENCY_OF_JS = {"total": 2, "hits": [
    {"build_date": "2012033117", "count": 1, "total": 2, "frequency": 0.5,
     "count_windows": 1, "frequency_windows": 1.0, "count_mac": 0, "frequency_mac": 0.0,
     "count_linux": 0, "frequency_linux": 0.0},
    {"build_date": "2012033116", "count": 2, "total": 2, "frequency": 1.0,
     "count_windows": 1, "frequency_windows": 1.0, "count_mac": 0, "frequency_mac": 0.0,
     "count_linux": 1, "frequency_linux": 1.0}]}


# (path tail after /search/signatures/, expected {signature: count})
FILTER_CASES = [
    ("versions/WaterWolf:1.0/", {"sig1": 3}),
    ("versions/waterwolf:3.0b2/", {"sig2": 2}),
    ("versions/WaterWolf:4.0a1/", {"sig1": 1}),
    ("versions/WaterWolf:3.0/", {"sig2": 1}),  # unknown version: product and version only
    ("os/linux/", {"sig1": 1}),
    ("os/Windows+mac/products/WaterWolf/", {"sig1": 3, "sig2": 2, "sig3": 1}),
    ("report_type/hang/", {"sig1": 2}),
    ("report_type/crash/products/WaterWolf/", {"sig1": 2, "sig2": 2, "sig3": 1}),
    ("report_process/plugin/", {"sig1": 1}),
    ("report_process/content/", {"sig1": 1}),
    ("report_process/browser/products/WaterWolf/", {"sig1": 2, "sig2": 2, "sig3": 1}),
    ("report_process/plugin/plugin_terms/shock/", {"sig1": 1}),
    ("report_process/plugin/plugin_terms/npswf/plugin_in/filename/plugin_search_mode/starts_with/",
     {"sig1": 1}),
    ("report_process/plugin/plugin_terms/Shockwave/plugin_search_mode/is_exactly/", {}),
    ("reasons/SIGSEGV/", {"sig1": 1, "Foo::Bar": 1}),
    ("build_from/20001212010204/", {"sig1": 1, "Foo::Bar": 1}),
    ("build_to/20001212010203/", {"sig1": 3, "sig2": 2, "sig3": 1}),
    ("branches/3.0/", {"sig2": 1}),
    ("branches/9.9/", {}),
    ("for/sig/in/signature/search_mode/starts_with/", {"sig1": 4, "sig2": 2, "sig3": 1}),
    ("for/IG2/in/signature/search_mode/contains/", {"sig2": 2}),
    ("for/sig2/", {"sig2": 2, "sig1": 1}),  # default: all fields, the url matches too
    ("for/sig3/in/user_comments/", {"Foo::Bar": 1}),
    ("for/Foo::Bar/in/frames/search_mode/is_exactly/", {"Foo::Bar": 1}),
    ("for/foo::bar/in/frames/search_mode/is_exactly/", {}),
    ("for/oo::B/in/dump/", {"Foo::Bar": 1}),
    ("for/nothing+sig3/in/signature/", {"sig3": 1}),
    ("for/SIG%25/in/signature/", {}),  # a literal % matches only itself
    ("for/0%25_/in/signature/", {"100%_*?\\": 1}),
    ("for/%2A%3F%5C/in/signature/", {"100%_*?\\": 1}),  # wildcard characters are literal
    ("for/%3F/in/signature/search_mode/starts_with/", {}),
    ("build_from/20001212010203/build_to/20001212010203/products/WaterWolf/",
     {"sig1": 3, "sig2": 2, "sig3": 1}),
]
