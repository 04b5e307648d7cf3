"""Loading the stevedore plugins once at start-up.

Three entry-point groups:
- ``crashgate.services``: name -> Service class (the API families);
- ``crashgate.backends``: name -> backend class, built with the configuration (owns the pool
  or client and the health check);
- ``crashgate.implementations``: ``<backend>.<service>`` -> implementation class, built with
  its backend.
A plugin that fails to import stops start-up with an error naming it.
"""
from stevedore import ExtensionManager

SERVICES = "crashgate.services"
BACKENDS = "crashgate.backends"
IMPLEMENTATIONS = "crashgate.implementations"


class PluginError(RuntimeError):
    pass


def _fail(_manager, entrypoint, exc):
    raise PluginError(f"plugin {entrypoint.name!r} ({entrypoint.value}) failed to load: {exc}") from exc


def load_group(namespace):
    """{entry-point name: loaded object} for every plugin of ``namespace``."""
    manager = ExtensionManager(namespace, invoke_on_load=False,
                               on_load_failure_callback=_fail)
    return {extension.name: extension.plugin for extension in manager}


def split_implementation_name(name):
    """``'postgresql.products_builds'`` -> ``('postgresql', 'products_builds')``."""
    backend, sep, service = name.partition(".")
    if not sep or not backend or not service:
        raise PluginError(f"implementation entry point {name!r} is not '<backend>.<service>'")
    return backend, service
