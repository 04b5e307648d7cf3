"""What every service declares: its name, URL, the contract of each HTTP method."""
from urllib.parse import quote


class SeeOther:
    """A result answered with ``303 See Other`` pointing at ``location`` (a gateway path)."""

    status = 303

    def __init__(self, location, body=None):
        self.location = location
        self.body = body


class Service:
    """Base class of the services loaded from the ``crashgate.services`` entry points.

    ``path`` is the URL prefix, e.g. ``/products/builds``; segments after it are key/value
    pairs. ``methods`` maps each HTTP method to its :class:`~crashgate.services.contract.Contract`.
    The implementation chosen by dispatch gets ``method.lower()`` called with the coerced
    parameters; :meth:`respond` may turn its result into an HTTP-level result.
    """

    name = None  # set from the entry-point name when the plugin is loaded
    path = None
    summary = ""
    methods = {}

    def call(self, implementation, method, params):
        handler = getattr(implementation, method.lower())
        return self.respond(method, params, handler(**params))

    def respond(self, method, params, result):
        return result


def path_with_pairs(prefix, **pairs):
    """``/prefix/k1/v1/k2/v2/`` with each value percent-encoded (``/`` and ``+`` included)."""
    parts = [prefix.rstrip("/")]
    for key, value in pairs.items():
        parts += [key, quote(str(value), safe="")]
    return "/".join(parts) + "/"
