"""Hostile values for the HTTP fuzz: SQL injection, oversized input, wrong types, encodings.

Everything here is built once at import; the generator (``requests.py``) draws from these
lists with a seeded ``random.Random``, so a run is reproducible.
"""
import functools
from urllib.parse import quote

SQL_INJECTION = (
    "'", "''", '"', "\\", "\\'", "'; DROP TABLE reports; --", "x'); DROP TABLE products; --",
    "1; DELETE FROM pc_reports", "' OR '1'='1", "' OR 1=1 --", "\" OR \"\"=\"",
    "' UNION SELECT email, url FROM reports --", "1 UNION ALL SELECT NULL, version() --",
    "/* comment */", "*/ SELECT 1 /*", "-- ", "#", ";", "$$; DROP TABLE jobs; $$",
    "E'\\x27'", "%'; --", "_%", "\\%\\_", "%", "*", "?", "[a-z]*", "(", ")", ":", "::text",
    "'||pg_sleep(5)||'", "1 AND pg_sleep(5)", "'; SELECT pg_sleep(5); --",
    "'; COPY reports TO '/tmp/x'; --", "'; TRUNCATE es_outbox; --", "${jndi:ldap://x}",
    "{\"$gt\": \"\"}", "<script>alert(1)</script>", "../../etc/passwd", "a\\", "\\\\",
    "content:*", "signature:(a OR b)", "\"unterminated", "a AND OR NOT", "~1", "^2",
)

UNICODE = (
    "Ünïcödé::función", "日本語のシグネチャ", "😀💥🔥", "a\u200bb", "\u202eevil", "e\u0301",
    "\ufeffbom", "\uffff", "\U0010ffff", "ǅ", "ß", "İstanbul", "\u0085next", "\u2028line",
)

CONTROL = tuple(chr(code) for code in (*range(1, 32), 127)) + ("a\r\nSet-Cookie: x=1", "\t ")

SEPARATORS = ("/", "+", "%", "&", "=", "?", "#", ";", ",", "|", " ", "  ", "a b", "a+b",
              "a/b", "a%2Fb", "100%", "%25", "%zz", "+%2B+", "a=b&c=d", "operator+=")

WRONG_TYPES = (
    "", " ", "abc", "1.5", "1e5", "-1", "0", "+0", "-0", "0x10", "007", "1_000", "١٢٣",
    "2147483648", "-2147483649", "9223372036854775808", "-9223372036854775809",
    "99999999999999999999999999999999", "NaN", "inf", "-Infinity", "true", "null", "[]",
    "{}", "2012-13-45", "0000-00-00", "2012-02-30", "24:00", "2012-01-01T25:00:00",
    "9999-12-31T23:59:59+14:00", "9999-12-31", "0001-01-01T00:00:00-14:00", "0001-01-01",
    "2012-01-01T00:00:00+99:99", "1-days-ago", "999999-weeks-ago", "0-minutes-ago",
    "yesterday", "now", "Firefox", "Firefox:", ":16.0", "::", "Firefox:16.0:1", "ALL",
    "20120101", "20121301000000", "99991231235959", "4.0", "4.05", "-4.0", "1e999", "10.0",
    "100", "1E+2", "sNaN", "0.1", "Beta", "BETA", "beta ", "windows", "WINDOWS", "win",
)

# Percent-escapes inserted verbatim (not encoded again): broken and overlong encodings.
RAW_ESCAPES = (
    "%", "%%", "%z", "%zz", "%2", "%FF", "%FE%FF", "%C3%28", "%C0%AF", "%E0%80%AF",
    "%ED%A0%80", "%F4%90%80%80", "%00", "a%00b", "%2500", "%252525", "%C3", "%E2%82",
    "%25zz", "%%32%46", "%u0041", "%2F%2F", "%2e%2e%2f", "%0d%0a", "+", "++", "%2B",
)

BIG = 100_000
OVERSIZED_TEXT = ("a" * BIG, "é" * BIG, ("'; DROP TABLE reports; --" * (BIG // 25))[:BIG],
                  "%" * BIG, "/" * BIG, "+" * BIG)
OVERSIZED_ITEMS = 10_000


@functools.lru_cache(maxsize=4096)
def encode(value, times=1):
    """``value`` percent-encoded ``times`` times (everything but unreserved characters)."""
    for _ in range(times):
        value = quote(value, safe="")
    return value


@functools.lru_cache(maxsize=256)
def plus_joined(item, count, times=1):
    """``count`` copies of ``item``, each encoded, joined by literal ``+`` (a path list)."""
    return "+".join([encode(item, times)] * count)
