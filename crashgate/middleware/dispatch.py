"""Choosing the implementation that answers a request.

Backend = the forced one (``force_api_impl`` / ``_force_api_impl``) if given, else the
service's override from ``implementations.service_overrides``, else
``implementations.default``. The table of implementations is built once; a request does a
dictionary lookup.
"""
from crashgate.errors import UnsupportedBackend

FORCE_PARAMETERS = ("force_api_impl", "_force_api_impl")


class ConfigurationError(RuntimeError):
    pass


class Dispatcher:
    def __init__(self, implementations, default_backend, overrides, service_names):
        """``implementations``: {(backend, service): implementation object}."""
        self._table = dict(implementations)
        self._backends_of = {}
        for backend, service in self._table:
            self._backends_of.setdefault(service, []).append(backend)
        for backends in self._backends_of.values():
            backends.sort()
        self.default_backend = default_backend
        self.overrides = dict(overrides)
        self._check_configuration(service_names)

    def _check_configuration(self, service_names):
        backends = {backend for backend, _ in self._table}
        if self.default_backend not in backends:
            raise ConfigurationError(
                f"implementations.default = {self.default_backend!r} is not an installed "
                f"backend; installed: {', '.join(sorted(backends)) or 'none'}")
        for service, backend in self.overrides.items():
            if service not in service_names:
                raise ConfigurationError(
                    f"implementations.service_overrides names unknown service {service!r}; "
                    f"services: {', '.join(sorted(service_names))}")
            if (backend, service) not in self._table:
                raise ConfigurationError(
                    f"implementations.service_overrides routes {service!r} to {backend!r}, "
                    f"which does not implement it; implementations: "
                    f"{', '.join(self.backends_for(service)) or 'none'}")

    def serving_backends(self):
        """Backends answering requests that force nothing: the default and the overrides."""
        return {self.default_backend, *self.overrides.values()}

    def backends_for(self, service):
        return list(self._backends_of.get(service, []))

    def resolve(self, service, forced=None):
        """(backend name, implementation) for ``service``; 400 if that backend lacks it."""
        backend = forced or self.overrides.get(service, self.default_backend)
        implementation = self._table.get((backend, service))
        if implementation is None:
            raise UnsupportedBackend(backend, service, self.backends_for(service))
        return backend, implementation


def pop_forced_backend(params):
    """Remove the force parameters from ``params``; return the forced backend name or None."""
    forced = None
    for name in FORCE_PARAMETERS:
        value = params.pop(name, None)
        if isinstance(value, list):
            value = value[-1] if value else None
        if value:
            forced = str(value)
    return forced
