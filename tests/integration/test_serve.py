"""`crashgate serve` end to end: embedded PostgreSQL, sample data on first start, real HTTP."""
import json
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


@pytest.fixture
def served():
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="cgserve", dir="/tmp"))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "crashgate.cli", "serve", f"--web_server.port={port}",
         f"--database.embedded_data_dir={scratch / 'pg'}", "--sample_data.crashes=600",
         "--sample_data.days=5", "--elasticsearch.indexer_enabled=false"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    banner = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        banner.append(line)
        if "Ctrl-C stops it" in line:
            break
    yield f"http://127.0.0.1:{port}", "".join(banner)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "crashgate stopped" in output


def test_serve_starts_embedded_database_with_sample_data(served):
    base, banner = served
    assert "first start: generating 600 sample crashes" in banner
    assert f"curl {base}/products/" in banner
    status, headers, body = fetch(base + "/products/")
    assert status == 200 and body["total"] >= 4
    assert headers["X-Crashgate-Backend"] == "postgresql"
    status, _, body = fetch(base + "/search/signatures/from/2000-01-01/to/2100-01-01/result_number/5/")
    assert status == 200 and sum(hit["count"] for hit in body["hits"]) > 0
    status, _, body = fetch(base + "/report/list/")
    assert status == 400 and body["error"]["parameter"] == "signature"
    status, _, body = fetch(base + "/__heartbeat__")
    assert status == 200 and body["backends"]["postgresql"]["status"] == "ok"
