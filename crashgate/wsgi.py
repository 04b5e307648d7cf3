"""WSGI entry point for production servers: ``gunicorn -c config/gunicorn.conf.py``.

The configuration file is named by ``CRASHGATE_CONFIG`` (an INI file as written by
``--admin.dump_conf``); ``namespace__option`` environment variables override it.
"""
import os

from crashgate.runtime import build_wsgi_app, configure_logging, resolve_database
from crashgate.settings import load_config

_argv = [f"--admin.conf={os.environ['CRASHGATE_CONFIG']}"] if os.environ.get("CRASHGATE_CONFIG") else []
config = load_config(_argv)
configure_logging(config)
_embedded_server = resolve_database(config)
application = build_wsgi_app(config)
