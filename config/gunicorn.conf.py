"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py`.

crashgate's own options come from the INI file named by CRASHGATE_CONFIG (see
config/crashgate.ini-dist) and `namespace__option` environment variables. Set
database.dsn there: each worker process keeps its own connection pool of
database.max_connections connections (at least `threads`).
"""
import multiprocessing
import os

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
accesslog = "-"
errorlog = "-"
control_socket_disable = True
