"""A tiny WSGI client: real round trips through the gateway, no network.

Requests carry the raw URI in ``RAW_URI`` and ``REQUEST_URI`` and a decoded ``PATH_INFO``,
as gunicorn and cheroot do, so the gateway's raw-path parsing is exercised for real.
"""
import io
import json
from urllib.parse import unquote_to_bytes, urlencode


class WSGIResponse:
    def __init__(self, status, headers, body):
        self.status_line = status
        self.status = int(status.split()[0])
        self.headers = dict(headers)
        self.header_list = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"<WSGIResponse {self.status_line} {self.body[:200]!r}>"


class WSGIClient:
    def __init__(self, app):
        self.app = app

    def request(self, method, uri, body=b"", content_type=None, headers=None):
        path, _, query = uri.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "RAW_URI": uri,
            "REQUEST_URI": uri,
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "localhost",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)) if body else "",
        }
        if content_type:
            environ["CONTENT_TYPE"] = content_type
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        captured = {}

        def start_response(status, response_headers, exc_info=None):
            captured["status"], captured["headers"] = status, response_headers

        chunks = self.app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return WSGIResponse(captured["status"], captured["headers"], payload)

    def get(self, uri, **kwargs):
        return self.request("GET", uri, **kwargs)

    def post(self, uri, data=None, **kwargs):
        body = urlencode(data or {}, doseq=True).encode()
        return self.request("POST", uri, body=body,
                            content_type="application/x-www-form-urlencoded", **kwargs)

    def post_json(self, uri, document, **kwargs):
        return self.request("POST", uri, body=json.dumps(document).encode(),
                            content_type="application/json", **kwargs)

    def delete(self, uri, **kwargs):
        return self.request("DELETE", uri, **kwargs)
