"""`crashgate evaluate-bucketing` on a small labelled set, on both engines: the quality
floor a regression in tokenizing, scoring or candidate search would break."""
import psycopg2
import pytest

from crashgate.cli import main

# Best BCubed F1 over the configured thresholds on 600 generated labelled reports (seed 3):
# measured 0.787 (PostgreSQL) and 0.783 (Elasticsearch) at T = 5.5 on 2026-11-22
# (benchmarks/RESULTS.md, "Bucketing quality"). The floor leaves room for noise, not for a
# regression: PartyCrasher-style features scored 0.54-0.59 on the same kind of data.
MIN_F1 = 0.74


def databases(dsn):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'crashgate_eval_%'")
        return {name for name, in cur.fetchall()}


@pytest.mark.parametrize("engine", ["postgresql", "elasticsearch"])
def test_evaluation_meets_the_quality_floor(pg_dsn, request, engine, capsys):
    options = [f"--database.dsn={pg_dsn}"]
    if engine == "elasticsearch":
        options.append(f"--elasticsearch.urls={request.getfixturevalue('es_url')}")
    before = databases(pg_dsn)
    status = main(["evaluate-bucketing", "--engines", engine, "--reports", "600", "--seed", "3",
                   "--min-f1", str(MIN_F1), *options])
    output = capsys.readouterr().out
    assert f"engine {engine}: 600 reports" in output
    assert "B3 F1" in output
    assert status == 0, output
    assert databases(pg_dsn) == before  # the scratch database is gone


def test_evaluation_fails_below_the_floor(pg_dsn, capsys):
    status = main(["evaluate-bucketing", "--reports", "100", "--seed", "3", "--min-f1", "1.01",
                   f"--database.dsn={pg_dsn}"])
    assert status == 1
    assert "best F1" in capsys.readouterr().out
