"""Calls the API in-process: requests become API Gateway events, routed to the handler that
template.yaml names for the route, exactly as API Gateway would route them."""

from __future__ import annotations

import base64
import importlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

from devserver.template import Template
from tests.support.events import api_event

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: str
    multi: dict[str, list[str]] = field(default_factory=dict)  # every value of each header

    def all_headers(self, name: str) -> list[str]:
        """Every value of a header that may repeat (``Set-Cookie``)."""
        return [v for key, values in self.multi.items() if key.lower() == name.lower() for v in values]

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), None)

    @property
    def error(self) -> dict[str, Any]:
        """the API's error envelope's ``error`` object."""
        return dict(self.json()["error"])


@dataclass
class _Route:
    method: str
    resource: str
    pattern: re.Pattern[str]
    module: ModuleType


@dataclass
class InProcessApi:
    """``api.get("/clients", token=...)`` → the OrgsFunction handler's answer."""

    context: Any
    template: Template
    routes: list[_Route] = field(default_factory=list)
    handler_seconds: float = 0.0  # how long the last request's lambda_handler ran (make bench)

    def __post_init__(self) -> None:
        for resource in self.template.resources_of_type("AWS::Serverless::Function").values():
            props = resource["Properties"]
            module_name = props["Handler"].rsplit(".", 1)[0]
            dotted = ".".join(Path(props["CodeUri"]).parts) + "." + module_name
            module = importlib.import_module(dotted)
            for event in props.get("Events", {}).values():
                if event["Type"] != "Api":
                    continue
                path = event["Properties"]["Path"]
                regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"
                self.routes.append(_Route(event["Properties"]["Method"].upper(), path, re.compile(regex), module))
        # Like API Gateway, a literal path segment wins over a {parameter} (/users/bulk/roles).
        self.routes.sort(key=lambda route: route.resource.count("{"))

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        basic: tuple[str, str] | None = None,
    ) -> ApiResponse:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        if basic is not None:
            all_headers["Authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
        if form is not None:
            raw_body = urlencode(form)
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        for route in self.routes:
            match = route.pattern.match(path)
            if match and route.method == method.upper():
                event = api_event(
                    method.upper(),
                    path,
                    resource=route.resource,
                    path_parameters=match.groupdict() or None,
                    query=query,
                    headers=all_headers,
                    body=json_body,
                    raw_body=raw_body,
                )
                started = time.perf_counter()
                result = route.module.lambda_handler(event, self.context)
                self.handler_seconds = time.perf_counter() - started
                multi = {k: list(v) for k, v in (result.get("multiValueHeaders") or {}).items()}
                merged = {k: v[-1] for k, v in multi.items()}
                merged.update(result.get("headers") or {})
                for key, value in (result.get("headers") or {}).items():
                    multi.setdefault(key, [value])
                return ApiResponse(result["statusCode"], merged, result.get("body") or "", multi)
        raise AssertionError(f"template.yaml has no route for {method} {path}")

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("DELETE", path, **kwargs)
