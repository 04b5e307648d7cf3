"""The OpenAPI 3 document of the gateway, generated from the services' declared contracts.

Served at ``/openapi.json``; ``/docs`` renders it as a plain HTML page. Socorro-style path
pairs (``/report/list/signature/X/``) are an alternative spelling of query parameters, so
parameters are documented as query parameters (form fields for form POSTs); ``{name}``
segments of a route are path parameters.

Answers: the schemas each service declares in ``crashgate/services/schemas.py`` for every
status it produces, plus the errors any route may give (``common_errors``), all with the JSON
error body of ``CrashgateError.to_json``; ``OPTIONS`` (204) on every service route.
"""
import html
import re

import crashgate
from crashgate.middleware.access import normalized_names
from crashgate.services.contract import JsonBody
from crashgate.services.schemas import BUILTIN_ANSWERS, ERROR, HEADERS, answers, request_body

ERROR_REF = {"$ref": "#/components/schemas/Error"}
BODY_METHODS = ("POST", "PUT", "DELETE")
BUILTINS = {
    "/__heartbeat__": "Status of every backend (503 when one serving by default is down).",
    "/__lbheartbeat__": "The process is alive.",
    "/__version__": "Name and version.",
}
_CAPTURE = re.compile(r"{(\w+)}")


def openapi_document(services):
    """The OpenAPI 3.0 document (a dict) for ``services`` ({name: Service})."""
    paths = {}
    for name, service in sorted(services.items()):
        templates = service.route_templates()
        url_only = {capture for template in templates for capture in _CAPTURE.findall(template)}
        for index, template in enumerate(templates):
            item = paths.setdefault(template, {})
            suffix = f"_{index}" if index else ""
            for method, contract in service.methods.items():
                item[method.lower()] = _operation(name + suffix, service, method, contract,
                                                  template, url_only)
            item["options"] = _options_operation(name + suffix, service, template)
    for path, summary in BUILTINS.items():
        paths[path] = {"get": {"operationId": path.strip("_"), "summary": summary,
                               "tags": ["operations"],
                               "responses": _responses(BUILTIN_ANSWERS[path])}}
    return {"openapi": "3.0.3",
            "info": {"title": "crashgate", "version": crashgate.__version__,
                     "description": "Crash-data gateway: Socorro middleware API and "
                                    "PartyCrasher bucketing API. Every parameter may also be "
                                    "given as a path pair (/service/key/value/). Every GET "
                                    "route also answers HEAD: the same status and headers, "
                                    "no body. The production app also serves GET /metrics "
                                    "(Prometheus text format, docs/operations.md)."},
            "paths": dict(sorted(paths.items())),
            "components": {"schemas": {"Error": ERROR}}}


def _operation(operation_id, service, method, contract, template, url_only):
    """``url_only``: parameters some route of the service takes from its path (e.g.
    ``project``); on a route without that segment they are not offered as query parameters."""
    operation = {"operationId": f"{operation_id}_{method.lower()}",
                 "summary": service.summary, "tags": [_family(service)],
                 "parameters": [], "responses": {}}
    captured = _CAPTURE.findall(template)
    form_fields = {}
    for param in contract.params:
        schema = _schema(param)
        if param.name in captured:
            operation["parameters"].append(_path_parameter(param.name, schema, param.doc))
        elif method in ("POST", "PUT") and contract.body is None:
            form_fields[param.name] = dict(schema, description=param.doc)
        elif param.name not in url_only:
            operation["parameters"].append(_query_parameter(param, schema))
    if isinstance(contract.body, JsonBody):
        body = request_body(service, "project" in captured) or {
            "oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}
        operation["requestBody"] = {"required": True, "description": contract.body.doc,
                                    "content": {"application/json": {"schema": body}}}
    elif form_fields:
        required = [p.name for p in contract.params if p.required and p.name in form_fields]
        schema = {"type": "object", "properties": form_fields}
        if required:
            schema["required"] = required
        operation["requestBody"] = {"required": bool(required), "content": {
            "application/x-www-form-urlencoded": {"schema": schema}}}
    operation["responses"] = _responses(
        answers(service, method), common_errors(service, method, template),
        success_headers=("X-Crashgate-Backend",), personal=service.sensitive_fields)
    return operation


def _options_operation(operation_id, service, template):
    """``OPTIONS``: the methods a route allows (and the CORS preflight headers)."""
    return {"operationId": f"{operation_id}_options", "tags": [_family(service)],
            "summary": "The methods this route allows (also answers CORS preflights).",
            "parameters": [_path_parameter(name, {"type": "string"}, "")
                           for name in _CAPTURE.findall(template)],
            "responses": {"204": _response("allowed methods in Allow", None, ("Allow",),
                                           ("Allow",)),
                          **_responses((), common_errors(service, "OPTIONS", template))}}


def _path_parameter(name, schema, description):
    return {"name": name, "in": "path", "required": True,
            "schema": dict(schema, minLength=1), "description": description}


def _query_parameter(param, schema):
    parameter = {"name": param.name, "in": "query", "required": param.required,
                 "schema": schema, "description": _describe(param)}
    if param.many:
        parameter.update(style="form", explode=True)
    return parameter


def _schema(param):
    schema = dict(param.type.schema)
    if param.choices:
        schema = {"type": "string", "enum": list(param.choices)}
    if param.minimum is not None:
        schema["minimum"] = param.minimum
    if param.maximum is not None:
        schema["maximum"] = param.maximum
    if param.max_length is not None:
        schema["maxLength"] = param.max_length
    if param.default is not None and not callable(param.default) and not param.many:
        schema["default"] = param.default
    if param.example is not None:
        schema["example"] = param.example
    if param.many:
        return {"type": "array", "items": schema, "maxItems": param.max_items}
    return schema


def _describe(param):
    text = param.doc or ""
    if param.aliases:
        text += f" (also: {', '.join(param.aliases)})"
    if param.sensitive:
        text += " [personal data]"
    return f"{text} — {param.expected()}".strip(" —")


def common_errors(service, method, template):
    """(status, description, response headers) of the errors any such route can give."""
    errors = [(400, "bad or missing parameter, unreadable body, unsupported backend", ())]
    if "{" in template:
        errors.append((404, "no such resource (a path segment names nothing)", ()))
    if method != "OPTIONS":
        errors.append((405, "method not allowed (see Allow)", ("Allow",)))
    if method in BODY_METHODS:
        errors.append((413, "request body too large", ()))
    if service.uses_backend and method != "OPTIONS":
        errors += [(503, "a backend is unavailable", ("Retry-After",)),
                   (504, "a backend query timed out", ())]
    return errors


def _responses(declared, errors=(), success_headers=(), personal=()):
    """OpenAPI responses from declared answers and (status, description, headers) errors;
    ``personal``: field names access control may remove from the answers."""
    responses = {}
    for status, description, headers in errors:
        responses[str(status)] = _response(description, ERROR_REF, headers, headers)
    for answer in declared:
        schema = ERROR_REF if answer.schema is ERROR else answer.schema
        if personal and schema is not None:
            schema = _personal_optional(schema, normalized_names(personal))
        headers = answer.headers + (success_headers if answer.status < 400 else ())
        required = answer.required_headers + (success_headers if answer.status < 400 else ())
        responses[str(answer.status)] = _response(answer.description, schema, headers,
                                                  required)
    return dict(sorted(responses.items()))


def _personal_optional(schema, names):
    """A copy of ``schema`` with the properties named in ``names`` (normalized, at any depth)
    marked ``x-personal-data`` and not required: answers without ``pii`` lack them."""
    if isinstance(schema, list):
        return [_personal_optional(item, names) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: _personal_optional(value, names) for key, value in schema.items()}
    personal = {name for name in schema.get("properties", {})
                if normalized_names(frozenset((name,))) <= names}
    for name in personal:
        schema["properties"][name]["x-personal-data"] = True
    if personal and "required" in schema:
        schema["required"] = [name for name in schema["required"] if name not in personal]
        if not schema["required"]:
            del schema["required"]
    return schema


def _response(description, schema, headers=(), required=()):
    response = {"description": description}
    if headers:
        response["headers"] = {name: dict(HEADERS[name], required=name in required)
                               for name in headers}
    if schema is not None:
        response["content"] = {"application/json": {"schema": schema}}
    return response


def _family(service):
    first = service.route_templates()[0].strip("/").split("/")
    if first[0].startswith("{") or service.__module__.endswith("partycrasher"):
        return "partycrasher"
    return first[0]


def docs_page(document):
    """A self-contained HTML page listing every operation (OPTIONS aside), its parameters
    and the statuses it answers."""
    rows = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "options":
                continue
            params = "".join(
                f"<li><code>{html.escape(p['name'])}</code> ({p['in']}"
                f"{', required' if p.get('required') else ''}): "
                f"{html.escape(p.get('description') or '')}</li>"
                for p in operation.get("parameters", []))
            body = operation.get("requestBody", {}).get("content", {})
            if body:
                params += f"<li>body: {html.escape(', '.join(body))}</li>"
            params += f"<li>answers: {', '.join(operation['responses'])}</li>"
            rows.append(f"<section><h3><code>{method.upper()} {html.escape(path)}</code></h3>"
                        f"<p>{html.escape(operation.get('summary') or '')}</p>"
                        f"<ul>{params}</ul></section>")
    info = document["info"]
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(info['title'])} API</title></head><body>"
            f"<h1>{html.escape(info['title'])} {html.escape(info['version'])}</h1>"
            f"<p>{html.escape(info['description'])} Every service route also answers OPTIONS "
            "(204 with Allow). Machine-readable, with the schema of every answer: "
            "<a href='openapi.json'>openapi.json</a>.</p>" + "".join(rows) + "</body></html>")
