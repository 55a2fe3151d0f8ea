"""SAM CLI's own local API Gateway, answering unknown routes in the contract's error envelope."""

from __future__ import annotations

import json
import re
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


# Swagger UI for GET /openapi.json (the browser fetches the UI's assets from its CDN).
SWAGGER_UI = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>User Management API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", persistAuthorization: true});</script>
</body></html>
"""


class LocalApi(LocalApigwService):  # type: ignore[misc]
    """``LocalApigwService`` with the contract's 404/405/500 envelopes instead of API Gateway's bare ones."""

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
            return Response(SWAGGER_UI, mimetype="text/html")

        def with_request_id(response: Response) -> Response:
            # The functions and the error envelopes set their own; this covers the local routes.
            response.headers.setdefault("X-Request-Id", new_id("req"))
            return response

        self._app.after_request(with_request_id)

        self._app.add_url_rule("/_local/emails", endpoint="_local_emails", view_func=list_emails, methods=["GET"])
        self._app.add_url_rule("/docs", endpoint="_local_docs", view_func=swagger_ui, methods=["GET"])

    @property
    def flask_app(self) -> Any:
        return self._app
