"""report_terms: field-qualified terms of PartyCrasher/Launchpad reports and crash documents."""
import json

from crashgate.bucketing.features import SEP, collapse_recursion, report_terms, split_term
from crashgate.bucketing.tokenizers import camel, lerch, space
from tests.conftest import LAUNCHPAD_SAMPLES



def t(field, token):
    return f"{field}{SEP}{token}"


def frames(*functions):
    return [{"function": f, "depth": i} for i, f in enumerate(functions)]


def test_fields_paths_and_types():
    report = {"database_id": "x:1", "project": "p", "date": "2017-01-01T00:00:00", "buckets": {"4.0": "b"},
              "force_bucket": "f", "top_match": {"report_id": "y"}, "logdf": 3,
              "Title": "FooBar crashed", "nested": {"inner": ["Baz", 7, True, None, {"depth": 3}]}}
    terms = report_terms(report, camel)
    assert terms == {t("Title", "Foo"): 1, t("Title", "Bar"): 1, t("Title", "crashed"): 1,
                     t("nested.inner", "Baz"): 1, t("nested.inner", "7"): 1, t("nested.inner", "true"): 1}
    assert split_term(t("stacktrace.function", "Foo")) == ("stacktrace.function", "Foo")


def test_ids_and_datetimes_are_not_terms():
    report = {"uuid": "0bba929f-8721-460c-dead-a43c20121114", "date_processed": "2012-11-14T08:15:02+00:00",
              "other_id": "0bba929f-8721-460c-dead-a43c20121114", "when": "2012-11-14T08:15:02",
              "ext": "{972ce4c6-7e08-4474-a285-3208198ce6fd}", "uptime": 1835, "email": "a@b.c", "kept": "x"}
    assert report_terms(report, space) == {t("kept", "x"): 1}


def test_hex_is_one_normalised_token_and_unknown_frames_dropped():
    report = {"address": "0x00007f505a20b800", "text": "at 0x0804CBD3 in ?? ()"}
    terms = report_terms(report, camel)
    assert terms == {t("address", "0x7f505a20b800"): 1, t("text", "0x804cbd3"): 1, t("text", "at"): 1,
                     t("text", "in"): 1}
    assert report_terms({"text": "0x0804cbd3"}, camel, whole_hex=False) == {
        t("text", x): 1 for x in ["0", "x", "0804", "cbd", "3"]}


def test_stacktrace_and_frames_are_the_same_field():
    stack = [{"function": "nsFoo::Bar", "module": "xul.dll", "line": 12, "offset": "0x1a"},
             {"function": "main", "module": "firefox.exe"}]
    launchpad = report_terms({"stacktrace": stack}, camel, frame_weights=())
    canonical = report_terms({"frames": stack}, camel, frame_weights=())
    assert launchpad == canonical
    assert launchpad[t("stacktrace.function", "Bar")] == 1
    assert launchpad[t("stacktrace.function.whole", "nsFoo::Bar")] == 1
    assert launchpad[t("stacktrace.top0", "nsFoo::Bar")] == 16 and launchpad[t("stacktrace.top1", "main")] == 8
    fields = {split_term(term)[0] for term in launchpad}
    assert not fields & {"stacktrace.line", "stacktrace.offset", "stacktrace.address"}  # move between builds
    kept = report_terms({"frames": stack}, camel, drop_locations=False)
    assert kept[t("stacktrace.line", "12")] == 8 and kept[t("stacktrace.offset", "0x1a")] == 8


def test_top_frames_weigh_more_and_depth_is_ignored():
    terms = report_terms({"stacktrace": frames("a", "b", "c", "d", "e", "f", "g")}, space)
    assert [terms[t("stacktrace.function", x)] for x in "abcdefg"] == [8, 6, 4, 3, 2, 1, 1]
    assert [terms[t(f"stacktrace.top{i}", x)] for i, x in enumerate("abc")] == [16, 8, 4]
    assert [terms[t("stacktrace.function.whole", x)] for x in "abcdefg"] == [8, 6, 4, 3, 2, 1, 1]
    assert not any(field.endswith("depth") for field, _ in map(split_term, terms))


def test_recursion_is_collapsed():
    names = lambda fs: [f["function"] for f in fs]  # noqa: E731
    assert names(collapse_recursion(frames(*"a b b b c d c d c d e ?? ?? f".split()))) == \
        "a b c d e ?? ?? f".split()
    shallow = report_terms({"stacktrace": frames("crash", "recurse", "main")}, camel)
    deep = report_terms({"stacktrace": frames("crash", *["recurse"] * 20, "main")}, camel)
    assert shallow == deep
    assert report_terms({"stacktrace": frames("crash", *["recurse"] * 5)}, camel, collapse=False) != \
        report_terms({"stacktrace": frames("crash", "recurse")}, camel, collapse=False)


def test_unknown_top_frames_are_skipped_for_positions():
    terms = report_terms({"stacktrace": [{"function": None}, {"function": "??"}, {"function": "real"}]}, space)
    assert terms[t("stacktrace.top0", "real")] == 16


def test_stack_only():
    terms = report_terms({"Title": "x", "frames": frames("f")}, space, stack_only=True)
    assert all(term.startswith("stacktrace.") for term in terms)


def test_launchpad_samples():
    for path in sorted(LAUNCHPAD_SAMPLES.glob("*.json")):
        report = json.loads(path.read_text())
        for tokenize in (camel, lerch, space):
            terms = report_terms(report, tokenize)
            assert len(terms) > 50, path
            fields = {split_term(term)[0] for term in terms}
            assert "stacktrace.function" in fields and "stacktrace.top0" in fields
            assert not fields & {"database_id", "date", "stacktrace.depth"}
            assert all(count > 0 for count in terms.values())
