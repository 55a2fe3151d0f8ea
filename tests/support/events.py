"""API Gateway (REST) events for handler tests, built on the sample events in ``events/``."""

from __future__ import annotations

import base64
import copy
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


@cache
def _sample(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS_DIR / name).read_text()))


def sample_event(name: str) -> dict[str, Any]:
    """A fresh copy of ``events/<name>``."""
    return copy.deepcopy(_sample(name))


def api_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
    raw_body: str | bytes | None = None,
) -> dict[str, Any]:
    """An event shaped like the ones ``sam local start-api`` (and API Gateway) send.

    ``body`` is JSON-encoded with ``Content-Type: application/json``; ``raw_body`` is sent as given
    (bytes base64-encoded, as API Gateway does for binary bodies).
    """
    event = sample_event("system/get_health.json")
    all_headers = dict(event["headers"])
    if body is not None:
        raw_body = json.dumps(body)
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    is_base64 = isinstance(raw_body, bytes)
    event.update(
        resource=resource or path,
        path=path,
        httpMethod=method,
        headers=all_headers,
        multiValueHeaders={name: [value] for name, value in all_headers.items()},
        queryStringParameters=query or None,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        pathParameters=path_parameters,
        body=base64.b64encode(raw_body).decode() if isinstance(raw_body, bytes) else raw_body,
        isBase64Encoded=is_base64,
    )
    event["requestContext"].update(httpMethod=method, path=path, resourcePath=resource or path)
    if query:
        event["requestContext"]["path"] = f"{path}?{urlencode(query)}"
    return event


def header(response: dict[str, Any], name: str) -> str | None:
    """One response header, whichever of ``headers`` / ``multiValueHeaders`` carries it."""
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return str(values[0])
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
