"""Indexing into a real Elasticsearch from a real PostgreSQL: the outbox written with every new
crash, the indexer draining it into weekly indices, rejected documents set aside, a stopped
node (nothing lost), reindex, several indexers sharing the queue, and the commands.
"""
import datetime
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import psycopg2
import psycopg2.extras
import pytest
from elasticsearch import Elasticsearch, helpers

from crashgate.cli import main as cli_main
from crashgate.errors import BackendUnavailable
from crashgate.external.elasticsearch.document import CRASH_ROWS_SQL, to_document
from crashgate.external.elasticsearch.indexer import Indexer, run_in_thread
from crashgate.external.elasticsearch.indices import index_for
from crashgate.ingest.crash_document import normalize_crash
from crashgate.ingest.store import store_crashes
from tests.conftest import make_config, start_es_or_skip
from tests.factories import crash_doc, store

UTC = datetime.timezone.utc
MONDAY = datetime.datetime(2024, 3, 4, tzinfo=UTC)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def at(days, hours=12, minutes=0):
    return MONDAY + datetime.timedelta(days=days, hours=hours, minutes=minutes)


def crashes(count, first=0):
    """``count`` crashes spread over three weeks from MONDAY, some with extensions."""
    return [crash_doc(at(n % 21, n % 24), signature=f"mozilla::Sig{n % 7}",
                      extensions=[{"id": f"ext{n % 3}@x", "version": "1"}] if n % 2 else [])
            for n in range(first, first + count)]


def poll(condition, timeout=60.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not true after {timeout} s: {condition}"
        time.sleep(interval)


def sql(dsn, query, params=None):
    conn = psycopg2.connect(dsn, options="-c TimeZone=UTC")
    try:
        with conn, conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall()
    finally:
        conn.close()


def outbox(dsn):
    return sql(dsn, "SELECT uuid, date_processed, failed_at IS NOT NULL, error FROM es_outbox "
                    "ORDER BY id")


def pg_documents(dsn):
    """{uuid: document} of every crash in PostgreSQL."""
    conn = psycopg2.connect(dsn, options="-c TimeZone=UTC")
    try:
        with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(CRASH_ROWS_SQL)
            return {row["uuid"]: to_document(row) for row in cur.fetchall()}
    finally:
        conn.close()


def es_hits(es, prefix):
    """{_id: hit} of every document in the indices of ``prefix``, after a refresh."""
    es.indices.refresh(index=f"{prefix}*")
    return {hit["_id"]: hit for hit in helpers.scan(es, index=f"{prefix}*", version=True,
                                                    query={"query": {"match_all": {}}})}


def drain_all(indexer):
    total = 0
    while moved := indexer.drain_once():
        total += moved
    return total


def test_new_crashes_are_queued_once_in_the_storing_transaction(clean_db):
    first, second, third = crash_doc(at(0)), crash_doc(at(1)), crash_doc(at(2))
    store(clean_db, [first, second])
    store(clean_db, [first, second, third, third])  # duplicates queue nothing
    assert sorted(outbox(clean_db)) == sorted(
        (doc["uuid"], datetime.datetime.fromisoformat(doc["date_processed"]), False, None)
        for doc in (first, second, third))

    conn = psycopg2.connect(clean_db)
    try:
        with conn.cursor() as cur:
            store_crashes(cur, [normalize_crash(crash_doc(at(3)))])
            cur.execute("SELECT count(*) FROM es_outbox")
            assert cur.fetchone() == (4,)
        conn.rollback()  # the crash and its outbox row go together
    finally:
        conn.close()
    assert len(outbox(clean_db)) == 3


def test_drain_sends_each_crash_to_its_weekly_index(clean_db, es, prefix, make_indexer):
    docs = [crash_doc(at(0, 0)), crash_doc(at(6, 23, 59)), crash_doc(at(7, 0)),
            crash_doc(at(28), signature="mozilla::dom::Element::GetAttr",
                      extensions=[{"id": "ext@x", "version": "2.0"}],
                      plugin={"name": "Flash", "filename": "NPSWF32.dll", "version": "11"},
                      user_comments="It broke")]
    store(clean_db, docs)
    indexer = make_indexer(batch_size=3)
    assert indexer.backlog() == 4
    assert [indexer.drain_once(), indexer.drain_once(), indexer.drain_once()] == [3, 1, 0]
    assert indexer.backlog() == 0 and outbox(clean_db) == []
    assert indexer.stats.indexed == 4

    hits = es_hits(es, prefix)
    weeks = [f"{prefix}20240304", f"{prefix}20240304", f"{prefix}20240311",
             f"{prefix}20240401"]
    assert {doc["uuid"]: hits[doc["uuid"]]["_index"] for doc in docs} == {
        doc["uuid"]: week for doc, week in zip(docs, weeks)}
    assert all(hit["_index"] == index_for(prefix, "week", datetime.datetime.fromisoformat(
        hit["_source"]["date_processed"])) for hit in hits.values())
    assert {uuid: hit["_source"] for uuid, hit in hits.items()} == pg_documents(clean_db)
    last = hits[docs[3]["uuid"]]["_source"]
    assert (last["plugin_name"], last["frame_functions"], last["user_comments"]) == (
        "Flash", ["mozilla::dom::Element::GetAttr"], "It broke")
    assert [e["extension_id"] for e in last["extensions"]] == ["ext@x"]
    # the template's alias and analysers apply to the indices the indexer created
    assert es.count(index=f"{prefix}all")["count"] == 4
    found = es.search(index=f"{prefix}all", query={"match": {"signature.text": "attr"}})
    assert [hit["_id"] for hit in found["hits"]["hits"]] == [docs[3]["uuid"]]


def test_rejected_document_is_set_aside_and_the_queue_moves_on(clean_db, es, prefix,
                                                               make_indexer):
    week = f"{prefix}20240304"  # a signature that is not a number cannot go in this index
    es.indices.create(index=week, mappings={"dynamic": False,
                                            "properties": {"signature": {"type": "long"}}})
    good, bad, other = (crash_doc(at(0), signature="12345"),
                        crash_doc(at(1), signature="NotANumber"), crash_doc(at(7)))
    store(clean_db, [good, bad, other])
    indexer = make_indexer()
    assert indexer.drain_once() == 3
    assert (indexer.backlog(), indexer.failed()) == (0, 1)
    assert (indexer.stats.indexed, indexer.stats.failed) == (2, 1)
    [(uuid, _, failed, error)] = outbox(clean_db)
    assert (uuid, failed) == (bad["uuid"], True) and "mapper_parsing_exception" in error

    later = crash_doc(at(8))
    store(clean_db, [later])
    assert [indexer.drain_once(), indexer.drain_once()] == [1, 0]  # not blocked by `bad`

    es.indices.delete(index=week)  # the fix: the template's mapping again
    assert indexer.requeue_failed() == 1
    assert indexer.drain_once() == 1 and outbox(clean_db) == []
    assert es.get(index=week, id=bad["uuid"])["_source"]["signature"] == "NotANumber"


def test_write_block_keeps_crashes_queued_until_lifted(clean_db, es, prefix, make_indexer):
    indexer = make_indexer()
    assert indexer.drain_once() == 0  # installs the template
    blocked = f"{prefix}20240304"
    es.indices.create(index=blocked, settings={"index.blocks.write": True})
    waiting, passing = crash_doc(at(0)), crash_doc(at(7))
    store(clean_db, [waiting, passing])
    with pytest.raises(BackendUnavailable, match="cluster_block_exception"):
        indexer.drain_once()
    assert [row[:3] for row in outbox(clean_db)] == [
        (waiting["uuid"], datetime.datetime.fromisoformat(waiting["date_processed"]), False)]
    assert (indexer.stats.indexed, indexer.stats.deferred, indexer.failed()) == (1, 1, 0)

    es.indices.put_settings(index=blocked, body={"index.blocks.write": False})
    assert indexer.drain_once() == 1 and outbox(clean_db) == []
    assert {u: h["_source"] for u, h in es_hits(es, prefix).items()} == pg_documents(clean_db)


def test_node_stopped_mid_way_loses_nothing(clean_db, tmp_path, make_indexer, caplog):
    data_dir = tmp_path / "es"
    node = start_es_or_skip(data_dir)
    try:
        store(clean_db, crashes(300))
        indexer = make_indexer(url=node.url, index_prefix="outage-", batch_size=100,
                               workers=2, idle_seconds=0.05, first_backoff_seconds=0.05,
                               max_backoff_seconds=0.4)
        assert indexer.drain_once() == 100
        store(clean_db, crashes(200, first=300))
        node.stop()

        with pytest.raises(BackendUnavailable):
            indexer.drain_once()
        assert (indexer.backlog(), indexer.failed()) == (400, 0)
        caplog.set_level(logging.INFO)
        stop = run_in_thread(indexer)
        poll(lambda: indexer.failures >= 5, timeout=20)  # backing off, not crashing
        assert indexer.backlog() == 400

        node = start_es_or_skip(data_dir, http_port=node.port)  # same data, same URL
        poll(lambda: indexer.backlog() == 0, timeout=60)
        stop()
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and "outbox keeps the crashes" in warnings[0]
        assert any("resumed after" in r.getMessage() for r in caplog.records)

        es = Elasticsearch(node.url, timeout=30)
        hits = es_hits(es, "outage-")
        assert sql(clean_db, "SELECT count(*) FROM crash_ids") == [(500,)] and len(hits) == 500
        assert {uuid: hit["_source"] for uuid, hit in hits.items()} == pg_documents(clean_db)
        es.close()
    finally:
        node.stop()


def test_indexers_sharing_the_queue_index_each_crash_once(clean_db, es, prefix, make_indexer):
    store(clean_db, crashes(400))
    threaded = make_indexer(batch_size=25, workers=2, idle_seconds=0.05)
    single = make_indexer(batch_size=25, workers=1)
    stop_threaded = run_in_thread(threaded)
    drain_all(single)
    poll(lambda: single.backlog() == 0)
    stop_threaded()

    assert threaded.stats.indexed > 0 and single.stats.indexed > 0
    assert threaded.stats.indexed + single.stats.indexed == 400
    hits = es_hits(es, prefix)
    assert len(hits) == 400 and {hit["_version"] for hit in hits.values()} == {1}


def test_reindex_recreates_deleted_documents(clean_db, es, es_url, prefix, make_indexer,
                                             capsys):
    store(clean_db, crashes(60))
    indexer = make_indexer(batch_size=7)
    assert drain_all(indexer) == 60
    week1, week2 = f"{prefix}20240304", f"{prefix}20240311"
    in_week2 = sorted(u for u, h in es_hits(es, prefix).items() if h["_index"] == week2)
    es.indices.delete(index=week1)
    es.delete(index=week2, id=in_week2[0])

    summary = indexer.reindex(at(7, 0), at(14, 0))  # week 2 only
    assert (summary.sent, summary.failed) == (len(in_week2), 0)
    hits = es_hits(es, prefix)
    assert sorted(u for u, h in hits.items() if h["_index"] == week2) == in_week2
    assert not es.indices.exists(index=week1)
    assert indexer.reindex(at(70), at(77), pause_refresh=True).sent == 0  # no index there

    code = cli_main(["reindex", "--from", "2024-03-04", "--to", "2024-03-24", "--pause-refresh",
                     f"--database.dsn={clean_db}", f"--elasticsearch.urls={es_url}",
                     f"--elasticsearch.index_prefix={prefix}"])
    assert code == 0
    assert re.search(r"reindexed 60 crashes processed from 2024-03-04 to 2024-03-25",
                     capsys.readouterr().out)
    assert {u: h["_source"] for u, h in es_hits(es, prefix).items()} == pg_documents(clean_db)
    settings = es.indices.get_settings(index=week1, name="index.refresh_interval")
    assert settings[week1]["settings"]["index"]["refresh_interval"] == "1s"
    assert not es.indices.exists_template(name=f"{prefix}reindex")


def _command(dsn, es_url, prefix, *argv):
    env = {k: v for k, v in os.environ.items() if "__" not in k}  # no configman variables
    return subprocess.Popen(
        [sys.executable, "-m", "crashgate.cli", *argv, f"--database.dsn={dsn}",
         f"--elasticsearch.urls={es_url}", f"--elasticsearch.index_prefix={prefix}",
         "--elasticsearch.indexer_idle_seconds=0.1"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _stop(process):
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    return process.returncode, output


def test_indexer_command_drains_until_sigterm(clean_db, es, es_url, prefix):
    store(clean_db, crashes(30))
    process = _command(clean_db, es_url, prefix, "indexer")
    try:
        poll(lambda: sql(clean_db, "SELECT count(*) FROM es_outbox") == [(0,)], timeout=30)
    finally:
        code, output = _stop(process)
    assert code == 0, output
    assert "indexer stopped: 30 crashes indexed, 0 rejected" in output
    assert len(es_hits(es, prefix)) == 30


def test_serve_runs_the_indexer_and_stops_it(clean_db, es, es_url, prefix):
    store(clean_db, crashes(30))
    process = _command(clean_db, es_url, prefix, "serve", "--web_server.port=0")
    try:
        lines = iter(process.stdout.readline, "")
        base = next(found.group(1) for line in lines
                    if (found := re.search(r"serving on (http://\S+?)/ ", line)))
        with urllib.request.urlopen(f"{base}/__lbheartbeat__", timeout=10) as response:
            assert response.status == 200
        poll(lambda: sql(clean_db, "SELECT count(*) FROM es_outbox") == [(0,)], timeout=30)
    finally:
        code, output = _stop(process)
    assert code == 0 and "crashgate stopped" in output, output
    assert {u: h["_source"] for u, h in es_hits(es, prefix).items()} == pg_documents(clean_db)


def index_settings(es, prefix):
    """{index: (refresh_interval, number_of_replicas)} of the crash indices of ``prefix``."""
    found = es.indices.get_settings(index=f"{prefix}2*", name="index.refresh_interval,"
                                    "index.number_of_replicas", flat_settings=True)
    return {name: (entry["settings"].get("index.refresh_interval", "1s"),
                   entry["settings"]["index.number_of_replicas"])
            for name, entry in found.items()}


def test_options_reach_the_indexer(make_indexer, clean_db, es_url, prefix):
    config = make_config(clean_db, f"--elasticsearch.urls={es_url}",
                         "--elasticsearch.indexer_workers=5",
                         "--elasticsearch.indexer_bulk_mode_backlog=77")
    indexer = Indexer.from_config(config)
    try:
        assert (indexer.workers, indexer.bulk_mode_backlog, indexer.batch_size) == (5, 77, 500)
    finally:
        indexer.close()


def test_bulk_mode_while_a_large_backlog_waits(make_indexer, clean_db, es, prefix, monkeypatch):
    """Backlog over the threshold: refresh off and no replicas in existing and new crash
    indices; back to the template's settings when the indexer stops."""
    import crashgate.external.elasticsearch.indexer as indexer_module
    monkeypatch.setattr(indexer_module, "BACKLOG_CHECK_SECONDS", 0.05)
    store(clean_db, crashes(4))
    drain_all(make_indexer())  # indices exist, with the template's settings
    assert set(index_settings(es, prefix).values()) == {("1s", "0")}
    store(clean_db, crashes(30, first=100))
    watcher = make_indexer(workers=0, bulk_mode_backlog=20)  # nobody drains: it stays on
    stop = indexer_module.threading.Event()
    thread = indexer_module.threading.Thread(target=watcher.run_forever, args=(stop,))
    thread.start()
    try:
        poll(lambda: watcher.bulk_mode)
        assert set(index_settings(es, prefix).values()) == {("-1", "0")}
        assert es.indices.get_template(name=f"{prefix}bulk")[f"{prefix}bulk"]["settings"] \
            == {"index": {"refresh_interval": "-1", "number_of_replicas": "0"}}
        drain_all(make_indexer(bulk_mode_backlog=0))  # a new week's index is made meanwhile
        assert set(index_settings(es, prefix).values()) == {("-1", "0")}
    finally:
        stop.set()
        thread.join(30)
    assert not watcher.bulk_mode
    assert set(index_settings(es, prefix).values()) == {("1s", "0")}
    assert not es.indices.exists_template(name=f"{prefix}bulk")
    assert len(es_hits(es, prefix)) == 34


def test_a_bulk_mode_left_behind_is_undone(make_indexer, clean_db, es, prefix, monkeypatch):
    import crashgate.external.elasticsearch.indexer as indexer_module
    monkeypatch.setattr(indexer_module, "BACKLOG_CHECK_SECONDS", 0.05)
    store(clean_db, crashes(3))
    dead = make_indexer()
    drain_all(dead)
    dead._switch_bulk_mode(True)  # as if killed in bulk mode
    assert set(index_settings(es, prefix).values()) == {("-1", "0")}
    stop = indexer_module.threading.Event()
    successor = make_indexer(bulk_mode_backlog=1000)
    thread = indexer_module.threading.Thread(target=successor.run_forever, args=(stop,))
    thread.start()
    try:
        poll(lambda: set(index_settings(es, prefix).values()) == {("1s", "0")})
    finally:
        stop.set()
        thread.join(30)
    assert not es.indices.exists_template(name=f"{prefix}bulk")
