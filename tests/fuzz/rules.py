"""What every fuzzed answer must satisfy."""
import re

import orjson

from tests.fuzz.dataset import RELATED

# Answers that are not about a parameter: DELETE /reports is disabled by configuration.
NOT_ABOUT_PARAMETERS = {("pc_reports:DELETE", 403)}
_INDEX = re.compile(r"\[\d+\]")


def named_parameters(operation, fuzzed, status):
    """The parameter names a 4xx may name for a request that changed ``fuzzed``."""
    names = set()
    for name in fuzzed:
        names.add(name)
        param = operation.params.get(name) or next(
            (p for p in operation.params.values() if name in p.names), None)
        if param is not None:
            names.update(param.names)
            names.update(RELATED.get(param.name, ()))
    if status == 404:  # a resource not found is named by its capture (report_id, bucket_id)
        names.update(s[1:-1] for t in operation.templates for s in t.split("/")
                     if s.startswith("{"))
    return names


def body_field(parameter):
    """``reports[2].stacktrace[0].function`` -> ``stacktrace``; ``reports[1]`` -> ``reports``."""
    parameter = re.sub(r"^reports\[\d+\]\.", "", parameter)
    return _INDEX.sub("", parameter).split(".")[0]


def problem_with(operation, request, response):
    """Why ``response`` breaks the fuzz's rules, or None."""
    if response.status >= 500:
        return f"status {response.status}"
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        return f"Content-Type {response.headers.get('Content-Type')!r}"
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return "body is not JSON"
    if response.status < 400:
        backend = response.headers.get("X-Crashgate-Backend")
        if operation.forced and backend != operation.forced:
            return f"answered by {backend!r}, not the forced {operation.forced!r}"
        return None
    if (operation.name, response.status) in NOT_ABOUT_PARAMETERS:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    parameter = error.get("parameter") if isinstance(error, dict) else None
    if parameter is None:
        return "4xx without a parameter"
    allowed = named_parameters(operation, request.fuzzed, response.status)
    if parameter not in allowed and body_field(parameter) not in allowed:
        return f"names {parameter!r}, fuzzed {sorted(request.fuzzed)}"
    if request.valid and response.status == 400:
        return f"valid value rejected ({parameter!r})"
    return None
