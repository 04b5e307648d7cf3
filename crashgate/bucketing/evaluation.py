"""The paper's online evaluation protocol (notes §3.2).

Reports are processed strictly in the given order; ``assign(report)`` (supplied by an engine
or an analysis scorer) buckets a report against the reports assigned before it and returns
``{threshold: bucket id}``. Metrics are cumulative over all reports so far.
"""
from crashgate.bucketing.metrics import Contingency
from crashgate.bucketing.thresholds import format_threshold, parse_threshold, parse_thresholds

COLUMNS = (("n", "n", "{:d}"), ("threshold", "T", "{}"), ("bcubed_precision", "B3 P", "{:.3f}"),
           ("bcubed_recall", "B3 R", "{:.3f}"), ("bcubed_f1", "B3 F1", "{:.3f}"),
           ("purity", "purity", "{:.3f}"), ("inverse_purity", "inv.pur", "{:.3f}"),
           ("purity_f", "pur.F", "{:.3f}"), ("buckets", "buckets", "{:d}"),
           ("gold_buckets", "gold", "{:d}"))


def evaluate(labelled_reports, assign, thresholds, every=None):
    """Rows ``{n, threshold ("4.0"), bcubed_precision, ..., buckets, gold_buckets}``: one per
    threshold after every ``every`` reports and after the last one."""
    thresholds = parse_thresholds(thresholds)
    tables = {threshold: Contingency() for threshold in thresholds}
    rows, n = [], 0
    for report, label in labelled_reports:
        assigned = {parse_threshold(key): bucket for key, bucket in assign(report).items()}
        for threshold in thresholds:
            if threshold not in assigned:
                raise ValueError(f"assign() returned no bucket at threshold {format_threshold(threshold)}")
            tables[threshold].add(assigned[threshold], label)
        n += 1
        if every and n % every == 0:
            rows.extend(_rows(tables))
    if n and not (every and n % every == 0):
        rows.extend(_rows(tables))
    return rows


def _rows(tables):
    return [dict(tables[threshold].scores().as_dict(), threshold=format_threshold(threshold))
            for threshold in sorted(tables)]


def format_table(rows):
    """The rows as a plain-text table, one line per row."""
    header = [title for _, title, _ in COLUMNS]
    body = [[fmt.format(row[key]) for key, _, fmt in COLUMNS] for row in rows]
    widths = [max(len(cell) for cell in column) for column in zip(header, *body)]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(line, widths))
                     for line in [header] + body)
