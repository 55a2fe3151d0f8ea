"""Dashboard function: the developer dashboard's page and files (docs/dashboard.md), built from
``dashboard/`` into ``site/`` beside this module (``make install`` builds it; never committed).

Served by the API itself rather than from S3 and CloudFront: the dashboard is then the API's
own origin, so its calls need no CORS, its Content-Security-Policy can say ``'self'`` for
everything, and passkeys it registers belong to the API's host, the relying party the sign-in
pages check them against (docs/mfa.md). The page is a few hundred bytes and the files are
immutable (their names carry their hash), so a small function answers them cheaply."""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

import re
from html import escape
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.errors import NotFoundError
from umapi.http import create_app, public_base_url
from umapi.observability import logger, metrics, tracer

SITE = Path(__file__).parent / "site"
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "font-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
NOT_BUILT = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Developer Dashboard</title>"
    "<h1>The dashboard is not built</h1><p>Run <code>make install</code> (it needs Node.js and npm).</p></html>"
)

app = create_app()


@app.get("/dashboard", response_description="The dashboard's page (HTML)")
@tracer.capture_method
def get_dashboard() -> Response[str]:
    """The page, its files' base set to where this deployment serves them (its stage included)."""
    index = SITE / "index.html"
    if not index.is_file():
        return Response(503, "text/html; charset=utf-8", NOT_BUILT, {**HEADERS, "Cache-Control": "no-store"})
    base = f"<base href='{escape(public_base_url(app.current_event.raw_event))}/dashboard/'>"
    page = index.read_text().replace("<head>", f"<head>{base}", 1)
    return Response(200, "text/html; charset=utf-8", page, {**HEADERS, "Cache-Control": "no-cache"})


@app.get("/dashboard/<file>", response_description="One of the dashboard's files")
@tracer.capture_method
def get_dashboard_file(file: str) -> Response[str]:
    path = SITE / file
    kind = TYPES.get(path.suffix)
    if not FILE_NAME.match(file) or kind is None or not path.is_file():
        raise NotFoundError(f"The dashboard has no file {file[:128]}.")
    # Their names carry a hash of their content: a new build is new names.
    headers = {**HEADERS, "Cache-Control": "public, max-age=31536000, immutable"}
    if kind.startswith("text/") or kind == "image/svg+xml":
        return Response(200, kind, path.read_text(), headers)
    return Response(200, kind, path.read_bytes(), headers)  # type: ignore[arg-type]


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.finished()
