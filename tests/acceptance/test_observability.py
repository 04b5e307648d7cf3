"""Request log lines with timings, the slow-request threshold and /metrics, through the real
gateway on the test database."""
import logging
import pathlib
import re
import subprocess
import sys
import threading
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from crashgate.middleware.app import make_wsgi_app
from crashgate.middleware.observability import instrument
from crashgate.middleware.requestlog import (WRITE_LIMIT, RequestLog, sensitive_parameters,
                                            write_chunks)
from crashgate.runtime import build_gateway, build_wsgi_app
from crashgate.services.contract import Contract, Param
from tests.conftest import make_config
from tests.wsgiclient import WSGIClient

RECORD = re.compile(r"^(?P<stamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(?P<ms>\d{3}) "
                    r"(?P<level>INFO|WARNING) crashgate\.requests: (?P<message>.*)$")
LINE = re.compile(r"^(?P<method>\S+) (?P<uri>\S+) (?P<status>\d{3}) service=(?P<service>\S+) "
                  r"backend=(?P<backend>\S+) backend_ms=(?P<backend_ms>-|\d+\.\d) "
                  r"total_ms=(?P<total_ms>\d+\.\d)(?P<slow> SLOW \(over \d+ ms\))?$")


@pytest.fixture
def observed(clean_db, tmp_path):
    """(client, observed app) of the instrumented gateway, as build_wsgi_app assembles it,
    writing its request log to a file."""
    config = make_config(clean_db, "--web_server.slow_request_ms=0",
                         f"--web_server.request_log={tmp_path / 'requests.log'}")
    gateway = build_gateway(config)
    app = instrument(make_wsgi_app(gateway), gateway, config.web_server)
    yield WSGIClient(app), app
    for backend in gateway.backends.values():
        backend.close()


def logged_records(app):
    """RECORD matches of the lines in the request log file of ``app``."""
    path = pathlib.Path(app.request_lines.destination)
    return [RECORD.match(line) for line in path.read_text().splitlines()] if path.exists() else []


def request_lines(app):
    """(level, LINE match, message) of each request line ``app`` wrote, after a flush."""
    app.flush()  # lines are queued by requests, written by a background thread or flush()
    return [(record["level"], LINE.match(record["message"]), record["message"])
            for record in logged_records(app)]


def samples(client):
    """{(metric sample name, frozenset of labels): value} from GET /metrics."""
    response = client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.body.decode())
            for sample in family.samples}


def value(found, name, **labels):
    return found.get((name, frozenset(labels.items())), 0.0)


def test_one_line_per_request_with_backend_and_timings(observed):
    client, app = observed
    assert client.get("/products/").status == 200
    assert client.get("/__lbheartbeat__").status == 200
    (level, line, text), (hb_level, heartbeat, _) = request_lines(app)
    assert level == hb_level == "INFO"
    assert line, text
    assert (line["method"], line["uri"], line["status"]) == ("GET", "/products/", "200")
    assert (line["service"], line["backend"]) == ("products", "postgresql")
    assert 0 < float(line["backend_ms"]) <= float(line["total_ms"])
    assert line["slow"] is None
    assert (heartbeat["service"], heartbeat["backend"], heartbeat["backend_ms"]) == (
        "lbheartbeat", "none", "-")


def test_lines_are_written_in_the_background_with_the_request_time(observed):
    client, app = observed
    before = time.time()
    client.get("/__version__")
    after = time.time()
    deadline = time.monotonic() + 5
    while not logged_records(app) and time.monotonic() < deadline:
        time.sleep(0.05)
    (record,) = logged_records(app)
    assert LINE.match(record["message"])["service"] == "version"
    stamped = time.mktime(time.strptime(record["stamp"], "%Y-%m-%d %H:%M:%S"))
    assert int(before) <= stamped <= after  # local time, as logging's asctime
    assert before - 0.001 <= stamped + int(record["ms"]) / 1000 <= after


def test_errors_are_logged_with_their_status(observed):
    client, app = observed
    client.get("/report/list/")
    client.get("/no/such/service/")
    client.get("/products/force_api_impl/nosuchbackend/")
    statuses = [(line["status"], line["service"]) for _, line, _ in request_lines(app)]
    assert statuses == [("400", "report_list"), ("404", "unmatched"), ("400", "products")]


def test_credentials_and_authorization_are_never_logged(observed, caplog):
    client, app = observed
    caplog.set_level(logging.DEBUG)
    client.get("/products/?access_token=s3cr3t-q&token=s3cr3t-t&versions=Firefox:16.0.2",
               headers={"Authorization": "Bearer s3cr3t-header"})
    (_, line, text), = request_lines(app)
    assert line["uri"] == "/products/?access_token=***&token=***&versions=Firefox:16.0.2"
    assert not [record for record in caplog.records if "s3cr3t" in record.getMessage()]
    assert "s3cr3t" not in pathlib.Path(app.request_lines.destination).read_text()


def test_sensitive_parameters_are_redacted_in_path_and_query():
    app = RequestLog(sensitive={"svc": frozenset({"email", "token"})})
    uri = ("/svc/email/a%40b.example/product/Firefox/", "Email=c@d&x=1&token=t")
    assert app.loggable_uri(*uri, "svc") == (
        "/svc/email/***/product/Firefox/?Email=***&x=1&token=***")
    assert app.loggable_uri(*uri, "other") == (
        "/svc/email/a%40b.example/product/Firefox/?Email=c@d&x=1&token=***")


def test_sensitive_parameters_come_from_the_contracts():
    class Service:
        methods = {"GET": Contract(Param("email", sensitive=True, aliases=("Mail",)),
                                   Param("product"))}

    class Plain:
        methods = {"GET": Contract(Param("product"))}

    found = sensitive_parameters({"svc": Service(), "plain": Plain()})
    assert set(found) == {"svc"}
    assert {"email", "mail", "access_token"} <= found["svc"] and "product" not in found["svc"]


def test_long_and_unprintable_uris_are_cut_and_escaped():
    app = RequestLog()
    long = app.loggable_uri("/products/", "x" * 5000, "products")
    assert len(long) < 2100 and long.endswith("(5011 characters)")
    assert app.loggable_uri("/a\nb", "", "unmatched") == "/a\\nb"


class Delayed:
    """A WSGI app answering after ``seconds``."""

    def __init__(self, app, seconds):
        self.app, self.seconds = app, seconds

    def __call__(self, environ, start_response):
        time.sleep(self.seconds)
        return self.app(environ, start_response)


@pytest.mark.parametrize("log_requests", [True, False])
def test_slow_requests_are_warnings_even_without_request_logging(clean_db, tmp_path,
                                                                 log_requests):
    config = make_config(clean_db, "--web_server.slow_request_ms=50",
                         f"--web_server.log_requests={log_requests}",
                         f"--web_server.request_log={tmp_path / 'requests.log'}")
    gateway = build_gateway(config)
    observed = instrument(make_wsgi_app(gateway), gateway, config.web_server)
    client = WSGIClient(observed)
    client.get("/__lbheartbeat__")
    observed.app = Delayed(observed.app, 0.08)
    client.get("/__version__")
    lines = request_lines(observed)
    assert [(level, line["uri"]) for level, line, _ in lines] == (
        [("INFO", "/__lbheartbeat__")] if log_requests else []) + [
        ("WARNING", "/__version__")]
    assert lines[-1][1]["slow"] == " SLOW (over 50 ms)"
    assert float(lines[-1][1]["total_ms"]) >= 80


def test_metrics_count_requests_latency_backend_and_errors(observed):
    client, _ = observed
    for _ in range(3):
        assert client.get("/products/").status == 200
    client.get("/__lbheartbeat__")
    client.get("/report/list/")
    client.request("DELETE", "/products/")
    found = samples(client)
    products = {"service": "products", "method": "GET", "status": "200",
                "backend": "postgresql"}
    assert value(found, "crashgate_requests_total", **products) == 3
    assert value(found, "crashgate_requests_total", service="lbheartbeat", method="GET",
                 status="200", backend="none") == 1
    assert value(found, "crashgate_requests_total", service="report_list", method="GET",
                 status="400", backend="none") == 1
    assert value(found, "crashgate_requests_total", service="products", method="DELETE",
                 status="405", backend="none") == 1
    assert value(found, "crashgate_request_duration_seconds_count", service="products") == 4
    assert value(found, "crashgate_request_duration_seconds_bucket", service="products",
                 le="+Inf") == 4
    assert 0 < value(found, "crashgate_backend_duration_seconds_sum", service="products",
                     backend="postgresql") < value(
        found, "crashgate_request_duration_seconds_sum", service="products")
    assert value(found, "crashgate_backend_duration_seconds_count", service="products",
                 backend="postgresql") == 3
    assert value(found, "crashgate_errors_total", type="missing_argument") == 1
    assert value(found, "crashgate_errors_total", type="method_not_allowed") == 1
    assert value(found, "crashgate_requests_in_flight") == 0
    assert value(found, "crashgate_db_pool", backend="postgresql", state="max") == 8
    assert value(found, "crashgate_db_pool", backend="postgresql", state="idle") >= 1


def test_metrics_scrapes_are_not_counted(observed):
    client, _ = observed
    client.get("/__lbheartbeat__")
    first = samples(client)
    second = samples(client)
    assert first == second
    assert not [labels for name, labels in second if ("service", "metrics") in labels]
    response = client.request("POST", "/metrics")
    assert response.status == 405 and response.json["error"]["type"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET, HEAD"


def test_requests_in_flight(observed):
    client, app = observed
    app.app = Delayed(app.app, 0.5)
    slow = threading.Thread(target=client.get, args=("/__lbheartbeat__",))
    slow.start()
    time.sleep(0.2)
    during = value(samples(client), "crashgate_requests_in_flight")
    slow.join()
    assert during == 1
    assert value(samples(client), "crashgate_requests_in_flight") == 0


def test_a_scrape_waits_for_the_flush_in_progress(observed):
    """A request finished before a scrape is counted by it, even while another thread (the
    flusher) has taken it off the queue but not yet added it to the metrics."""
    client, app = observed
    entered, release = threading.Event(), threading.Event()
    write = app.request_lines.write

    def slow_write(finished):
        if finished:
            entered.set()
            release.wait(5)
        write(finished)

    app.request_lines.write = slow_write
    client.get("/__lbheartbeat__")
    threading.Thread(target=app.flush).start()
    assert entered.wait(5)
    scraped = []
    scrape = threading.Thread(target=lambda: scraped.append(samples(client)))
    scrape.start()
    scrape.join(0.3)
    assert scrape.is_alive()  # waiting for the flush that holds the request
    release.set()
    scrape.join(5)
    assert value(scraped[0], "crashgate_requests_in_flight") == 0
    assert value(scraped[0], "crashgate_requests_total", service="lbheartbeat", method="GET",
                 status="200", backend="none") == 1


def test_production_app_serves_metrics(clean_db):
    client = WSGIClient(build_wsgi_app(make_config(clean_db)))
    client.get("/__lbheartbeat__")
    assert value(samples(client), "crashgate_requests_total", service="lbheartbeat",
                 method="GET", status="200", backend="none") == 1


def test_queued_lines_are_written_when_the_process_exits(pg_dsn):
    script = (
        "import logging, sys\n"
        "from tests.conftest import make_config\n"
        "from tests.wsgiclient import WSGIClient\n"
        "from crashgate.runtime import build_wsgi_app\n"
        "import crashgate.middleware.observability as observability\n"
        "observability.FLUSH_SECONDS = 3600  # only the exit can write the line\n"
        f"client = WSGIClient(build_wsgi_app(make_config({pg_dsn!r})))\n"
        "assert client.get('/__version__').status == 200\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, cwd=pathlib.Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stderr.splitlines() if "crashgate.requests" in line]
    assert RECORD.match(line)["message"].startswith("GET /__version__ 200 service=version")
    assert not done.stdout  # stderr is the default destination


def test_lines_are_written_whole_in_pipe_sized_chunks():
    lines = [f"line {n} {'x' * (n * 37 % 900)}\n" for n in range(400)] + ["é" * 3000 + "\n"]
    chunks = list(write_chunks(lines))
    assert b"".join(chunks).decode() == "".join(lines)
    assert all(chunk.endswith(b"\n") for chunk in chunks)
    assert all(len(chunk) <= WRITE_LIMIT for chunk in chunks[:-1])
    assert chunks[-1] == ("é" * 3000 + "\n").encode()  # a line longer than the limit: alone
    # packed greedily: the first line of the next chunk did not fit in this one
    assert all(len(chunk) + len(following.split(b"\n")[0]) + 1 > WRITE_LIMIT
               for chunk, following in zip(chunks, chunks[1:]))


def finished_request(seconds=0.001, backend_seconds=None):
    """A finished request as the observed app queues it (observability.FINISHED_FIELDS)."""
    return ("/products/", "", "GET", "200", "products", "postgresql", seconds,
            backend_seconds, None, time.time())


def test_a_renamed_log_file_is_replaced_at_the_next_flush(tmp_path):
    path = tmp_path / "requests.log"
    lines = RequestLog(destination=str(path), slow_request_ms=1000)
    lines.write([finished_request(seconds=0.002, backend_seconds=0.001)])
    path.rename(tmp_path / "requests.log.1")  # as logrotate does
    lines.write([finished_request(seconds=2.0, backend_seconds=1.9)])
    (old,), (new,) = ([RECORD.match(line) for line in file.read_text().splitlines()]
                      for file in (tmp_path / "requests.log.1", path))
    assert (old["level"], new["level"]) == ("INFO", "WARNING")
    assert new["message"].endswith("total_ms=2000.0 SLOW (over 1000 ms)")


def test_an_unwritable_request_log_loses_its_lines_with_one_warning(tmp_path, caplog):
    lines = RequestLog(destination=str(tmp_path / "no" / "such" / "dir.log"))
    for _ in range(3):
        # does not raise: the background thread must keep flushing the metrics
        lines.write([finished_request()])
    warnings = [r.getMessage() for r in caplog.records if r.name == "crashgate.middleware.requestlog"]
    assert len(warnings) == 1 and "not writable" in warnings[0] and "1 line(s) lost" in warnings[0]
