"""The gateway's fixed cost per request, in process: trivial routes through the whole WSGI app.

    .venv/bin/python benchmarks/bench_overhead.py [--calls 20000] [--rounds 7] [--dsn DSN]
        [--multiprocess] [--web_server.log_requests=false ...]

Builds the app exactly as production does (``crashgate.runtime.build_wsgi_app``: request
logging and metrics included when the tree has them; extra arguments are configuration
options), with the root logger at INFO in the configured format writing to /dev/null (and
``web_server.request_log`` set to /dev/null in trees that have it), so a request log line
costs what it costs in production; ``--multiprocess`` sets
PROMETHEUS_MULTIPROC_DIR (a temporary directory) as the gunicorn config does. Each round calls each
route ``--calls`` times; prints the median over rounds of the CPU microseconds (process time,
all threads: less sensitive than wall time to other processes on a shared machine) per
request, including writing the queued log lines.
Routes: ``/__lbheartbeat__`` (built in), ``/config`` (a service answered without a backend)
and, with ``--dsn``, ``/products/`` (one small PostgreSQL query). To compare two trees, run
the script alternately with ``PYTHONPATH=<other tree>`` (e.g. ``git archive HEAD crashgate |
tar -x -C /tmp/head``).
"""
import argparse
import io
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time

ROUTES = ["/__lbheartbeat__", "/config"]
UNREACHABLE_DSN = "host=/nonexistent-crashgate-socket-dir dbname=none connect_timeout=1"


def environ_for(uri):
    path, _, query = uri.partition("?")
    return {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": path,
            "QUERY_STRING": query, "RAW_URI": uri, "SERVER_NAME": "localhost",
            "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "localhost",
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False}


def per_request_us(app, uri, calls):
    template = environ_for(uri)

    def start_response(status, headers, exc_info=None):
        if not status.startswith("200"):
            raise SystemExit(f"{uri} answered {status}")

    flush = getattr(app, "flush", lambda: None)  # log lines queued by the requests
    flush()
    started = time.process_time()
    for _ in range(calls):
        environ = dict(template)
        b"".join(app(environ, start_response))
    flush()
    return (time.process_time() - started) / calls * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--dsn", help="a loaded crashgate database: also time /products/")
    parser.add_argument("--multiprocess", action="store_true",
                        help="prometheus_client multiprocess mode, as under gunicorn")
    args, options = parser.parse_known_args()
    if args.multiprocess:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cgoverhead-")

    from crashgate.runtime import build_wsgi_app
    from crashgate.settings import load_config

    config = load_config(["--elasticsearch.urls=http://127.0.0.1:1", *options], environ={})
    logging.basicConfig(level=logging.INFO, format=config.logging.format,
                        stream=open(os.devnull, "w"))
    config.database.dsn = args.dsn or UNREACHABLE_DSN
    if "request_log" in config.web_server:  # trees whose request log bypasses logging
        config.web_server.request_log = os.devnull
    app = build_wsgi_app(config)
    routes = ROUTES + (["/products/"] if args.dsn else [])
    samples = {route: [] for route in routes}
    for _ in range(args.rounds):
        for route in routes:
            samples[route].append(per_request_us(app, route, args.calls))
    import crashgate.middleware.app as app_module

    print(json.dumps({"tree": app_module.__file__.rsplit("/crashgate/", 1)[0], "options": options,
                      **{route: round(statistics.median(values), 2)
                         for route, values in samples.items()}}))
    if args.multiprocess:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
