"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py`.

crashgate's own options come from the INI file named by CRASHGATE_CONFIG (see
config/crashgate.ini-dist) and `namespace__option` environment variables. Set
database.dsn there: each worker process keeps its own connection pool of
database.max_connections connections (at least `threads`).

Logging: crashgate writes one line per request with its timings to stderr (options
web_server.log_requests, slow_request_ms and request_log), so gunicorn's own access log is off;
it would also log query strings whole.

Metrics: every worker writes its Prometheus values to files in PROMETHEUS_MULTIPROC_DIR
(default: a fresh temporary directory, removed on exit); GET /metrics on any worker answers the
sum over all of them. A directory given in the environment is emptied at start, as
prometheus_client requires.
"""
import glob
import multiprocessing
import os
import shutil
import tempfile

wsgi_app = "crashgate.wsgi:application"
bind = os.environ.get("CRASHGATE_BIND", "127.0.0.1:8883")
workers = int(os.environ.get("CRASHGATE_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = int(os.environ.get("CRASHGATE_THREADS", 4))
timeout = 30
graceful_timeout = 20
keepalive = 5
# Pools connect lazily, so loading the app before forking shares no connection.
preload_app = True
accesslog = None
errorlog = "-"
control_socket_disable = True

# Must be set before prometheus_client is imported, i.e. before the app is loaded.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="crashgate-metrics-")
    os.environ["CRASHGATE_TEMPORARY_METRICS_DIR"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def on_starting(server):
    """Forget the values a previous run left in the metrics directory (the preloaded app's
    own files, written by this process, stay)."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    for path in glob.glob(os.path.join(directory, "*.db")):
        if not path.endswith(f"_{os.getpid()}.db"):
            os.remove(path)


def child_exit(server, worker):
    """Drop a dead worker's live gauges (requests in flight, pool connections); its counters
    and histograms stay in the totals."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if os.environ.get("CRASHGATE_TEMPORARY_METRICS_DIR"):
        shutil.rmtree(os.environ["CRASHGATE_TEMPORARY_METRICS_DIR"], ignore_errors=True)
