"""Time-based crash indices: naming, the index template with its mapping, date-range targeting.

One index per period (day, week from Monday, or month, UTC) named ``<prefix><YYYYMMDD>`` after
the period's first day. A search over a date range names only the indices of that range and
passes ``ignore_unavailable`` so missing ones are simply empty.

``frame_words`` (option ``elasticsearch.frame_words``, off by default) adds the CamelCase
``frame_functions.text`` subfield, for people querying the indices directly: no service reads
it, and analysing the ≈16 frame functions of a crash is a large share of Elasticsearch's
indexing CPU. A mapping only applies to indices created after it; turning the option on also
adds the subfield to the existing crash indices (their documents get it when reindexed), while
a subfield cannot be removed from an index (it goes with the index: delete and reindex).
"""
import datetime
import logging

from elasticsearch.exceptions import RequestError

UTC = datetime.timezone.utc
log = logging.getLogger(__name__)
# Lucene refuses a term over 32,766 UTF-8 bytes, and then the whole document. Keyword fields
# keep values up to KEYWORD_CHARS UTF-16 code units (4 bytes each at most, exact values),
# lowercase twins and text tokens up to LOWER_CHARS (3 bytes each at most: a code unit is
# 1-3 bytes, a surrogate pair 4 bytes for 2 units; lower-casing maps code point to code point).
KEYWORD_CHARS = 8191
LOWER_CHARS = 10922
_LOWER = {"type": "keyword", "normalizer": "lowercase", "ignore_above": LOWER_CHARS}
_CAMEL = {"type": "text", "analyzer": "camel"}


def period_start(moment, period):
    """First day of the period containing ``moment`` (aware datetime or date)."""
    day = moment.astimezone(UTC).date() if isinstance(moment, datetime.datetime) else moment
    if period == "day":
        return day
    if period == "week":
        return day - datetime.timedelta(days=day.weekday())
    return day.replace(day=1)


def next_period(start, period):
    if period == "day":
        return start + datetime.timedelta(days=1)
    if period == "week":
        return start + datetime.timedelta(days=7)
    return (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def index_for(prefix, period, moment):
    return f"{prefix}{period_start(moment, period):%Y%m%d}"


def indices_between(prefix, period, start, end):
    """Names of the indices covering [start, end), oldest first."""
    names, day = [], period_start(start, period)
    last = end.astimezone(UTC) if isinstance(end, datetime.datetime) else end
    while datetime.datetime.combine(day, datetime.time(), UTC) < last:
        names.append(f"{prefix}{day:%Y%m%d}")
        day = next_period(day, period)
    return names


def crash_index_patterns(prefix):
    """Patterns matching every crash index ``<prefix><YYYYMMDD>`` but no other name starting
    with ``prefix`` (its ``all`` alias, another prefix extending it)."""
    return [f"{prefix}1*", f"{prefix}2*"]


def keyword_with(*extra):
    """A keyword field, exact, with a lowercase twin and optionally a CamelCase-analysed text."""
    fields = {"lower": _LOWER}
    if "text" in extra:
        fields["text"] = _CAMEL
    return {"type": "keyword", "ignore_above": KEYWORD_CHARS, "fields": fields}


KEYWORD = {"type": "keyword", "ignore_above": KEYWORD_CHARS}
DATE = {"type": "date", "format": "strict_date_optional_time"}

MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "uuid": KEYWORD, "report_id": {"type": "long"},
        "date_processed": DATE, "client_crash_date": DATE,
        "product": KEYWORD, "version": KEYWORD, "build": KEYWORD,
        "build_numeric": {"type": "long"},
        "release_channel": keyword_with(),
        "signature": keyword_with("text"), "reason": keyword_with("text"),
        "address": KEYWORD, "os_name": KEYWORD, "os_version": KEYWORD, "cpu_name": KEYWORD,
        "cpu_info": KEYWORD, "url": keyword_with(), "email": KEYWORD,
        "user_comments": keyword_with("text"),
        "app_notes": {"type": "text", "analyzer": "camel"},
        "uptime": {"type": "integer"}, "install_age": {"type": "integer"},
        "last_crash": {"type": "integer"},
        "hangid": KEYWORD, "process_type": KEYWORD,
        "plugin_name": keyword_with(), "plugin_filename": keyword_with(),
        "plugin_version": KEYWORD,
        "extensions": {"type": "nested", "properties": {
            "extension_key": {"type": "integer"}, "extension_id": KEYWORD,
            "extension_version": KEYWORD}},
        "frame_functions": keyword_with(),  # + "text" with frame_words: crash_mappings
        "frames": {"type": "object", "enabled": False},
        "started_datetime": DATE, "completed_datetime": DATE,
        "success": {"type": "boolean"},
        "processor_notes": {"type": "text", "index": False},
        "duplicate_of": KEYWORD,
        "extra": {"type": "object", "enabled": False},
    },
}

SETTINGS = {
    "analysis": {
        "normalizer": {"lowercase": {"type": "custom", "filter": ["lowercase"]}},
        "tokenizer": {
            # CamelCase identifiers, as bucketing.tokenizers.camel cuts them: runs of digits
            # 0-9 and of letters, split where lower case turns upper ("markChildren") and
            # before the last capital of an upper-case run followed by lower case
            # ("FTPClass"); anything else separates. Matching the tokens (group 0) costs less
            # than splitting at look-behind matches, and keeps supplementary letters whole.
            "camel": {"type": "pattern", "group": 0, "pattern":
                      "\\d+|\\p{Lu}+(?=\\p{Lu}[\\p{L}&&[^\\p{Lu}]])"
                      "|\\p{Lu}?[\\p{L}&&[^\\p{Lu}]]+|\\p{Lu}+"},
        },
        "filter": {"term_limit": {"type": "truncate", "length": LOWER_CHARS}},
        "analyzer": {"camel": {"type": "custom", "tokenizer": "camel",
                               "filter": ["lowercase", "term_limit"]}},
    },
}


FRAME_WORDS = {"frame_functions": keyword_with("text")}


def crash_mappings(frame_words=False):
    """The crash mapping; ``frame_words`` adds the CamelCase ``frame_functions.text``."""
    if not frame_words:
        return MAPPINGS
    return {**MAPPINGS, "properties": {**MAPPINGS["properties"], **FRAME_WORDS}}


def index_template(prefix, shards, replicas, frame_words=False):
    """The legacy index template every crash index is created from."""
    return {
        "index_patterns": [f"{prefix}*"],
        "settings": {"number_of_shards": shards, "number_of_replicas": replicas,
                     "refresh_interval": "1s", **SETTINGS},
        "mappings": crash_mappings(frame_words),
        "aliases": {f"{prefix}all": {}},
    }


def install_template(client, prefix, shards=1, replicas=0, frame_words=False):
    """Create or update the template new crash indices are made from (idempotent); with
    ``frame_words``, also add ``frame_functions.text`` to the existing crash indices."""
    client.indices.put_template(name=f"{prefix}template",
                                body=index_template(prefix, shards, replicas, frame_words))
    if frame_words:
        add_frame_words(client, prefix)


def add_frame_words(client, prefix):
    """Add ``frame_functions.text`` to every existing crash index of ``prefix`` (documents
    indexed from then on get it; older ones once reindexed). An index whose mapping refuses
    it (made by another version) is left as it is, with a warning."""
    try:
        client.indices.put_mapping(index=",".join(crash_index_patterns(prefix)),
                                   body={"properties": FRAME_WORDS},
                                   ignore_unavailable=True, allow_no_indices=True)
    except RequestError as exc:
        log.warning("elasticsearch.frame_words: could not add frame_functions.text to the "
                    "existing crash indices (%s); delete and reindex them to have it", exc)
