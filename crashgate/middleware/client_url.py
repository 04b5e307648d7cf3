"""The URL the client used to reach the gateway, for absolute ``href`` and ``Location`` values.

Behind a reverse proxy the WSGI server sees the proxy's request, so the client-facing
scheme and host come from, in order:

1. ``Forwarded`` (RFC 7239): ``host`` and ``proto`` of the first (client-side) element;
2. ``X-Forwarded-Host`` with ``X-Forwarded-Proto`` (or the older ``X-Forwarded-Protocol``);
3. the ``Host`` header (else ``SERVER_NAME:SERVER_PORT``) and the WSGI URL scheme.

A missing proto falls back to the next source's scheme rather than failing. ``SCRIPT_NAME``
(the gateway mounted under a prefix) is appended. The result has no trailing slash.
"""
import re

_TOKEN_OR_QUOTED = re.compile(r'\s*([A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)\s*')
_HOST = re.compile(r"[A-Za-z0-9._~%!$&'()*+,;=:\[\]-]+")
_SCHEMES = ("http", "https")


def client_base_url(environ):
    """``scheme://host[:port][/script_name]`` as the client addressed the gateway."""
    scheme, host = _from_forwarded(environ.get("HTTP_FORWARDED", ""))
    if not host:
        host = _first(environ.get("HTTP_X_FORWARDED_HOST", ""))
        if host:
            scheme = scheme or _scheme(_first(environ.get("HTTP_X_FORWARDED_PROTO", "")
                                              or environ.get("HTTP_X_FORWARDED_PROTOCOL", "")))
    if not host or not _HOST.fullmatch(host):
        host = environ.get("HTTP_HOST") or _server_host(environ)
    scheme = scheme or _scheme(environ.get("wsgi.url_scheme", "")) or "http"
    return f"{scheme}://{host}{environ.get('SCRIPT_NAME', '').rstrip('/')}"


def _from_forwarded(header):
    """(proto, host) of the first element of a ``Forwarded`` header; '' when absent."""
    first = header.split(",", 1)[0]
    values = {}
    for part in first.split(";"):
        match = _TOKEN_OR_QUOTED.fullmatch(part)
        if match:
            value = match.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            values[match.group(1).lower()] = value.strip()
    host = values.get("host", "")
    return _scheme(values.get("proto", "")), host if host and _HOST.fullmatch(host) else ""


def _first(header):
    return header.split(",", 1)[0].strip()


def _scheme(text):
    text = text.strip().lower()
    return text if text in _SCHEMES else ""


def _server_host(environ):
    host, port = environ.get("SERVER_NAME", "localhost"), str(environ.get("SERVER_PORT", ""))
    default = "443" if environ.get("wsgi.url_scheme") == "https" else "80"
    return host if port in ("", default) else f"{host}:{port}"
