"""Labelled fake crash groups (crashgate.fakedata.labelled)."""
import collections
import datetime

import pytest

from crashgate.bucketing.features import collapse_recursion
from crashgate.fakedata.labelled import generate_labelled_reports
from crashgate.ingest.crash_document import normalize_crash

START = datetime.date(2012, 10, 1)


@pytest.fixture(scope="module")
def pairs():
    return generate_labelled_reports(1500, seed=3, project="demo", start=START, days=20)


def test_deterministic(pairs):
    again = generate_labelled_reports(1500, seed=3, project="demo", start=START, days=20)
    assert again == pairs
    assert generate_labelled_reports(50, seed=4, start=START) != generate_labelled_reports(50, seed=5, start=START)


def test_reports_are_partycrasher_reports_and_crash_documents(pairs):
    assert len(pairs) == 1500
    ids = set()
    for report, label in pairs:
        normalize_crash(report)  # raises on an invalid crash document
        assert report["project"] == "demo" and report["database_id"] == report["uuid"]
        assert report["date"] == report["date_processed"] and label.startswith("demo-")
        assert 2 <= len(report["frames"]) <= 60
        ids.add(report["database_id"])
    assert len(ids) == 1500
    dates = [datetime.datetime.fromisoformat(r["date"]) for r, _ in pairs]
    assert dates == sorted(dates)
    assert dates[0].date() >= START and dates[-1].date() <= START + datetime.timedelta(days=19)


def test_group_sizes_zipf_singletons_and_arrivals(pairs):
    sizes = collections.Counter(label for _, label in pairs)
    ordered = sorted(sizes.values(), reverse=True)
    assert ordered[0] >= 10 * statistics_median(ordered)
    assert sum(1 for size in ordered if size == 1) >= 0.05 * len(pairs)
    first_seen = {}
    for index, (_, label) in enumerate(pairs):
        first_seen.setdefault(label, index)
    late = [label for label, index in first_seen.items() if index > len(pairs) // 2 and sizes[label] > 1]
    assert len(late) >= 10  # new groups keep arriving


def statistics_median(values):
    return sorted(values)[len(values) // 2]


def test_groups_share_top_frames_with_noise(pairs):
    by_group = collections.defaultdict(list)
    for report, label in pairs:
        by_group[label].append(report)
    big = [reports for reports in by_group.values() if len(reports) >= 30]
    assert big
    for reports in big:
        tops = collections.Counter(r["frames"][0]["function"] for r in reports)
        depths = {len(r["frames"]) for r in reports}
        offsets = {f["offset"] for r in reports for f in r["frames"][:1]}
        assert len(depths) > 3  # different stack depths
        assert len(offsets) >= 1
        assert tops.most_common(1)[0][1] >= 0.6 * len(reports)  # a shared crash site
    oses = collections.Counter(r["os_name"] for r, _ in pairs)
    assert len(oses) >= 3
    recursive = [r for r, _ in pairs if len(collapse_recursion(r["frames"])) < len(r["frames"])]
    assert len(recursive) >= 20
    # library/event-loop frames are common to many groups
    loop = collections.Counter(label for r, label in pairs
                               if any(f["function"] == "MessageLoop::Run()" for f in r["frames"]))
    assert len(loop) >= 20
