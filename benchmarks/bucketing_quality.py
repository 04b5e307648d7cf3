"""Bucketing quality and speed of the pure-Python core on labelled fake data (analysis only).

An exact scorer (every earlier report of the project is scored, through an in-memory
inverted index; df computed online) runs the paper's online protocol for each tokenizer,
feature set and formula variant, and prints the cumulative BCubed/purity table per threshold.

    .venv/bin/python benchmarks/bucketing_quality.py [--reports 4000] [--seed 1] [--variants all]
"""
import argparse
import datetime
import json
import pathlib
import statistics
import sys
import time
from collections import Counter, defaultdict, namedtuple

from crashgate.bucketing import scoring
from crashgate.bucketing.assignment import assign_buckets
from crashgate.bucketing.evaluation import evaluate, format_table
from crashgate.bucketing.features import report_terms
from crashgate.bucketing.scoring import Formula
from crashgate.bucketing.tokenizers import load_tokenizer
from crashgate.fakedata.labelled import generate_labelled_reports

THRESHOLDS = ["1.0", "2.0", "3.0", "3.5", "4.0", "4.5", "5.0", "5.5", "6.0", "6.5", "7.0", "7.5", "8.0", "9.0"]
DEFAULT_THRESHOLD = "5.0"  # the best F1 of the default variant ("camel"); see RESULTS
LAUNCHPAD = pathlib.Path(__file__).resolve().parents[2] / "shared/data/launchpad-crash-samples"
TopMatch = namedtuple("TopMatch", "score buckets")
BASELINE = dict(top_frame_weights=(), frame_weights=(), collapse=False, whole_hex=False, whole_functions=False,
                drop_locations=False)
VARIANTS = {  # name: (tokenizer, feature options, formula)
    "camel": ("camel", {}, Formula()),
    "lerch": ("lerch", {}, Formula()),
    "space": ("space", {}, Formula()),
    "camel-stack-only": ("camel", {"stack_only": True}, Formula()),
    "camel-keep-locations": ("camel", {"drop_locations": False}, Formula()),
    "camel-classic-idf": ("camel", {}, Formula(idf="classic")),
    "camel-pc-features": ("camel", BASELINE, Formula()),
    "camel-pc-features-classic": ("camel", BASELINE, Formula(idf="classic")),
    "camel-idf1": ("camel", {}, Formula(idf_power=1.0)),
    "camel-no-norm": ("camel", {}, Formula(norm_power=0.0)),
}


class ExactScorer:
    """Online exact nearest neighbour over all earlier reports, by accumulating over postings."""

    def __init__(self, tokenize, options, formula, thresholds):
        self.tokenize, self.options, self.formula, self.thresholds = tokenize, options, formula, thresholds
        self.df, self.postings, self.norms, self.buckets = Counter(), defaultdict(list), [], []

    def assign(self, report):
        terms = report_terms(report, self.tokenize, **self.options)
        weights = self.formula.query_weights(terms, self.df, len(self.norms))
        top_match = self.top_match(weights, self.formula.self_score(weights, terms))
        buckets = assign_buckets(self.thresholds, top_match)
        doc, power = len(self.norms), self.formula.tf_power
        for term, tf in terms.items():
            self.df[term] += 1
            self.postings[term].append((doc, tf ** power))
        self.norms.append(self.formula.document_norm(terms))
        self.buckets.append(buckets)
        return buckets

    def top_match(self, weights, self_score):
        if self_score <= 0:
            return None
        acc = defaultdict(float)
        for term, weight in weights.items():
            for doc, value in self.postings[term]:
                acc[doc] += weight * value
        if not acc:
            return None
        norms = self.norms
        best = max(acc, key=lambda doc: (acc[doc] * norms[doc], doc))  # ties: the latest report
        value = min(10.0, round(10.0 * acc[best] * norms[best] / self_score, 4))
        return TopMatch(value, self.buckets[best])


def signature_baseline(field):
    """PartyCrasher's signature baselines: same ``field(report)`` -> same bucket."""
    def assign(report):
        key = field(report)
        return {t: key for t in THRESHOLDS}
    return assign


def top_function(report):
    frames = report.get("frames") or []
    return frames[0]["function"] if frames else report["database_id"]


def run_variant(name, pairs, every):
    tokenizer, options, formula = VARIANTS[name]
    scorer = ExactScorer(load_tokenizer(tokenizer), options, formula, THRESHOLDS)
    began = time.perf_counter()
    rows = evaluate(pairs, scorer.assign, THRESHOLDS, every=every)
    return rows, time.perf_counter() - began


def per_report_timing(pairs, tokenize, candidates=20, repeat=3):
    """CPU milliseconds (``process_time``: little affected by other processes on a shared machine)
    for report_terms + query_weights + self_score + scoring ``candidates`` stored reports, per
    report (reports of 25+ frames; memo warm, as in a running server)."""
    reports = [r for r, _ in pairs]
    stored = [report_terms(r, tokenize) for r in reports]
    df = Counter(t for terms in stored for t in terms)
    norms = [scoring.document_norm(t) for t in stored]
    sample = [r for r in reports if len(r["frames"]) >= 25][:200]
    best = None
    for _ in range(repeat):
        began = time.process_time()
        for i, report in enumerate(sample):
            terms = report_terms(report, tokenize)
            weights = scoring.query_weights(terms, df, len(stored))
            own = scoring.self_score(weights, terms)
            for j in range(i, i + candidates):
                scoring.score(weights, own, stored[j], norms[j])
        elapsed = (time.process_time() - began) / len(sample) * 1000
        best = elapsed if best is None else min(best, elapsed)
    return best, statistics.mean(len(r["frames"]) for r in sample)


def launchpad_check():
    """Self-scores and the best other score of the nine real Launchpad samples, per tokenizer."""
    reports = [json.loads(p.read_text()) for p in sorted(LAUNCHPAD.glob("*.json"))]
    lines = []
    for name in ("camel", "lerch", "space"):
        terms = [report_terms(r, load_tokenizer(name)) for r in reports]
        df = Counter(t for ts in terms for t in ts)
        for report, own_terms in zip(reports, terms):
            weights = scoring.query_weights(own_terms, df, len(terms))
            own = scoring.self_score(weights, own_terms)
            scores = [scoring.score(weights, own, other, scoring.document_norm(other)) for other in terms]
            others = [(s, r["database_id"]) for s, r in zip(scores, reports) if r is not report]
            lines.append(f"{name:6} {report['database_id']} terms={len(own_terms):5d} "
                         f"self={scores[reports.index(report)]:.1f} best other={max(others)[0]:.2f} "
                         f"({max(others)[1]})")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--every", type=int, default=0)
    parser.add_argument("--variants", default="all", help="comma-separated names, or all: " + ", ".join(VARIANTS))
    args = parser.parse_args(argv)
    pairs = generate_labelled_reports(args.reports, seed=args.seed, start=datetime.date(2012, 10, 1), days=30)
    labels = Counter(label for _, label in pairs)
    print(f"{len(pairs)} labelled reports, {len(labels)} gold buckets, "
          f"{sum(1 for c in labels.values() if c == 1)} singletons, largest {labels.most_common(1)[0][1]}")
    names = list(VARIANTS) if args.variants == "all" else args.variants.split(",")
    summary = []
    for name in names:
        rows, seconds = run_variant(name, pairs, args.every or None)
        print(f"\n== {name} ({seconds:.1f} s)\n{format_table(rows)}")
        final = [row for row in rows if row["n"] == len(pairs)]
        best = max(final, key=lambda row: row["bcubed_f1"])
        summary.append((name, best["threshold"], best["bcubed_f1"]))
    for name, field in (("1Frame", top_function), ("signature", lambda r: r["signature"])):
        rows = evaluate(pairs, signature_baseline(field), ["4.0"])
        print(f"\n== baseline {name}\n{format_table(rows)}")
        summary.append((name, "-", rows[-1]["bcubed_f1"]))
    print("\n== best F1 per variant")
    for name, threshold, f1 in summary:
        print(f"{name:20} T={threshold:4} F1={f1:.3f}")
    for name in ("camel", "lerch", "space"):
        ms, frames = per_report_timing(pairs, load_tokenizer(name))
        print(f"timing {name}: {ms:.3f} ms per report (terms + weights + 20 candidates; "
              f"{frames:.0f} frames on average)")
    print("\n== Launchpad samples\n" + launchpad_check())


if __name__ == "__main__":
    sys.exit(main())
