"""The sample-data generator (crashgate.fakedata) against docs/crash-format.md and the issue."""
import collections
import datetime
import gzip
import json
import pathlib
import re
import statistics

import pytest

from crashgate.fakedata import (HANG_PREFIX, TRICKY_SIGNATURES, CrashEncoder, daily_counts,
                                generate_crashes, generate_products, signature_from_frames,
                                write_dataset)
from crashgate.fakedata import writer

END = datetime.date(2012, 11, 14)
DAYS = 7
FIRST = END - datetime.timedelta(days=DAYS - 1)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
CRASH_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{6}\d{6}$")
STR, INT, BOOL, LIST, DICT = (str,), (int,), (bool,), (list,), (dict,)
REQUIRED = {"uuid": STR, "date_processed": STR, "product": STR, "version": STR, "signature": STR}
OPTIONAL = {
    "client_crash_date": STR, "build": STR, "release_channel": STR, "reason": STR, "address": STR,
    "os_name": STR, "os_version": STR, "cpu_name": STR, "cpu_info": STR, "url": STR, "email": STR,
    "user_comments": STR, "app_notes": STR, "uptime": INT, "install_age": INT, "last_crash": INT,
    "hangid": STR, "process_type": STR, "plugin": DICT, "extensions": LIST, "frames": LIST,
    "started_datetime": STR, "completed_datetime": STR, "success": BOOL, "processor_notes": STR,
    "duplicate_of": STR,
}
PLATFORM = {"Windows NT": "windows", "Mac OS X": "mac"}


def parse(timestamp):
    return datetime.datetime.fromisoformat(timestamp)


def platform_of(crash):
    if crash["product"] == "Fennec":
        return "android"
    return PLATFORM.get(crash["os_name"], "linux")


@pytest.fixture(scope="module")
def crashes():
    return list(generate_crashes(5000, DAYS, seed=3, end_date=END))


@pytest.fixture(scope="module")
def products():
    return generate_products(DAYS, seed=3, end_date=END)


def share(crashes, predicate):
    return sum(1 for c in crashes if predicate(c)) / len(crashes)


# ---- files ------------------------------------------------------------------------------
def read_lines(path):
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def test_write_dataset_files_summary_and_content(tmp_path):
    summary = write_dataset(tmp_path / "out", 1200, 3, seed=5, end_date=END)
    assert summary["crashes"] == 1200 and summary["seconds"] >= 0
    days = [re.search(r"crashes-(\d{8})\.jsonl\.gz$", path).group(1) for path in summary["files"]]
    assert days == ["20121112", "20121113", "20121114"]
    written = [crash for path in summary["files"] for crash in read_lines(path)]
    assert written == list(generate_crashes(1200, 3, seed=5, end_date=END))
    for day, path in zip(days, summary["files"]):
        assert {c["date_processed"][:10].replace("-", "") for c in read_lines(path)} == {day}
    with open(summary["products_file"], encoding="utf-8") as products_file:
        assert json.load(products_file) == generate_products(3, seed=5, end_date=END)


def file_bytes(summary):
    return [pathlib.Path(path).read_bytes() for path in (summary["products_file"], *summary["files"])]


def test_write_dataset_is_byte_for_byte_deterministic(tmp_path, monkeypatch):
    monkeypatch.setattr("crashgate.fakedata.dataset.CHUNK_EVENTS", 200)  # several gzip members a day
    first = write_dataset(tmp_path / "a", 900, 2, seed=7, end_date=END)
    again = write_dataset(tmp_path / "b", 900, 2, seed=7, end_date=END, workers=2)
    other = write_dataset(tmp_path / "c", 900, 2, seed=8, end_date=END)
    assert file_bytes(first) == file_bytes(again)
    assert file_bytes(first)[1:] != file_bytes(other)[1:]
    assert sum(len(read_lines(path)) for path in again["files"]) == 900


def test_progress_is_reported_until_the_total(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "PROGRESS_EVERY", 1000)
    monkeypatch.setattr("crashgate.fakedata.dataset.CHUNK_EVENTS", 500)
    calls = []
    write_dataset(tmp_path, 3000, 2, seed=1, end_date=END, progress=calls.append)
    assert calls == sorted(calls) and calls[-1] == 3000 and len(calls) >= 3


@pytest.mark.parametrize("total, days", [(0, 2), (1, 1), (7, 10), (2, 1)])
def test_exact_count_for_small_sets(tmp_path, total, days):
    summary = write_dataset(tmp_path, total, days, seed=2, end_date=END)
    assert summary["crashes"] == total and len(summary["files"]) == days
    assert sum(len(read_lines(path)) for path in summary["files"]) == total


def test_daily_counts_sum_exactly_and_vary_a_little():
    counts = daily_counts(100_000, FIRST, 30, seed=4)
    assert sum(counts) == 100_000 and len(counts) == 30
    assert 1.0 < max(counts) / min(counts) < 1.35


def test_encoder_matches_json_dumps(crashes):
    encode = CrashEncoder()
    for crash in crashes:
        assert encode(crash) == json.dumps(crash, ensure_ascii=False, separators=(",", ":"))


# ---- determinism ------------------------------------------------------------------------
def test_same_seed_same_crashes_other_seed_other_crashes():
    def sample(seed):
        return list(generate_crashes(300, 2, seed=seed, end_date=END))
    assert sample(3) == sample(3)
    assert sample(3) != sample(4)


# ---- the crash document -----------------------------------------------------------------
def test_every_crash_has_the_documented_fields_and_types(crashes):
    assert len(crashes) == 5000
    for crash in crashes:
        for field, types in REQUIRED.items():
            assert type(crash[field]) in types and crash[field], (field, crash)
        for field, types in OPTIONAL.items():
            assert crash.get(field) is None or type(crash[field]) in types, (field, crash)
        for field in ("date_processed", "client_crash_date", "started_datetime", "completed_datetime"):
            assert TIMESTAMP.match(crash[field]), crash[field]
        assert re.fullmatch(r"\d{14}", crash["build"])
        for frame in crash["frames"]:
            assert set(frame) == {"function", "module", "file", "line", "offset"}
            assert isinstance(frame["line"], int) and re.fullmatch(r"0x[0-9a-f]+", frame["offset"])
        assert all(set(e) == {"id", "version"} for e in crash["extensions"])
        assert 0 <= len(crash["extensions"]) <= 8
        assert all(0 <= crash[f] < 2 ** 31 for f in ("uptime", "install_age") if crash[f] is not None)


def test_uuids_are_unique_and_end_in_the_processing_date(crashes):
    assert len({c["uuid"] for c in crashes}) == len(crashes)
    for crash in crashes:
        assert CRASH_ID.match(crash["uuid"]) and len(crash["uuid"]) == 36
        assert crash["uuid"][-6:] == parse(crash["date_processed"]).strftime("%y%m%d")


def test_dates_fall_in_the_window_and_in_order(crashes):
    start = datetime.datetime.combine(FIRST, datetime.time(), datetime.timezone.utc)
    end = datetime.datetime.combine(END + datetime.timedelta(days=1), datetime.time(), datetime.timezone.utc)
    processed = [parse(c["date_processed"]) for c in crashes]
    assert all(start <= moment < end for moment in processed)
    one_day = datetime.timedelta(days=1)
    assert min(processed) < start + one_day and max(processed) >= end - one_day
    for crash, moment in zip(crashes, processed):
        assert parse(crash["client_crash_date"]) < moment
        assert parse(crash["started_datetime"]) < parse(crash["completed_datetime"]) == moment
    per_day = collections.Counter(moment.date() for moment in processed)
    assert len(per_day) == DAYS and min(per_day.values()) > 5000 / DAYS * 0.8


def test_hang_pairs_are_a_browser_and_a_plugin_crash_of_one_client(crashes):
    pairs = collections.defaultdict(list)
    for crash in crashes:
        if crash["hangid"]:
            pairs[crash["hangid"]].append(crash)
    assert 0.02 < sum(map(len, pairs.values())) / len(crashes) < 0.045
    for browser, plugin in pairs.values():
        assert (browser["process_type"], plugin["process_type"]) == (None, "plugin")
        assert plugin["plugin"] and browser["plugin"] is None
        for field in ("product", "version", "build", "os_name", "extensions", "client_crash_date"):
            assert browser[field] == plugin[field]
        assert 0 < (parse(plugin["date_processed"]) - parse(browser["date_processed"])).total_seconds() < 60
        assert browser["signature"].startswith(HANG_PREFIX) or not browser["success"]


def test_process_types_and_plugins(crashes):
    plugin_crashes = [c for c in crashes if c["process_type"] == "plugin"]
    assert 0.03 < len(plugin_crashes) / len(crashes) < 0.08
    assert 0.015 < share(crashes, lambda c: c["process_type"] == "content") < 0.05
    assert all(set(c["plugin"]) == {"name", "filename", "version"} for c in plugin_crashes)
    assert all(c["plugin"] is None for c in crashes if c["process_type"] != "plugin")
    names = collections.Counter(c["plugin"]["name"] for c in plugin_crashes)
    assert names.most_common(1)[0][0] == "Shockwave Flash"


def test_versions_builds_and_channels_match_the_products_file(crashes, products):
    versions = {(v["product_name"], v["version_string"]): v for v in products["versions"]}
    for crash in crashes:
        version = versions[(crash["product"], crash["version"])]
        assert crash["release_channel"] == version["build_type"].lower()
        builds = {b["build_id"] for b in version["builds"] if b["platform"] == platform_of(crash)}
        assert crash["build"] in builds
        built = datetime.datetime.strptime(crash["build"] + "+0000", "%Y%m%d%H%M%S%z")
        assert built < parse(crash["date_processed"])
    channels = {c["release_channel"] for c in crashes}
    assert {"release", "beta", "aurora", "nightly"} <= channels


def test_products_file_shape(products):
    names = {p["product_name"]: p for p in products["products"]}
    assert set(names) == {"Firefox", "Thunderbird", "Fennec", "SeaMonkey"}
    assert names["Fennec"]["release_name"] == "mobile"
    for version in products["versions"]:
        assert version["build_type"] in ("Release", "Beta", "Aurora", "Nightly", "ESR")
        assert (version["beta_number"] is not None) == (version["build_type"] == "Beta")
        assert version["build_date"] <= version["sunset_date"] and version["sunset_date"] > END.isoformat()
        assert version["builds"] and all(re.fullmatch(r"\d{14}", b["build_id"]) for b in version["builds"])
        platforms = {b["platform"] for b in version["builds"]}
        fennec = version["product_name"] == "Fennec"
        assert platforms == ({"android"} if fennec else {"windows", "mac", "linux"})
    firefox = {v["version_string"]: v["build_type"]
               for v in products["versions"] if v["product_name"] == "Firefox"}
    assert firefox["16.0.2"] == "Release" and firefox["17.0b6"] == "Beta"
    assert firefox["18.0a2"] == "Aurora" and firefox["19.0a1"] == "Nightly"


def test_product_and_os_mix(crashes):
    assert 0.6 < share(crashes, lambda c: c["product"] == "Firefox") < 0.8
    desktop = [c for c in crashes if c["product"] != "Fennec"]
    assert 0.65 < share(desktop, lambda c: c["os_name"] == "Windows NT") < 0.85
    assert 0.08 < share(desktop, lambda c: c["os_name"] == "Mac OS X") < 0.22
    assert 0.05 < share(desktop, lambda c: c["os_name"] == "Linux") < 0.16
    assert all(c["cpu_name"] == "arm" for c in crashes if c["product"] == "Fennec")


def test_reasons_match_the_os(crashes):
    prefixes = {"Windows NT": "EXCEPTION_", "Mac OS X": "EXC_", "Linux": "SIG"}
    reasons = [(c["os_name"], c["reason"]) for c in crashes if c["reason"]]
    assert all(reason.startswith(prefixes[os_name]) for os_name, reason in reasons)
    top_reason = collections.Counter(r for _, r in reasons).most_common(1)[0][0]
    assert top_reason == "EXCEPTION_ACCESS_VIOLATION_READ"


# ---- signatures and stacks ---------------------------------------------------------------
def test_signature_is_derived_from_the_top_frames(crashes):
    processed = [c for c in crashes if c["success"]]
    assert len(processed) > 0.95 * len(crashes)
    for crash in processed:
        assert 5 <= len(crash["frames"]) <= 30
        signature = crash["signature"].removeprefix(HANG_PREFIX) if crash["hangid"] else crash["signature"]
        assert signature == signature_from_frames(crash["frames"])
    assert any(" | " in c["signature"] and not c["hangid"] for c in processed)


def test_each_signature_keeps_its_stack_head_but_lower_frames_vary(crashes):
    heads, stacks = collections.defaultdict(set), collections.defaultdict(set)
    for crash in crashes:
        if crash["frames"]:
            key = (crash["signature"], platform_of(crash))
            top = crash["frames"][:crash["signature"].removeprefix(HANG_PREFIX).count(" | ") + 1]
            heads[key].add(tuple((f["function"], f["module"], f["file"], f["line"]) for f in top))
            stacks[key].add(tuple(f["function"] for f in crash["frames"]))
    assert all(len(top) == 1 for top in heads.values())
    assert any(len(variants) > 1 for variants in stacks.values())


def test_modules_are_realistic_per_os(crashes):
    modules = collections.defaultdict(set)
    for crash in crashes:
        modules[crash["os_name"]].update(f["module"] for f in crash["frames"])
    assert {"xul.dll", "ntdll.dll", "nspr4.dll", "mozjs.dll"} <= modules["Windows NT"]
    assert "XUL" in modules["Mac OS X"] and {"libxul.so", "libc.so.6"} <= modules["Linux"]
    assert "xul.dll" not in modules["Linux"] | modules["Mac OS X"]


def test_tricky_signatures_are_in_a_moderate_data_set(crashes):
    counts = collections.Counter(c["signature"] for c in crashes)
    tricky = [counts[signature] for signature in TRICKY_SIGNATURES]
    assert min(tricky) >= 3, tricky
    joined = "".join(TRICKY_SIGNATURES)
    assert all(ch in joined for ch in "/+%'\"\\| ") and not joined.isascii()


def test_signatures_are_zipf_distributed(crashes):
    counts = collections.Counter(c["signature"] for c in crashes)
    assert 200 <= len(counts) <= 1000
    top = counts.most_common(1)[0][1]
    assert 0.01 < top / len(crashes) < 0.08
    assert top > 20 * statistics.median(counts.values())


# ---- client data ---------------------------------------------------------------------------
def test_extensions_and_user_fields(crashes):
    theme = "{972ce4c6-7e08-4474-a285-3208198ce6fd}"
    desktop = [c for c in crashes if c["product"] != "Fennec"]
    assert share(desktop, lambda c: any(e["id"] == theme for e in c["extensions"])) > 0.9
    assert any(e["id"] == "firebug@software.joehewitt.com" for c in crashes for e in c["extensions"])
    assert share(crashes, lambda c: len({e["id"] for e in c["extensions"]}) != len(c["extensions"])) == 0
    assert 0.3 < share(crashes, lambda c: c["url"]) < 0.5
    assert 0.02 < share(crashes, lambda c: c["email"]) < 0.09
    assert all("@" in c["email"] for c in crashes if c["email"])
    assert 0.06 < share(crashes, lambda c: c["user_comments"]) < 0.15
    assert share(crashes, lambda c: c["app_notes"]) > 0.7


def test_duplicates_are_rare_and_point_to_generated_crashes(crashes):
    uuids = {c["uuid"] for c in crashes}
    duplicates = [c for c in crashes if c["duplicate_of"]]
    assert 0 < len(duplicates) < 0.01 * len(crashes)
    assert all(c["duplicate_of"] in uuids and c["duplicate_of"] != c["uuid"] for c in duplicates)
