"""The API reference at ``/docs``: the OpenAPI document (``/openapi.json``) written out as one plain
HTML page on the server, with no script and nothing fetched from another host. FastAPI's own pages
(Swagger UI, ReDoc) load their JavaScript from a CDN, unpinned and without integrity checks, into
the origin the console's session cookie belongs to: a CDN compromised was a console session taken.
"""

from html import escape
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
HEADERS = {"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'", "x-content-type-options": "nosniff"}
_STYLE = "body{font:14px/1.5 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em}code{font-size:13px}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}"


def reference_page(openapi: dict[str, Any]) -> str:
    """Every operation: its method and path, what it does, the scope it needs, its parameters and body."""
    info = openapi.get("info", {})
    rows = []
    for path, operations in openapi.get("paths", {}).items():
        for method in METHODS:
            if method in operations:
                rows.append(_row(method, path, operations[method]))
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(info.get('title', 'API'))}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(info.get('title', 'API'))} {escape(str(info.get('version', '')))}</h1><p>{escape(info.get('description', ''))}</p>"
        "<p>The machine-readable document: <a href=/openapi.json>/openapi.json</a>.</p>"
        "<table><tr><th>request</th><th>what it does</th><th>scope</th><th>parameters and body</th></tr>" + "".join(rows) + "</table></body></html>"
    )


def _row(method: str, path: str, operation: dict[str, Any]) -> str:
    parameters = [f"<code>{escape(p['name'])}</code> ({escape(p.get('in', ''))}{', required' if p.get('required') else ''})" for p in operation.get("parameters", [])]
    body = operation.get("requestBody", {}).get("content", {})
    if body:
        parameters.append("body: " + ", ".join(f"<code>{escape(kind)}</code>" for kind in body))
    return (
        f"<tr><td><code>{method.upper()} {escape(path)}</code></td><td>{escape(operation.get('summary', ''))}</td>"
        f"<td><code>{escape(str(operation.get('x-scope', '')))}</code></td><td>{'<br>'.join(parameters)}</td></tr>"
    )
