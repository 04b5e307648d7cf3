"""The OpenAPI 3 document of the gateway, generated from the services' declared contracts.

Served at ``/openapi.json``; ``/docs`` renders it as a plain HTML page. Socorro-style path
pairs (``/report/list/signature/X/``) are an alternative spelling of query parameters, so
parameters are documented as query parameters (form fields for form POSTs); ``{name}``
segments of a route are path parameters.
"""
import html
import re

import crashgate
from crashgate.services.contract import JsonBody

ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["message", "type"],
        "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                       "parameter": {"type": "string"}},
    }},
}
ERROR_STATUSES = {"400": "bad or missing parameter, unreadable body, unsupported backend",
                  "404": "nothing there", "405": "method not allowed",
                  "413": "request body too large", "500": "internal error (a bug)",
                  "503": "a backend is unavailable", "504": "a backend query timed out"}
SUCCESS = {"GET": {"200": "the answer"}, "DELETE": {"200": "done"}}
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
            for method, contract in service.methods.items():
                suffix = f"_{index}" if index else ""
                item[method.lower()] = _operation(name + suffix, service, method, contract,
                                                  _CAPTURE.findall(template), url_only)
    for path, summary in BUILTINS.items():
        paths[path] = {"get": {"operationId": path.strip("_"), "summary": summary,
                               "tags": ["operations"],
                               "responses": {"200": _json_response("ok"),
                                             "503": _json_response("down", ERROR_SCHEMA)}}}
    return {"openapi": "3.0.3",
            "info": {"title": "crashgate", "version": crashgate.__version__,
                     "description": "Crash-data gateway: Socorro middleware API and "
                                    "PartyCrasher bucketing API. Every parameter may also be "
                                    "given as a path pair (/service/key/value/)."},
            "paths": dict(sorted(paths.items())),
            "components": {"schemas": {"Error": ERROR_SCHEMA}}}


def _operation(operation_id, service, method, contract, captured, url_only):
    """``url_only``: parameters some route of the service takes from its path (e.g.
    ``project``); on a route without that segment they are not offered as query parameters."""
    operation = {"operationId": f"{operation_id}_{method.lower()}",
                 "summary": service.summary, "tags": [_family(service)],
                 "parameters": [], "responses": {}}
    form_fields = {}
    for param in contract.params:
        schema = _schema(param)
        if param.name in captured:
            operation["parameters"].append({"name": param.name, "in": "path",
                                            "required": True, "schema": schema,
                                            "description": param.doc})
        elif method in ("POST", "PUT") and contract.body is None:
            form_fields[param.name] = dict(schema, description=param.doc)
        elif param.name not in url_only:
            operation["parameters"].append(_query_parameter(param, schema))
    if isinstance(contract.body, JsonBody):
        operation["requestBody"] = {"required": True, "description": contract.body.doc,
                                    "content": {"application/json": {"schema": {
                                        "oneOf": [{"type": "object"},
                                                  {"type": "array",
                                                   "items": {"type": "object"}}]}}}}
    elif form_fields:
        required = [p.name for p in contract.params if p.required and p.name in form_fields]
        schema = {"type": "object", "properties": form_fields}
        if required:
            schema["required"] = required
        operation["requestBody"] = {"required": bool(required), "content": {
            "application/x-www-form-urlencoded": {"schema": schema}}}
    operation["responses"] = _responses(method, contract)
    return operation


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
    if param.default is not None and not callable(param.default) and not param.many:
        schema["default"] = param.default
    if param.example is not None:
        schema["example"] = param.example
    return {"type": "array", "items": schema} if param.many else schema


def _describe(param):
    text = param.doc or ""
    if param.aliases:
        text += f" (also: {', '.join(param.aliases)})"
    if param.sensitive:
        text += " [personal data]"
    return f"{text} — {param.expected()}".strip(" —")


def _responses(method, contract):
    success = SUCCESS.get(method)
    if success is None:  # POST/PUT: the service decides (201, 303, 200)
        success = {"200": "the answer", "201": "created", "303": "already there (see Location)"}
    responses = {status: _json_response(text) for status, text in success.items()}
    if method == "DELETE":
        responses["403"] = _json_response("not allowed by configuration", ERROR_SCHEMA)
    for status, text in ERROR_STATUSES.items():
        responses[status] = _json_response(text, ERROR_SCHEMA)
    return responses


def _json_response(description, schema=None):
    response = {"description": description}
    response["content"] = {"application/json": {"schema": schema or {}}}
    return response


def _family(service):
    first = service.route_templates()[0].strip("/").split("/")
    if first[0].startswith("{") or service.__module__.endswith("partycrasher"):
        return "partycrasher"
    return first[0]


def docs_page(document):
    """A self-contained HTML page listing every operation and its parameters."""
    rows = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            params = "".join(
                f"<li><code>{html.escape(p['name'])}</code> ({p['in']}"
                f"{', required' if p.get('required') else ''}): "
                f"{html.escape(p.get('description') or '')}</li>"
                for p in operation.get("parameters", []))
            body = operation.get("requestBody", {}).get("content", {})
            if body:
                params += f"<li>body: {html.escape(', '.join(body))}</li>"
            rows.append(f"<section><h3><code>{method.upper()} {html.escape(path)}</code></h3>"
                        f"<p>{html.escape(operation.get('summary') or '')}</p>"
                        f"<ul>{params}</ul></section>")
    info = document["info"]
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(info['title'])} API</title></head><body>"
            f"<h1>{html.escape(info['title'])} {html.escape(info['version'])}</h1>"
            f"<p>{html.escape(info['description'])} Machine-readable: "
            "<a href='openapi.json'>openapi.json</a>.</p>" + "".join(rows) + "</body></html>")
