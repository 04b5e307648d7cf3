"""store_crashes writes the same rows whichever way a batch reaches the staging table: small
batches are sent as an INSERT (up to store.INSERT_MAX crashes), large ones by COPY."""
import pytest

from crashgate.ingest.store import INSERT_MAX
from tests.conftest import truncate_data_tables
from tests.integration.test_loader import load, make_crash, query, write_lines

# Every table store_crashes writes; surrogate ids are replaced by what they stand for.
SURROGATES = {"id", "report_id", "plugin_id", "signature_id"}
TABLES = ("crash_ids", "es_outbox", "reports", "extensions", "plugins", "plugins_reports",
          "jobs", "signatures", "tcbs", "tcbs_weekly", "signature_products", "crash_daily",
          "signature_daily", "signature_daily_totals")


def canonical_rows(db, table):
    """The sorted rows of ``table`` with ids turned into natural keys (sequences advance
    differently when upserts conflict, so ids themselves may differ) and without the
    columns that record when a row was written."""
    columns = [name for name, in query(db, """
        SELECT column_name FROM information_schema.columns
         WHERE table_name = %s AND coalesce(column_default, '') NOT LIKE '%%now()%%'
         ORDER BY ordinal_position""", (table,))]
    assert columns, table
    selected = [f"t.{c}::text" for c in columns if c not in SURROGATES]
    joins = []
    if "signature_id" in columns and table != "signatures":
        joins.append("JOIN signatures s ON s.signature_id = t.signature_id")
        selected.append("s.signature")
    if "plugin_id" in columns:
        joins.append("JOIN plugins p ON p.id = t.plugin_id")
        selected += ["p.filename", "p.name"]
    rows = query(db, f"SELECT {', '.join(selected)} FROM {table} t {' '.join(joins)}")
    return sorted(rows, key=repr)


def crash_documents(count):
    docs = []
    for number in range(count):
        fields = {}
        if number % 3 == 0:
            fields["extensions"] = [{"id": f"ext{number % 4}@example.org",
                                    "version": f"1.{number % 2}"}]
        if number % 5 == 1:
            fields["plugin"] = {"filename": "NPSWF32.dll", "name": "Shockwave Flash",
                                "version": f"11.{number % 3}"}
        docs.append(make_crash(number, **fields))
    return docs


@pytest.mark.parametrize("small_batch", [1, 7, INSERT_MAX])
def test_insert_and_copy_paths_store_the_same_rows(db, clean_db, tmp_path, small_batch):
    docs = crash_documents(3 * INSERT_MAX + 5)
    crashes = write_lines(tmp_path / "crashes.jsonl", docs + docs[:4])  # 4 repeats
    assert len(docs) > INSERT_MAX  # the whole-file batch goes by COPY

    summary, _ = load(clean_db, [crashes], batch_size=len(docs) + 10)
    by_copy = {table: canonical_rows(db, table) for table in TABLES}
    truncate_data_tables(clean_db)
    small, _ = load(clean_db, [crashes], batch_size=small_batch)
    by_insert = {table: canonical_rows(db, table) for table in TABLES}

    assert summary.loaded == small.loaded == len(docs)
    assert summary.duplicates == small.duplicates == 4
    assert len(by_copy["reports"]) == len(docs) and by_copy["extensions"]
    assert by_copy["plugins_reports"]
    for table in TABLES:
        assert by_insert[table] == by_copy[table], table
