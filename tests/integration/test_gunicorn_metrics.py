"""The production gunicorn config (config/gunicorn.conf.py) with 2 workers: /metrics answers
the sum over both workers, whichever serves the scrape, and keeps a dead worker's counts."""
import concurrent.futures
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "gunicorn.conf.py"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url):
    request = urllib.request.Request(url, headers={"Connection": "close"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


@pytest.fixture
def gunicorn(clean_db, tmp_path):
    """(base URL, metrics directory, log file) of gunicorn started from the production
    config with 2 workers on the test database."""
    port, metrics_dir, log_path = free_port(), tmp_path / "metrics", tmp_path / "gunicorn.log"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"stale")  # a previous run's: removed at start
    env = {key: value for key, value in os.environ.items() if "__" not in key}
    env.update(CRASHGATE_BIND=f"127.0.0.1:{port}", CRASHGATE_WORKERS="2",
               CRASHGATE_THREADS="2", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
               database__dsn=clean_db, elasticsearch__urls="http://127.0.0.1:1")
    env.pop("CRASHGATE_CONFIG", None)
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(CONFIG)],
                                   cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, log_path.read_text()
        try:
            if get(base + "/__lbheartbeat__")[0] == 200:
                break
        except OSError:
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
    yield base, metrics_dir, log_path
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, log_path.read_text()


def products_count(base):
    found = [sample.value for family in text_string_to_metric_families(get(base + "/metrics")[1]
                                                                       .decode())
             for sample in family.samples
             if sample.name == "crashgate_requests_total"
             and sample.labels == {"service": "products", "method": "GET", "status": "200",
                                   "backend": "postgresql"}]
    return sum(found)


def wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.2)


def worker_pids(metrics_dir):
    return {int(m.group(1)) for path in metrics_dir.glob("counter_*.db")
            if (m := re.fullmatch(r"counter_(\d+)\.db", path.name))}


def test_metrics_are_summed_over_workers_and_survive_a_worker(gunicorn):
    base, metrics_dir, log_path = gunicorn
    assert not (metrics_dir / "counter_1.db").exists()
    sent = 0
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for _ in range(10):  # until both workers have answered some
            statuses = list(pool.map(lambda _: get(base + "/products/")[0], range(40)))
            assert statuses == [200] * 40
            sent += 40
            time.sleep(0.6)  # workers add their tallies to the shared files 4 times a second
            if len(worker_pids(metrics_dir)) == 2:
                break
    assert len(worker_pids(metrics_dir)) == 2
    for _ in range(6):  # every scrape, whichever worker answers it, sees all requests
        assert products_count(base) == sent
    victim = min(worker_pids(metrics_dir))
    assert (metrics_dir / f"gauge_livesum_{victim}.db").exists()
    os.kill(victim, signal.SIGTERM)  # gunicorn replaces it; child_exit drops its gauges
    wait_for(lambda: not (metrics_dir / f"gauge_livesum_{victim}.db").exists())
    wait_for(lambda: get(base + "/__lbheartbeat__")[0] == 200)
    assert products_count(base) == sent
    lines = [line for line in log_path.read_text().splitlines() if "crashgate.requests" in line]
    assert len([line for line in lines if "GET /products/ 200 service=products "
                "backend=postgresql backend_ms=" in line]) == sent
    assert not [line for line in lines if "/metrics" in line]
