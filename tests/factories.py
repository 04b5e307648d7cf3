"""Crash documents for tests, stored through the real ingestion code."""
import datetime
import itertools

import psycopg2

from crashgate.ingest.crash_document import normalize_crash
from crashgate.ingest.store import load_products, store_crashes

UTC = datetime.timezone.utc
_serial = itertools.count(1)


def uuid_for(day, prefix=None):
    """A Socorro-style crash id ending with ``day`` as YYMMDD."""
    prefix = prefix or f"{next(_serial):08x}"
    return f"{prefix[:8]:0>8}-0000-4000-8000-0000{day:%y%m%d}"


def crash_doc(when, signature="sig", uuid=None, **fields):
    """A valid processed crash document processed at ``when``; ``fields`` override."""
    doc = {
        "uuid": uuid or uuid_for(when),
        "date_processed": when.isoformat(),
        "client_crash_date": (when - datetime.timedelta(minutes=1)).isoformat(),
        "product": "Firefox", "version": "16.0.2", "build": "20121024073032",
        "release_channel": "release", "signature": signature,
        "reason": "EXCEPTION_ACCESS_VIOLATION_READ", "address": "0x0",
        "os_name": "Windows NT", "os_version": "6.1.7601", "cpu_name": "x86",
        "cpu_info": "GenuineIntel", "url": None, "email": None, "user_comments": None,
        "app_notes": None, "uptime": 300, "install_age": 3600, "last_crash": None,
        "hangid": None, "process_type": None, "plugin": None, "extensions": [],
        "frames": [{"function": signature, "module": "xul.dll", "file": "a.cpp", "line": 1,
                    "offset": "0x1"}],
        "started_datetime": when.isoformat(), "completed_datetime": when.isoformat(),
        "success": True, "processor_notes": "",
    }
    doc.update(fields)
    return doc


def store(dsn, docs, products=None):
    """Store crash documents (and an optional products document) in one transaction."""
    conn = psycopg2.connect(dsn, options="-c TimeZone=UTC")
    try:
        with conn, conn.cursor() as cur:
            if products:
                load_products(cur, products)
            store_crashes(cur, [normalize_crash(doc) for doc in docs])
    finally:
        conn.close()


def version(product, version_string, build_type, builds=(), major=None, beta_number=None):
    return {"product_name": product, "version_string": version_string,
            "major_version": major or version_string, "release_version": version_string,
            "build_type": build_type, "beta_number": beta_number,
            "build_date": "2012-01-01", "sunset_date": "2013-01-01", "featured": False,
            "throttle": 100.0,
            "builds": [{"build_id": b, "platform": "windows", "repository": "r"} for b in builds]}


def products_doc(*versions):
    names = sorted({v["product_name"] for v in versions})
    return {"products": [{"product_name": n, "sort": i, "rapid_release_version": "5.0",
                          "release_name": n.lower()} for i, n in enumerate(names)],
            "versions": list(versions)}
