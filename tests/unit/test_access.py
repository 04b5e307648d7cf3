"""Access control without servers: token entries, the constant-time token store, the grant
rules, parameter restrictions, redaction of every answer shape, the OpenAPI security."""
import copy
import types

import pytest
from openapi_spec_validator import validate

from crashgate import cli
from crashgate.errors import BadArgument
from crashgate.middleware import access
from crashgate.middleware.access import (ANONYMOUS, OPEN, AccessControl, Grant, TokenStore,
                                         hash_token, mint_token, parse_entries, parse_entry,
                                         remove_personal)
from crashgate.middleware.openapi import openapi_document
from crashgate.middleware.plugins import SERVICES, load_group
from crashgate.services.base import HttpResult
from crashgate.services.partycrasher import REPORT_PERSONAL_FIELDS
from crashgate.services.reports import SearchCrashes
from crashgate.services.search_filters import PERSONAL_FIELDS
from crashgate.settings import load_config

WRITER, READER, BOTH = "cg_writer-token", "cg_reader-token", "cg_both-token"
ENTRIES = [f"writer:write:{hash_token(WRITER)}", f"reader:pii:{hash_token(READER)}",
           f"both:write+pii:{hash_token(BOTH)}"]


@pytest.fixture
def control():
    return AccessControl(TokenStore(parse_entries(",".join(ENTRIES))))


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", "REQUEST_METHOD": "GET"}


# -- entries and the store -------------------------------------------------------------------

def test_entries_parse_names_scopes_and_digests():
    entries = parse_entries(f"# comment\n{ENTRIES[0]}, {ENTRIES[1]}\n\n{ENTRIES[2]}  # both\n")
    assert [(e.name, sorted(e.scopes)) for e in entries] == \
        [("writer", ["write"]), ("reader", ["pii"]), ("both", ["pii", "write"])]
    assert parse_entry(f"nobody::{hash_token('x').upper()}").scopes == frozenset()
    assert parse_entry(f"x:write, pii:{hash_token('x')}").line() == \
        f"x:write+pii:{hash_token('x')}"


@pytest.mark.parametrize("entry, message", [
    ("frontend:write:cg_a-clear-text-token", "SHA-256 hex digest"),
    (f"frontend:admin:{hash_token('x')}", "unknown scope 'admin'"),
    (f"front end:write:{hash_token('x')}", "bad token name"),
    ("cg_a-clear-text-token", "not 'name:scopes:sha256-hex'"),
])
def test_bad_entries_are_refused_without_repeating_a_token(entry, message):
    with pytest.raises(ValueError) as error:
        parse_entry(entry)
    assert message in str(error.value)
    assert "cg_a-clear-text-token" not in str(error.value)


def test_store_refuses_duplicate_names_and_tokens():
    with pytest.raises(ValueError, match="same name"):
        TokenStore(parse_entries(f"a:write:{hash_token('1')}, a:pii:{hash_token('2')}"))
    with pytest.raises(ValueError, match="same digest"):
        TokenStore(parse_entries(f"a:write:{hash_token('1')}, b:pii:{hash_token('1')}"))


def test_store_compares_every_digest_in_constant_time(monkeypatch):
    store = TokenStore(parse_entries(",".join(ENTRIES)))
    calls = []
    real = access.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(access.hmac, "compare_digest", spy)
    assert store.match(WRITER).name == "writer"  # the first entry: no early exit
    assert [b for _, b in calls] == [e.digest for e in store.entries]
    assert {a for a, _ in calls} == {hash_token(WRITER)}  # the digest, never the token
    calls.clear()
    assert store.match("cg_wrong") is None and len(calls) == 3
    assert store.match(BOTH).scopes == {"write", "pii"}


def test_tokens_come_from_the_option_and_the_file(tmp_path):
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(f"# who: scopes: digest\n{ENTRIES[1]}\n{ENTRIES[2]}\n")
    config = load_config([f"--auth.tokens={ENTRIES[0]}", f"--auth.tokens_file={tokens_file}"],
                         environ={})
    store = TokenStore.from_config(config.auth)
    assert [e.name for e in store.entries] == ["writer", "reader", "both"]
    ini = tmp_path / "crashgate.ini"  # configobj reads a comma-separated value as a list
    ini.write_text(f"[auth]\ntokens = {ENTRIES[0]}, {ENTRIES[1]}\n")
    from_ini = TokenStore.from_config(load_config([f"--admin.conf={ini}"], environ={}).auth)
    assert [e.name for e in from_ini.entries] == ["writer", "reader"]
    missing = load_config([f"--auth.tokens_file={tmp_path / 'nope'}"], environ={})
    with pytest.raises(ValueError, match="cannot read"):
        TokenStore.from_config(missing.auth)


def test_no_tokens_is_open_and_says_so(caplog):
    control = AccessControl.from_config(load_config([], environ={}))
    assert control.open
    assert "ACCESS CONTROL IS OFF" in caplog.text
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert control.authorize({"REQUEST_METHOD": "DELETE"}, "DELETE") is OPEN


def test_minted_tokens_are_random_and_accepted_by_their_entry(capsys):
    token, entry = mint_token("frontend", "write,pii")
    assert token.startswith("cg_") and len(token) > 40
    assert mint_token("frontend", "write")[0] != token
    assert token not in entry.line()
    assert TokenStore([entry]).match(token).scopes == {"write", "pii"}
    assert cli.main(["token", "--name", "ops", "--scopes", "pii"]) == 0
    lines = capsys.readouterr().out.splitlines()
    printed_token, printed_entry = lines[1], lines[3]
    assert printed_entry.startswith("ops:pii:")
    assert TokenStore([parse_entry(printed_entry)]).match(printed_token).name == "ops"


# -- grants ----------------------------------------------------------------------------------

def test_reads_without_a_token_are_anonymous_and_writes_need_one(control):
    assert control.authorize({}, "GET") is ANONYMOUS
    with pytest.raises(access.Unauthorized) as missing:
        control.authorize({}, "POST")
    assert missing.value.status == 401
    assert missing.value.headers() == [("WWW-Authenticate", 'Bearer realm="crashgate", '
                                                            'scope="write"')]
    assert missing.value.to_json()["error"]["scope"] == "write"


def test_a_wrong_token_is_401_invalid_token_even_on_reads(control):
    for method in ("GET", "POST"):
        with pytest.raises(access.InvalidToken) as wrong:
            control.authorize(bearer("cg_wrong"), method)
        assert wrong.value.status == 401
        assert 'error="invalid_token"' in wrong.value.headers()[0][1]
        assert "cg_wrong" not in str(wrong.value.to_json())


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "cg_x"])
def test_a_malformed_authorization_header_is_400(control, header):
    with pytest.raises(access.MalformedAuthorization) as bad:
        control.authorize({"HTTP_AUTHORIZATION": header}, "GET")
    assert bad.value.status == 400 and bad.value.parameter == "Authorization"


def test_scopes_decide_writes(control):
    environ = bearer(READER)
    with pytest.raises(access.InsufficientScope) as lacking:
        control.authorize(environ, "DELETE")
    assert lacking.value.status == 403
    assert lacking.value.to_json()["error"]["type"] == "insufficient_scope"
    assert 'error="insufficient_scope", scope="write"' in lacking.value.headers()[0][1]
    assert environ["crashgate.token_name"] == "reader"  # for request logs: a name, no token
    assert control.authorize(bearer(WRITER), "PUT") == Grant("writer", frozenset({"write"}))
    assert control.authorize(bearer(BOTH), "POST").scopes == {"write", "pii"}
    assert control.authorize({"HTTP_AUTHORIZATION": f"bearer  {WRITER} "}, "POST").name == \
        "writer"


# -- parameters ------------------------------------------------------------------------------

def search_contract():
    return SearchCrashes.methods["GET"]


def test_without_pii_the_default_text_search_leaves_personal_fields_out(control):
    params = {"for": ["x"]}
    control.restrict(ANONYMOUS, search_contract(), params)
    assert search_contract().coerce(params)["fields"] == ["signature", "reason", "frames"]
    params = {"for": ["x"], "in": ""}
    control.restrict(ANONYMOUS, search_contract(), params)
    assert search_contract().coerce(params)["fields"] == ["signature", "reason", "frames"]
    with_pii = {"for": ["x"]}
    control.restrict(Grant("r", frozenset({"pii"})), search_contract(), with_pii)
    assert search_contract().coerce(with_pii)["fields"] == \
        ["signature", "reason", "url", "user_comments", "frames"]


def test_searching_personal_fields_needs_pii(control):
    explicit = {"in": ["signature", "URL"]}
    with pytest.raises(access.Unauthorized) as anonymous:
        control.restrict(ANONYMOUS, search_contract(), explicit)
    assert anonymous.value.parameter == "fields" and anonymous.value.status == 401
    with pytest.raises(access.InsufficientScope) as writer:
        control.restrict(Grant("w", frozenset({"write"})), search_contract(),
                         {"fields": "user_comments"})
    assert writer.value.parameter == "fields" and writer.value.details["scope"] == "pii"
    harmless = {"in": ["signature", "dump"]}
    control.restrict(ANONYMOUS, search_contract(), harmless)
    assert harmless == {"in": ["signature", "dump"]}
    with pytest.raises(BadArgument):  # as the contract would say it
        control.restrict(ANONYMOUS, search_contract(), {"in": "nowhere"})


def test_partycrasher_q_needs_pii():
    from crashgate.services.partycrasher import Search

    contract = Search.methods["GET"]
    with pytest.raises(access.InsufficientScope) as lacking:
        AccessControl.restrict(Grant("w", frozenset({"write"})), contract, {"q": "alice"})
    assert lacking.value.parameter == "q"
    AccessControl.restrict(ANONYMOUS, contract, {"q": ""})  # empty = absent
    AccessControl.restrict(Grant("r", frozenset({"pii"})), contract, {"q": "alice"})


# -- redaction -------------------------------------------------------------------------------

CRASH_ROW = {"uuid": "u1", "signature": "sig", "url": "http://x/?me", "user_comments": "hi",
             "install_time": None}
REPORT = {"database_id": "r1", "Email": "me@example.org", "URL": "http://x",
          "stacktrace": [{"function": "main", "args": "a"}],
          "crash": {"user-comments": "help", "ProcEnviron": "HOME=/home/me",
                    "nested": [{"client_id": "c-1", "keep": 1}]},
          "Comments": "it broke", "TelemetryClientId": "t-1", "InstallID": "i-1"}


def names(fields):
    return access.normalized_names(frozenset(fields))


def test_redaction_removes_personal_fields_at_any_depth_and_keeps_the_rest():
    answer = {"hits": [CRASH_ROW, dict(CRASH_ROW, uuid="u2")], "total": 2}
    original = copy.deepcopy(answer)
    redacted = remove_personal(answer, names(PERSONAL_FIELDS))
    assert redacted == {"hits": [{"uuid": "u1", "signature": "sig", "install_time": None},
                                 {"uuid": "u2", "signature": "sig", "install_time": None}],
                        "total": 2}
    assert answer == original  # a copy: the implementation's objects are not changed
    document = remove_personal({"top_reports": [REPORT]}, names(REPORT_PERSONAL_FIELDS))
    assert document == {"top_reports": [{
        "database_id": "r1", "stacktrace": [{"function": "main", "args": "a"}],
        "crash": {"nested": [{"keep": 1}]}}]}


def test_redaction_drops_term_explanations_of_personal_fields():
    summary = {"terms": [{"field": "url", "term": "youtube", "weight": 3.0},
                         {"field": "crash.ProcEnviron", "term": "home", "weight": 2.0},
                         {"field": "stacktrace.function", "term": "main", "weight": 1.0}],
               "top_match": None}
    assert remove_personal(summary, names(REPORT_PERSONAL_FIELDS)) == {
        "terms": [{"field": "stacktrace.function", "term": "main", "weight": 1.0}],
        "top_match": None}


def test_redact_follows_the_grant_and_the_service(control):
    service = types.SimpleNamespace(sensitive_fields=PERSONAL_FIELDS)
    answer = {"hits": [CRASH_ROW]}
    assert control.redact(Grant("r", frozenset({"pii"})), service, answer) is answer
    assert control.redact(OPEN, service, answer) is answer
    assert "url" not in control.redact(ANONYMOUS, service, answer)["hits"][0]
    plain = types.SimpleNamespace(sensitive_fields=frozenset())
    assert control.redact(ANONYMOUS, plain, answer) is answer
    result = HttpResult({"url": "u", "a": 1}, headers=[("Link", "x")])
    assert control.redact(ANONYMOUS, service, result).body == {"a": 1}


# -- OpenAPI ---------------------------------------------------------------------------------

def test_openapi_declares_the_bearer_scheme_only_when_tokens_are_configured(control):
    config = load_config([], environ={})
    services = {name: cls(config) for name, cls in load_group(SERVICES).items()}
    for name, service in services.items():
        service.name = name
    assert "securitySchemes" not in AccessControl().secure_document(
        openapi_document(services), services).get("components", {})
    document = control.secure_document(openapi_document(services), services)
    validate(document)
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    post = document["paths"]["/{project}/reports"]["post"]
    assert post["security"] == [{"bearer": []}]
    assert {"401", "403"} <= set(post["responses"])
    read = document["paths"]["/report/list"]["get"]
    assert read["security"] == [{}, {"bearer": []}] and "401" in read["responses"]
    assert "403" in document["paths"]["/{project}/search"]["get"]["responses"]
    assert "security" not in document["paths"]["/__heartbeat__"]["get"]
