"""What every service declares: its name, URLs, the contract of each HTTP method; and the
HTTP-level results a service may answer with instead of a plain 200 JSON body."""
import functools
from urllib.parse import quote


class HttpResult:
    """A result with its own status; ``location`` (a gateway path or absolute URL) becomes an
    absolute ``Location`` header; ``headers`` are extra (name, value) pairs."""

    status = 200

    def __init__(self, body=None, location=None, headers=(), status=None):
        self.body = body
        self.location = location
        self.headers = list(headers)
        if status is not None:
            self.status = status


class Created(HttpResult):
    status = 201

    def __init__(self, location, body=None, headers=()):
        super().__init__(body, location, headers)


class SeeOther(HttpResult):
    """``303 See Other`` pointing at ``location``."""

    status = 303

    def __init__(self, location, body=None, headers=()):
        super().__init__(body, location, headers)


class RequestContext:
    """What a service may know about the HTTP request besides its parameters."""

    def __init__(self, environ, base_url_of):
        self.environ = environ
        self._base_url_of = base_url_of

    @functools.cached_property
    def base_url(self):
        """``scheme://host[/prefix]`` as the client addressed the gateway (no trailing /)."""
        return self._base_url_of(self.environ)

    def url(self, path):
        """Absolute URL of a gateway path."""
        return path if "://" in path else self.base_url + path


class Service:
    """Base class of the services loaded from the ``crashgate.services`` entry points.

    ``path`` is the URL prefix, e.g. ``/products/builds`` (``paths`` when a service answers
    under several, e.g. ``/reports`` and ``/{project}/reports``); ``{name}`` segments are
    captured as parameters, segments after the path are key/value pairs. ``methods`` maps
    each HTTP method to its :class:`~crashgate.services.contract.Contract`. The
    implementation chosen by dispatch gets ``method.lower()`` called with the coerced
    parameters; :meth:`respond` may turn its result into an :class:`HttpResult`.
    """

    name = None  # set from the entry-point name when the plugin is loaded
    path = None
    paths = ()
    summary = ""
    methods = {}
    uses_backend = True  # False: answered from configuration alone, no implementation
    # Answer fields holding personal data (at any depth, case and '_'/'-' ignored): removed
    # for callers without the 'pii' scope when tokens are configured (middleware/access.py).
    sensitive_fields = frozenset()

    def __init__(self, config=None):
        self.config = config

    @classmethod
    def route_templates(cls):
        return tuple(cls.paths) or (cls.path,)

    def call(self, implementation, method, params, request):
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
