"""SAM CLI's own local API Gateway, answering unknown routes in the API's error envelope."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask import Response
from samcli.local.apigw.local_apigw_service import LocalApigwService
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from devserver.outbox import sent_emails
from umapi.ids import new_id


def envelope(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    request_id = new_id("req")
    body = {"error": {"code": code, "message": message, "details": [], "request_id": request_id}}
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["X-Request-Id"] = request_id
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# Swagger UI for GET /openapi.json, with its assets served from here (devserver/swagger, installed
# by `make install` from npm's swagger-ui-dist): /docs works offline, and an admin's browser runs
# no script from a CDN. The page allows only its own origin (images: also data: URIs, which the
# UI's stylesheet uses for its icons).
SWAGGER_ASSETS = Path(__file__).resolve().parent / "swagger" / "node_modules" / "swagger-ui-dist"
SWAGGER_FILES = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}
SWAGGER_UI = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>User Management API</title>
<link rel="icon" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body></html>
"""
SWAGGER_START = 'SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", persistAuthorization: true});\n'
SWAGGER_MISSING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>User Management API</title></head>
<body><h1>User Management API</h1>
<p>Swagger UI is not installed: install Node.js (with npm) and run <code>make install</code>.</p>
<p>The document itself is at <a href="/openapi.json">/openapi.json</a>.</p></body></html>
"""
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def docs_response(body: str | bytes, mimetype: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype=mimetype)
    response.headers["Content-Security-Policy"] = DOCS_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


class LocalApi(LocalApigwService):  # type: ignore[misc]
    """``LocalApigwService`` with the API's 404/405/500 envelopes instead of API Gateway's bare ones."""

    def _construct_error_handling(self) -> None:
        from flask import request

        def not_found(_: HTTPException) -> Response:
            return envelope(404, "not_found", f"No route matches {request.method} {request.path}.")

        def method_not_allowed(error: HTTPException) -> Response:
            allowed = self.allowed_methods(request.path) or sorted(getattr(error, "valid_methods", None) or [])
            return envelope(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed on {request.path}; allowed: {', '.join(allowed)}.",
                {"Allow": ", ".join(allowed)},
            )

        def failure(_: Any) -> Response:
            return envelope(502, "internal_error", "The function failed to answer; see the server log.")

        self._app.register_error_handler(404, not_found)
        self._app.register_error_handler(MethodNotAllowed, method_not_allowed)
        self._app.register_error_handler(500, failure)

    def allowed_methods(self, path: str) -> list[str]:
        """The methods of the template resource that ``path`` is (a literal segment wins over a
        {parameter}, as in API Gateway: /users/bulk is not /users/{user_id})."""
        matches = [
            route
            for route in self.api.routes
            if re.match("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(route.path)) + "$", path)
        ]
        if not matches:
            return []
        fewest = min(route.path.count("{") for route in matches)
        methods = {m.upper() for route in matches if route.path.count("{") == fewest for m in route.methods}
        if "GET" in methods:
            methods.add("HEAD")
        return sorted(methods)

    def _request_handler(self, **kwargs: Any) -> Any:
        """API Gateway passes any text body on; SAM's emulator fails on one that is not UTF-8 (502).
        Answer that as the API answers malformed bodies: 400 in the envelope."""
        from flask import request

        try:
            request.get_data().decode("utf-8")
        except UnicodeDecodeError:
            return envelope(400, "validation_error", "The request body is not valid UTF-8 text.")
        return super()._request_handler(**kwargs)

    def add_local_routes(self, region: str) -> None:
        """Routes of the local runtime only (not in template.yaml, never deployed, no token)."""

        def list_emails() -> Response:
            return Response(json.dumps({"data": sent_emails(region)}), mimetype="application/json")

        def swagger_ui() -> Response:
            if not (SWAGGER_ASSETS / "swagger-ui-bundle.js").is_file():
                return docs_response(SWAGGER_MISSING, "text/html", 503)
            return docs_response(SWAGGER_UI, "text/html")

        def swagger_asset(name: str) -> Response:
            if name == "start.js":
                return docs_response(SWAGGER_START, "text/javascript")
            if name not in SWAGGER_FILES or not (SWAGGER_ASSETS / name).is_file():
                return envelope(404, "not_found", f"No route matches GET /docs/{name}.")
            response = docs_response((SWAGGER_ASSETS / name).read_bytes(), SWAGGER_FILES[name])
            response.headers["Cache-Control"] = "public, max-age=3600"
            return response

        def with_request_id(response: Response) -> Response:
            # The functions and the error envelopes set their own; this covers the local routes.
            response.headers.setdefault("X-Request-Id", new_id("req"))
            return response

        self._app.after_request(with_request_id)

        self._app.add_url_rule("/_local/emails", endpoint="_local_emails", view_func=list_emails, methods=["GET"])
        self._app.add_url_rule("/docs", endpoint="_local_docs", view_func=swagger_ui, methods=["GET"])
        self._app.add_url_rule("/docs/<name>", endpoint="_local_docs_asset", view_func=swagger_asset, methods=["GET"])

    @property
    def flask_app(self) -> Any:
        return self._app
