"""Access control: bearer tokens with scopes, checked at the HTTP edge.

Tokens are configured as ``name:scopes:sha256-hex`` entries (``auth.tokens`` and the lines of
``auth.tokens_file``); only their SHA-256 digests are stored, and a presented token is hashed
and compared with every digest by :func:`hmac.compare_digest`. No token configured: the
gateway is open (the embedded demo) and says so in a warning at start.

With tokens configured (docs/api.md, "Access control"):

- every ``POST``, ``PUT``, ``PATCH`` and ``DELETE`` needs scope ``write``: no token -> 401,
  a token without the scope -> 403 ``insufficient_scope``;
- reads stay open, but the answer fields a service declares in ``sensitive_fields`` (at any
  depth, matched ignoring case, ``_`` and ``-``) are removed unless the token has ``pii``; so
  are listed ``{"field": path}`` items (term explanations) naming such a field;
- a parameter declared ``sensitive`` needs ``pii`` when given (``True``), or when it names one
  of the sensitive values it lists; without ``pii`` its default leaves those values out;
- a request carrying an unknown token is 401 ``invalid_token``, a malformed Authorization
  header 400 ``invalid_request``. Tokens never appear in logs or answers.
"""
import dataclasses
import functools
import hashlib
import hmac
import logging
import pathlib
import re
import secrets

from crashgate.errors import BadRequest, CrashgateError, Forbidden
from crashgate.services.base import HttpResult

log = logging.getLogger(__name__)

SCOPES = ("write", "pii")
WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
TOKEN_PREFIX = "cg_"
REALM = "crashgate"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


def hash_token(token):
    """The SHA-256 hex digest configured for ``token``."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclasses.dataclass(frozen=True)
class TokenEntry:
    """One configured token: who uses it, what it may do, and its digest (never the token)."""

    name: str
    scopes: frozenset
    digest: str = dataclasses.field(repr=False)

    def line(self):
        return f"{self.name}:{'+'.join(s for s in SCOPES if s in self.scopes)}:{self.digest}"


def parse_scopes(text):
    """``'write+pii'`` or ``'write, pii'`` -> frozenset; ValueError naming an unknown scope."""
    scopes = frozenset(part.strip().lower() for part in re.split(r"[+,\s]+", text.strip())
                       if part.strip())
    unknown = sorted(scopes - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}: expected {' and/or '.join(SCOPES)}")
    return scopes


def parse_entry(text, where="auth.tokens"):
    """A ``name:scopes:sha256-hex`` entry -> TokenEntry; ValueError saying what is wrong
    (without repeating the value: a clear-text token pasted by mistake stays out of logs)."""
    parts = text.strip().split(":")
    if len(parts) != 3:
        raise ValueError(f"{where}: an entry is not 'name:scopes:sha256-hex' "
                         f"(`crashgate token` prints one)")
    name, scopes, digest = (part.strip() for part in parts)
    if not _NAME.fullmatch(name):
        raise ValueError(f"{where}: bad token name {name!r}: expected 1-100 letters, digits, "
                         f"'_', '.', '@' or '-'")
    if not _DIGEST.fullmatch(digest.lower()):
        raise ValueError(f"{where}: the entry of {name!r} does not end with a SHA-256 hex "
                         f"digest (64 hex digits); configure the digest, never the token "
                         f"(`crashgate token` prints the entry)")
    try:
        return TokenEntry(name, parse_scopes(scopes), digest.lower())
    except ValueError as error:
        raise ValueError(f"{where}: token {name!r}: {error}") from None


def parse_entries(text, where="auth.tokens"):
    """Entries separated by commas or new lines (``#`` starts a comment), or a list of them
    (an INI file's comma-separated value arrives as a list)."""
    if isinstance(text, (list, tuple)):
        text = "\n".join(map(str, text))
    lines = (line.split("#", 1)[0] for line in str(text).splitlines())
    return [parse_entry(item, where) for line in lines for item in line.split(",")
            if item.strip()]


def mint_token(name, scopes):
    """A new random token and the TokenEntry that accepts it."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    entry = parse_entry(f"{name}:{'+'.join(sorted(parse_scopes(scopes)))}:{hash_token(token)}",
                        "token")
    return token, entry


class TokenStore:
    """The configured tokens; looks a presented token up in constant time."""

    def __init__(self, entries=()):
        self.entries = tuple(entries)
        for attribute in ("name", "digest"):
            seen = [getattr(entry, attribute) for entry in self.entries]
            if len(seen) != len(set(seen)):
                raise ValueError(f"auth: two token entries have the same {attribute}")

    @classmethod
    def from_config(cls, auth):
        """Entries of ``auth.tokens`` plus those of the file ``auth.tokens_file``."""
        entries = parse_entries(auth.tokens or "", "auth.tokens")
        if auth.tokens_file:
            path = pathlib.Path(auth.tokens_file)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as error:
                raise ValueError(f"auth.tokens_file: cannot read {path}: "
                                 f"{error.strerror}") from None
            entries += parse_entries(text, f"auth.tokens_file {path}")
        return cls(entries)

    def __len__(self):
        return len(self.entries)

    def match(self, token):
        """The entry of ``token``, or None. The token's digest is compared with every
        configured digest (no early exit), each comparison in constant time."""
        digest = hash_token(token)
        found = None
        for entry in self.entries:
            if hmac.compare_digest(digest, entry.digest):
                found = entry
        return found


@dataclasses.dataclass(frozen=True)
class Grant:
    """What the caller of one request may do; ``name`` is its token's name (None: no token)."""

    name: str | None
    scopes: frozenset


OPEN = Grant("open", frozenset(SCOPES))  # no tokens configured: everything allowed
ANONYMOUS = Grant(None, frozenset())


class Unauthorized(CrashgateError):
    """No usable token where one is needed (401 with a Bearer challenge)."""

    status = 401
    type = "unauthorized"

    def __init__(self, message, error=None, **details):
        super().__init__(message, **details)
        self.challenge = error

    def headers(self):
        return [("WWW-Authenticate", challenge(self.challenge, self.details.get("scope")))]


class InvalidToken(Unauthorized):
    type = "invalid_token"

    def __init__(self, message):
        super().__init__(message, error="invalid_token", parameter="Authorization")


class InsufficientScope(Forbidden):
    """A valid token without the scope the request needs."""

    type = "insufficient_scope"

    def headers(self):
        return [("WWW-Authenticate", challenge("insufficient_scope", self.details["scope"]))]


class MalformedAuthorization(BadRequest):
    type = "invalid_request"

    def headers(self):
        return [("WWW-Authenticate", challenge("invalid_request"))]


def challenge(error=None, scope=None):
    value = f'Bearer realm="{REALM}"'
    if error:
        value += f', error="{error}"'
    if scope:
        value += f', scope="{scope}"'
    return value


class AccessControl:
    """The gateway's three hooks: :meth:`authorize` (before the body is read),
    :meth:`restrict` (on the raw parameters, before coercion) and :meth:`redact` (on the
    service's result)."""

    def __init__(self, store=None):
        self.store = store or TokenStore()
        self.open = not self.store.entries

    @classmethod
    def from_config(cls, config):
        access = cls(TokenStore.from_config(config.auth))
        if access.open:
            log.warning("ACCESS CONTROL IS OFF: no bearer tokens configured (auth.tokens, "
                        "auth.tokens_file); anyone can write and read personal data")
        else:
            counts = {scope: sum(scope in e.scopes for e in access.store.entries)
                      for scope in SCOPES}
            log.info("access control on: bearer tokens %d (%s)", len(access.store),
                     ", ".join(f"{n} with {scope}" for scope, n in counts.items()))
        return access

    def authorize(self, environ, method):
        """The caller's Grant; 401/403 when ``method`` writes without scope ``write``."""
        if self.open:
            return OPEN
        grant = self._authenticate(environ)
        environ["crashgate.token_name"] = grant.name
        if method in WRITE_METHODS:
            require(grant, "write", f"{method} requests")
        return grant

    def _authenticate(self, environ):
        header = environ.get("HTTP_AUTHORIZATION")
        if header is None:
            return ANONYMOUS
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
            raise MalformedAuthorization("The Authorization header must be 'Bearer <token>'",
                                         parameter="Authorization")
        entry = self.store.match(token)
        if entry is None:
            log.info("unknown bearer token refused: %s %s from %s",
                     environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                     environ.get("REMOTE_ADDR"))
            raise InvalidToken("The bearer token is not valid")
        return Grant(entry.name, entry.scopes)

    @staticmethod
    def restrict(grant, contract, params):
        """Without ``pii``: refuse parameters that search personal data, or narrow their
        defaults; ``params`` are the raw request parameters (changed in place)."""
        if "pii" in grant.scopes:
            return
        for param in contract.params:
            if not param.sensitive:
                continue
            raw = next((params[name] for name in param.names if name in params), None)
            given = _given(param, raw)
            if given is None:
                if param.sensitive is not True and param.many:
                    params[param.name] = [value for value in param.default_value()
                                          if value not in param.sensitive]
            elif param.sensitive is True or set(given) & set(param.sensitive):
                what = param.name if param.sensitive is True else \
                    f"{param.name}={'+'.join(sorted(set(given) & set(param.sensitive)))}"
                require(grant, "pii", f"searching personal data ({what})", param.name)

    @staticmethod
    def redact(grant, service, result):
        """``result`` without the service's sensitive fields unless the grant has ``pii``."""
        if "pii" in grant.scopes or not service.sensitive_fields:
            return result
        names = normalized_names(frozenset(service.sensitive_fields))
        if isinstance(result, HttpResult):
            result.body = remove_personal(result.body, names)
            return result
        return remove_personal(result, names)

    def secure_document(self, document, services):
        """The OpenAPI ``document`` with the bearer scheme when tokens are configured:
        required (scope write) on writes, optional on reads, with their 401/403 answers."""
        if self.open:
            return document
        document.setdefault("components", {})["securitySchemes"] = {"bearer": {
            "type": "http", "scheme": "bearer",
            "description": "a token minted by `crashgate token`; scope write for POST, PUT "
                           "and DELETE, pii to see and search personal data"}}
        for service in services.values():
            for template in service.route_templates():
                for method, contract in service.methods.items():
                    operation = document["paths"][template][method.lower()]
                    writes = method in WRITE_METHODS
                    operation["security"] = [{"bearer": []}] if writes else [{}, {"bearer": []}]
                    responses = operation.setdefault("responses", {})
                    responses["401"] = _error_response("no bearer token where one is needed, "
                                                       "or an invalid one")
                    if writes or any(param.sensitive for param in contract.params):
                        responses.setdefault("403", _error_response(
                            "the token lacks the scope needed (write; pii for personal data)"))
        return document


def _error_response(description):
    return {"description": description,
            "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def require(grant, scope, needed_for, parameter=None):
    """Raise 401 (no token) or 403 (a token without ``scope``) unless ``grant`` has it."""
    if scope in grant.scopes:
        return
    details = {"scope": scope}
    if parameter:
        details["parameter"] = parameter
    if grant.name is None:
        raise Unauthorized(f"A bearer token with scope {scope!r} is needed for {needed_for} "
                           f"(Authorization: Bearer <token>)", **details)
    raise InsufficientScope(f"The token {grant.name!r} lacks scope {scope!r}, needed for "
                            f"{needed_for}", **details)


def _given(param, raw):
    """The coerced values of a parameter the request gave (a list), or None if absent/empty;
    BadArgument as the contract would raise it."""
    if raw is None:
        return None
    value = param.coerce(raw) if raw != "" else None
    if param.many:
        return value or None
    return None if value in (None, "") else [value]


def _normalize(key):
    return "".join(ch for ch in str(key).lower() if ch.isalnum())


@functools.lru_cache(maxsize=64)
def normalized_names(fields):
    return frozenset(map(_normalize, fields))


_normalized_key = functools.lru_cache(maxsize=8192)(_normalize)


def remove_personal(value, names):
    """A copy of a JSON-like ``value`` without keys in ``names`` (normalized) at any depth,
    and without list items ``{"field": path}`` whose path names one of them."""
    if isinstance(value, dict):
        return {key: remove_personal(item, names) for key, item in value.items()
                if _normalized_key(key) not in names}
    if isinstance(value, (list, tuple)):
        return [remove_personal(item, names) for item in value
                if not _describes_personal_field(item, names)]
    return value


def _describes_personal_field(item, names):
    path = item.get("field") if isinstance(item, dict) else None
    return isinstance(path, str) and any(_normalized_key(part) in names
                                         for part in path.split("."))
