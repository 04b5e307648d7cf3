"""The typed exceptions every layer raises; the middleware turns each into its HTTP status.

Each error renders as ``{"error": {"message": ..., "type": ..., "parameter": ...}}``.
"""


class CrashgateError(Exception):
    """Base class: an error the gateway reports to the client as JSON."""

    status = 500
    type = "internal_error"

    def __init__(self, message, parameter=None, **details):
        super().__init__(message)
        self.message = message
        self.parameter = parameter
        self.details = details

    def to_json(self):
        body = {"message": self.message, "type": self.type}
        if self.parameter is not None:
            body["parameter"] = self.parameter
        body.update(self.details)
        return {"error": body}

    def headers(self):
        return []


class BadRequest(CrashgateError):
    status = 400
    type = "bad_request"


class BadArgument(BadRequest):
    """A parameter has a value of the wrong type or outside its allowed values."""

    type = "bad_argument"

    def __init__(self, parameter, received, expected, message=None):
        message = message or (
            f"Bad value for parameter '{parameter}': got {received!r}, expected {expected}"
        )
        super().__init__(message, parameter=parameter, received=received, expected=expected)


class MissingArgument(BadRequest):
    """A required parameter is absent or empty."""

    type = "missing_argument"

    def __init__(self, parameter, message=None, **details):
        message = message or f"Mandatory parameter '{parameter}' is missing or empty"
        super().__init__(message, parameter=parameter, **details)


class UnsupportedBackend(BadRequest):
    """The requested backend does not exist or does not implement the service."""

    type = "unsupported_backend"

    def __init__(self, backend, service, available):
        choices = ", ".join(available) or "none"
        super().__init__(
            f"Backend {backend!r} does not implement service {service!r}; "
            f"backends implementing it: {choices}",
            parameter="force_api_impl",
            received=backend,
            expected=sorted(available),
        )


class Forbidden(CrashgateError):
    """The operation is disabled by configuration or not allowed for this client."""

    status = 403
    type = "forbidden"


class NotFound(CrashgateError):
    status = 404
    type = "not_found"


class MethodNotAllowed(CrashgateError):
    status = 405
    type = "method_not_allowed"

    def __init__(self, method, allowed):
        super().__init__(
            f"Method {method} is not allowed here; allowed: {', '.join(allowed)}",
            allowed=list(allowed),
        )
        self.allowed = list(allowed)

    def headers(self):
        return [("Allow", ", ".join(self.allowed))]


class PayloadTooLarge(CrashgateError):
    status = 413
    type = "payload_too_large"


class BackendUnavailable(CrashgateError):
    """A backend cannot be reached or has no free connection."""

    status = 503
    type = "backend_unavailable"

    def headers(self):
        return [("Retry-After", "1")]


class BackendTimeout(CrashgateError):
    """A backend query ran past its time limit."""

    status = 504
    type = "backend_timeout"
