"""A report's terms: field-qualified tokens, the bag of words both engines index and score.

A term is ``"<field path>" + SEP + "<token>"`` with ``SEP = "\\x1f"`` (ASCII unit separator),
e.g. ``"stacktrace.function\\x1fDispatch"``. The field path joins object keys with ``.``;
arrays are flattened under their field's path (as Elasticsearch does). Every string, number
and boolean at any depth is tokenized, except:

- PartyCrasher's bookkeeping: ``database_id``, ``project``, ``buckets``, ``force_bucket``,
  ``date``, ``top_match``, ``logdf``, and ``depth`` at any level;
- identifiers and times: ``uuid``, ``hangid``, ``duplicate_of`` and any UUID-like value, the
  canonical crash document's timestamps and any ISO-8601-date-valued string;
- per-crash measurements and personal data that never identify a bug: ``uptime``,
  ``install_age``, ``last_crash``, ``email``.

The stack is ``stacktrace`` (PartyCrasher, Launchpad) or ``frames`` (canonical crash
document); both are indexed as ``stacktrace.<frame key>``. Improvements over PartyCrasher
(notes §6.3):

- a frame's ``address``, ``offset`` and ``line`` are dropped (they move between builds; the
  crash's own ``address`` stays);
- hexadecimal numbers are one whole token ``0x<hex, no leading zeros>`` instead of camel
  fragments (``0, x, 0804, cbd, 3``); ``??`` (unknown function) is dropped;
- recursion is collapsed: a run of frames repeating a cycle of 1..3 functions counts once;
- the crash site outweighs the event-loop and thread frames every stack shares: the tokens of
  frame i count ``FRAME_WEIGHTS[i]`` times (later frames once), every whole function name is a
  term of ``stacktrace.function.whole`` (like PartyCrasher's keyword sub-field), and the whole
  names of the top frames are positional terms ``stacktrace.top<i>`` counted
  ``TOP_FRAME_WEIGHTS[i]`` times.
"""
from collections import Counter

import regex

SEP = "\x1f"
STACK_FIELDS = ("stacktrace", "frames")
STACK_PATH = "stacktrace"
EXCLUDED_TOP = frozenset((
    "database_id", "project", "buckets", "force_bucket", "date", "top_match", "logdf",
    "uuid", "hangid", "duplicate_of", "date_processed", "client_crash_date", "started_datetime",
    "completed_datetime", "uptime", "install_age", "last_crash", "email"))
EXCLUDED_ANYWHERE = frozenset(("depth", "logdf", "buckets", "top_match"))
TOP_FRAME_WEIGHTS = (16, 8, 4)
LOCATION_KEYS = frozenset(("address", "offset", "line"))  # of a frame: differ between builds
FRAME_WEIGHTS = (8, 6, 4, 3, 2)  # the tokens of frame i count FRAME_WEIGHTS[i] times, later ones once
MAX_CYCLE = 3
MAX_TERM_CHARS = 500  # at most 2,000 bytes of UTF-8, within a PostgreSQL index entry
CACHE_SIZE = 100_000  # memoised (field, string) values per tokenizer; then the memo restarts
CACHE_MAX_TEXT = 256  # longer strings (free text) are rarely repeated: not memoised

_UUID = regex.compile(r"(?i)\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?")
_DATETIME = regex.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?")
_HEX = regex.compile(r"0[xX]([0-9a-fA-F]+)")
_UNKNOWN = "??"
_caches = {}
_frame_caches = {}  # per tokenizer: a frame's items -> its (term, count) pairs at weight 1


def report_terms(report, tokenize, *, top_frame_weights=TOP_FRAME_WEIGHTS, frame_weights=FRAME_WEIGHTS,
                 collapse=True, whole_hex=True, stack_only=False, whole_functions=True,
                 drop_locations=True):
    """Counter of the terms of ``report`` (a dict) tokenized with ``tokenize``.

    The keyword options switch the improvements off (or the context fields, ``stack_only``)
    for comparisons in benchmarks/bucketing_quality.py; the gateway uses the defaults.
    """
    terms = Counter()
    cache = _caches.get((tokenize, whole_hex))
    if cache is None or len(cache) > CACHE_SIZE:
        cache = _caches[tokenize, whole_hex] = {}
    frames = _frame_caches.get((tokenize, whole_hex, drop_locations))
    if frames is None or len(frames) > CACHE_SIZE:
        frames = _frame_caches[tokenize, whole_hex, drop_locations] = {}
    tokens = _cached_tokenizer(tokenize, whole_hex, cache)
    for key, value in report.items():
        if key in EXCLUDED_TOP or value is None:
            continue
        if key in STACK_FIELDS and isinstance(value, list):
            _add_stack(terms, collapse_recursion(value) if collapse else value, tokens, top_frame_weights,
                       frame_weights, whole_functions, drop_locations, frames)
        elif not stack_only:
            _add_value(terms, key, value, tokens)
    if any(len(term) > MAX_TERM_CHARS for term in terms):
        return _shortened(terms)
    return terms


def _shortened(terms):
    """``terms`` with every term cut to MAX_TERM_CHARS, counts of terms that became equal
    summed: a term is a key of PostgreSQL's term dictionary (a b-tree entry holds about
    2,700 bytes), and a token that long is noise, not a feature."""
    short = Counter()
    for term, count in terms.items():
        short[term[:MAX_TERM_CHARS]] += count
    return short


def split_term(term):
    """``(field, token)`` of a term."""
    field, _, token = term.partition(SEP)
    return field, token


def _cached_tokenizer(tokenize, whole_hex, cache):
    """``terms(path, text)``: the terms of one string value, memoised (values repeat a lot)."""
    def terms(path, text):
        key = (path, text)
        result = cache.get(key)
        if result is None:
            prefix = path + SEP
            result = tuple(prefix + token for token in _tokenize_text(text, tokenize, whole_hex))
            if len(text) <= CACHE_MAX_TEXT:
                cache[key] = result
        return result
    return terms


def _tokenize_text(text, tokenize, whole_hex):
    if _UUID.fullmatch(text) or _DATETIME.fullmatch(text):
        return []
    if not whole_hex:
        return tokenize(text)
    hexes = []
    if "0x" in text or "0X" in text:
        hexes = [f"0x{int(digits, 16):x}" for digits in _HEX.findall(text)]
        text = _HEX.sub(" ", text)
    if _UNKNOWN in text:
        text = text.replace(_UNKNOWN, " ")
    return tokenize(text) + hexes


def _add_value(terms, path, value, tokens, weight=1):
    kind = type(value)
    if kind is str:
        get = terms.get
        for term in tokens(path, value):
            terms[term] = get(term, 0) + weight
    elif kind is dict:
        for key, item in value.items():
            if key not in EXCLUDED_ANYWHERE and item is not None:
                _add_value(terms, f"{path}.{key}", item, tokens, weight)
    elif kind is list:
        for item in value:
            if item is not None:
                _add_value(terms, path, item, tokens, weight)
    elif kind is bool:
        terms[f"{path}{SEP}{'true' if value else 'false'}"] += weight
    elif kind is int or kind is float:
        _add_value(terms, path, str(value), tokens, weight)


def _function(frame):
    function = frame.get("function") if type(frame) is dict else None
    return function if type(function) is str and function and function != _UNKNOWN else None


def collapse_recursion(frames):
    """``frames`` without repeats of a cycle of 1..MAX_CYCLE named functions (A B A B -> A B)."""
    names = [_function(frame) for frame in frames]
    if not any(a is not None and a == b for d in range(1, MAX_CYCLE + 1) for a, b in zip(names, names[d:])):
        return frames
    kept, i = [], 0
    while i < len(frames):
        for cycle in range(1, MAX_CYCLE + 1):
            block = names[i:i + cycle]
            if (len(block) == cycle and None not in block and len(kept) >= cycle
                    and [names[j] for j in kept[-cycle:]] == block):
                i += cycle
                break
        else:
            kept.append(i)
            i += 1
    return [frames[j] for j in kept]


def _frame_terms(frame, tokens, cache):
    """The (term, count) pairs of a frame dict at weight 1, memoised by its items (frames
    repeat across reports); frames with unhashable values are not memoised."""
    try:
        key = tuple(frame.items())
        counted = cache.get(key)
    except TypeError:
        key = counted = None
    if counted is None:
        single = Counter()
        _add_value(single, STACK_PATH, frame, tokens)
        counted = tuple(single.items())
        if key is not None:
            cache[key] = counted
    return counted


def _add_stack(terms, frames, tokens, top_frame_weights, frame_weights, whole_functions, drop_locations,
               cache):
    position = 0
    get = terms.get
    for index, frame in enumerate(frames):
        weight = frame_weights[index] if index < len(frame_weights) else 1
        if type(frame) is not dict:
            _add_value(terms, STACK_PATH, frame, tokens, weight)
            continue
        if drop_locations and not LOCATION_KEYS.isdisjoint(frame):
            frame = {key: value for key, value in frame.items() if key not in LOCATION_KEYS}
        for term, count in _frame_terms(frame, tokens, cache):
            terms[term] = get(term, 0) + count * weight
        function = _function(frame)
        if function is not None and whole_functions:
            terms[f"{STACK_PATH}.function.whole{SEP}{function}"] += weight
        if function is not None and position < len(top_frame_weights):
            terms[f"{STACK_PATH}.top{position}{SEP}{function}"] += top_frame_weights[position]
            position += 1
