#!/usr/bin/env python3
"""Generate the whole API's OpenAPI 3 document from the code (docs/api.md §8).

Each function's Powertools resolver describes its own routes (request models, parameters,
response models); this script merges them in template.yaml's order, documents what the
resolvers cannot know (success status codes other than 200, the error envelope on every
operation, bearer authentication), and writes the result to ``openapi.json``. The layer's
``umapi/openapi.json`` (served by ``GET /openapi.json``) is a symbolic link to it, which
``sam build`` turns into a copy of the file.

    .venv/bin/python scripts/openapi.py            # write openapi.json
    .venv/bin/python scripts/openapi.py --check    # exit 1 if it differs from the code
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = (ROOT / "openapi.json",)
TITLE = "User Management API"
VERSION = "1.0.0"

# Success statuses (status_code=, responses= on each route's decorator) and who may call (the
# route's caller dependency, requires(...); none means public) come from the routes themselves.
OAUTH = {("post", "/auth/token"), ("post", "/auth/revoke"), ("post", "/auth/introspect")}
# Routes for a user's token granted an OpenID Connect scope rather than a permission.
USER_SCOPES = {("get", "/userinfo"): ["openid"], ("post", "/userinfo"): ["openid"]}
# The sign-in pages answer HTML (the form, or an error page) to a browser.
HTML = {
    ("get", "/oauth/authorize"),
    ("post", "/oauth/authorize"),
    ("get", "/oauth/logout"),
    ("post", "/oauth/logout"),
    ("get", "/oauth/callback"),
}
HTML_STATUSES = ("200", "400", "401", "403", "429")
# The sign-in pages read their parameters themselves (a bad one is an error page or an error
# redirect, RFC 6749 §4.1.2.1, not the JSON envelope), so the document lists them here.
AUTHORIZE: dict[str, tuple[dict[str, Any], bool, str]] = {
    "response_type": ({"type": "string", "enum": ["code"]}, True, "code (the only response type)"),
    "client_id": ({"type": "string"}, True, "a registered client with the authorization_code grant"),
    "redirect_uri": ({"type": "string"}, True, "exactly one of the client's redirect URIs"),
    "scope": ({"type": "string"}, False, "space-separated scopes"),
    "state": ({"type": "string"}, False, "returned unchanged with the code"),
    "code_challenge": ({"type": "string"}, False, "PKCE (RFC 7636): BASE64URL(SHA256(verifier)); public clients must"),
    "code_challenge_method": ({"type": "string", "enum": ["S256"]}, False, "S256"),
    "nonce": ({"type": "string", "maxLength": 512}, False, "OpenID Connect: echoed in the ID token"),
    "prompt": (
        {"type": "string"},
        False,
        "OpenID Connect: login (ask for the password even with a session), none (never show the form)",
    ),
    "max_age": ({"type": "string", "pattern": "^[0-9]{1,10}$"}, False, "OpenID Connect: seconds a sign-in may be old"),
}
# The end-session endpoint's parameters (OpenID Connect RP-Initiated Logout 1.0 §2).
LOGOUT: dict[str, tuple[dict[str, Any], str]] = {
    "id_token_hint": ({"type": "string", "maxLength": 8192}, "the ID token the client received: ends that sign-in"),
    "post_logout_redirect_uri": (
        {"type": "string", "maxLength": 2048},
        "one of the client's post_logout_redirect_uris",
    ),
    "state": ({"type": "string", "maxLength": 1024}, "returned unchanged with the redirect"),
    "client_id": ({"type": "string", "maxLength": 64}, "the client, when no id_token_hint is sent"),
}
SIGN_IN_FORM = {
    "email": {"type": "string"},
    "password": {
        "type": "string",
        "format": "password",
        "description": "the password step (leave out at the email step)",
    },
    "login_token": {"type": "string", "description": "from the sign-in form (bound to its cookie)"},
}
# The second step's form (docs/api.md §11), bound to the attempt by its cookie (umapi_mfa).
SECOND_STEP_FORM = {
    "step": {"type": "string", "enum": ["second-factor"], "description": "the second step"},
    "otp": {"type": "string", "maxLength": 64, "description": "a TOTP code (6 digits) or a recovery code"},
    "credential": {
        "type": "string",
        "maxLength": 16384,
        "description": "a passkey's answer: navigator.credentials.get()'s result as JSON",
    },
}
# What each error code means, for the error statuses' descriptions; which codes each status
# has comes from umapi.http's own table.
EXPLAINED = {
    "validation_error": "the request is not valid (details name the fields)",
    "unauthenticated": "no, or an invalid, expired or revoked token",
    "forbidden": "the token lacks required_permission",
    "not_found": "no such resource in this organization",
    "gone": "archived",
    "precondition_failed": "If-Match is stale",
    "payload_too_large": "bodies over 1 MiB",
    "rate_limited": "Retry-After says when to come back",
    "service_unavailable": "Retry-After says when to come back",
}


def error_statuses() -> dict[str, str]:
    """Each error status with its codes (from ``umapi.http``'s table) and what they mean."""
    from umapi.http import error_codes_by_status

    return {
        str(status): ", ".join(f"{code}: {EXPLAINED[code]}" if code in EXPLAINED else code for code in codes)
        for status, codes in error_codes_by_status().items()
    }


ENVELOPE = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details", "request_id"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "message": {"type": "string"},
                            "code": {"type": "string"},
                        },
                    },
                },
                "request_id": {"type": "string", "pattern": "^req_[0-9A-Z]{26}$"},
            },
            "additionalProperties": True,
        }
    },
}
OAUTH_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}


def _function_modules() -> list[str]:
    sys.path[:0] = [str(ROOT / "layers" / "core" / "python"), str(ROOT)]
    from devserver.template import Template

    template = Template.load(ROOT / "template.yaml")
    modules = []
    for resource in template.resources_of_type("AWS::Serverless::Function").values():
        props = resource["Properties"]
        if any(event["Type"] == "Api" for event in props.get("Events", {}).values()):
            module = props["Handler"].rsplit(".", 1)[0]
            modules.append(".".join(Path(props["CodeUri"]).parts) + "." + module)
    return modules


def build() -> dict[str, Any]:
    """The merged document (deterministic: the same code gives the same bytes)."""
    os.environ.setdefault("TABLE_NAME", "Table")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "UserManagementApi")
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    modules = _function_modules()  # puts the layer on sys.path
    from umapi.access.permissions import OIDC_SCOPE_DESCRIPTIONS, SCOPE_DESCRIPTIONS
    from umapi.dependencies import declared_permissions

    for name in modules:
        app = importlib.import_module(name).app
        part = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION))
        for path, operations in part.get("paths", {}).items():
            paths.setdefault(path, {}).update(operations)
        for route in [*app._static_routes, *app._dynamic_routes]:
            declaration = declared_permissions(route.func)
            operation = paths.get(route.openapi_path, {}).get(route.method.lower())
            if declaration is not None and operation is not None:
                # The route's own declaration: what its caller dependency checks.
                key = (route.method.lower(), route.openapi_path)
                scopes = USER_SCOPES.get(key, sorted(set(declaration.permissions)))
                operation["security"] = [{"bearer": []}, {"oauth2": scopes}]
                operation["x-required-permissions"] = list(declaration.permissions)
                if declaration.unless_self:
                    operation["x-required-permissions-unless-self"] = declaration.unless_self
                if declaration.by_type:
                    operation["x-required-permissions-by-type"] = declaration.by_type
        for schema_name, schema in part.get("components", {}).get("schemas", {}).items():
            schemas.setdefault(schema_name, schema)
    for schema in schemas.values():
        _closed_maps(schema)
    for schema_name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(schema_name, None)  # Powertools' own shapes; ours is the ErrorEnvelope
    schemas["ErrorEnvelope"] = ENVELOPE
    schemas["OAuthError"] = OAUTH_ERROR
    for path, operations in paths.items():
        for method, operation in operations.items():
            _document(method, path, operation)
    _drop_unused(schemas, paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Multi-tenant users, roles, OAuth2 tokens, rate limits, signed webhooks and an "
            "audit log. Errors use one envelope; every response carries X-Request-Id.",
        },
        # GET /openapi.json answers with the root it was called on as the only server.
        "servers": [
            {"url": "http://127.0.0.1:3000", "description": "make dev"},
            {
                "url": "https://{api}.execute-api.{region}.amazonaws.com/v1",
                "description": "deployed (stage v1)",
                "variables": {"api": {"default": "example"}, "region": {"default": "us-east-1"}},
            },
        ],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                # Relative URLs here; GET /openapi.json answers them on the API root it was called on.
                "oauth2": {
                    "type": "oauth2",
                    "description": "Client credentials for API clients; authorization code with PKCE for users.",
                    "flows": {
                        "clientCredentials": {"tokenUrl": "/auth/token", "scopes": SCOPE_DESCRIPTIONS},
                        "authorizationCode": {
                            "authorizationUrl": "/oauth/authorize",
                            "tokenUrl": "/auth/token",
                            "scopes": {**OIDC_SCOPE_DESCRIPTIONS, **SCOPE_DESCRIPTIONS},
                        },
                    },
                },
            },
        },
    }


def _drop_unused(schemas: dict[str, Any], paths: dict[str, Any]) -> None:
    """Schemas no operation reaches (a route's return annotation that its responses= replaced)."""
    reached: set[str] = set()
    pending = [paths]
    while pending:
        text = json.dumps(pending.pop())
        for name in schemas:
            if name not in reached and f'"#/components/schemas/{name}"' in text:
                reached.add(name)
                pending.append(schemas[name])
    for name in set(schemas) - reached:
        del schemas[name]


def _closed_maps(schema: Any) -> None:
    """pydantic writes ``dict[Key, Value]`` with a constrained key as ``patternProperties`` (the
    key's pattern) beside ``propertyNames`` (its other constraints), which lets any other key
    through as an additional property; the model accepts none. Say so: the key's pattern joins
    ``propertyNames`` and every property takes the value schema."""
    if isinstance(schema, list):
        for item in schema:
            _closed_maps(item)
        return
    if not isinstance(schema, dict):
        return
    patterns = schema.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and "propertyNames" in schema:
        [(pattern, value)] = patterns.items()
        del schema["patternProperties"]
        schema["propertyNames"] = {**schema["propertyNames"], "pattern": pattern}
        schema["additionalProperties"] = value
    for child in schema.values():
        _closed_maps(child)


def _document(method: str, path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)  # Powertools' validation answer; ours is 400 in the envelope
    responses.pop("500", None)
    for status in ("204", "302", "304"):  # no body
        if status in responses:
            responses[status] = {"description": responses[status].get("description", "")}
    error_schema = "OAuthError" if (method, path) in OAUTH else "ErrorEnvelope"
    for status, text in error_statuses().items():
        responses.setdefault(
            status,
            {
                "description": text,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{error_schema}"}}},
            },
        )
    if path == "/dashboard":
        responses["200"] = {
            "description": responses["200"].get("description", ""),
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    if path == "/dashboard/{file}":
        responses["200"] = {
            "description": responses["200"].get("description", ""),
            "content": {kind: {"schema": {"type": "string"}} for kind in ("text/javascript", "text/css")},
        }
    if path == "/oauth/assets/passkey.js":
        responses["200"] = {
            "description": responses["200"].get("description", ""),
            "content": {"text/javascript": {"schema": {"type": "string"}}},
        }
    if (method, path) in HTML:
        if path == "/oauth/callback":
            _callback_parameters(operation)
        elif path == "/oauth/logout":
            _logout_parameters(method, operation)
        else:
            _authorize_parameters(method, operation)
        page = {"text/html": {"schema": {"type": "string"}}}
        for status in (s for s in HTML_STATUSES if s in responses):
            responses[status]["content"] = {**page, **responses[status].get("content", {})}
    operation["responses"] = dict(sorted(responses.items()))


def _authorize_parameters(method: str, operation: dict[str, Any]) -> None:
    from umapi.auth.web import AUTHORIZE_PARAMS, SIGN_IN_PARAMS

    # The pages read AUTHORIZE_PARAMS (and the form SIGN_IN_PARAMS): document exactly those.
    assert tuple(AUTHORIZE) == AUTHORIZE_PARAMS, "AUTHORIZE documents other parameters than the pages read"
    assert set(SIGN_IN_FORM) | set(SECOND_STEP_FORM) == SIGN_IN_PARAMS - set(AUTHORIZE_PARAMS), (
        "SIGN_IN_FORM is out of step"
    )
    if method == "get":
        operation["responses"]["302"] = {
            "description": "An error sent back to redirect_uri (RFC 6749 §4.1.2.1: error, error_description, state)"
        }
        operation["parameters"] = [
            {"name": name, "in": "query", "required": required, "description": text, "schema": schema}
            for name, (schema, required, text) in AUTHORIZE.items()
        ]
        return
    fields = {name: {**schema, "description": text} for name, (schema, _, text) in AUTHORIZE.items()}
    form = {
        "type": "object",
        "properties": {**fields, **SIGN_IN_FORM},
        # Without a password, the email step: the organization's identity provider, or the password step.
        "required": [
            *(name for name, (_, required, _) in AUTHORIZE.items() if required),
            *(name for name in SIGN_IN_FORM if name != "password"),
        ],
    }
    second = {"type": "object", "properties": SECOND_STEP_FORM, "required": ["step"]}
    operation["requestBody"] = {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": {"oneOf": [form, second]}}},
    }


def _callback_parameters(operation: dict[str, Any]) -> None:
    from umapi.auth.web import CALLBACK_PARAMS

    operation["responses"]["302"] = {"description": "Signed in: to the client's redirect_uri with code and state"}
    operation["parameters"] = [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string", "maxLength": 2048}}
        for name in sorted(CALLBACK_PARAMS)
    ]


def _logout_parameters(method: str, operation: dict[str, Any]) -> None:
    from umapi.auth.web import LOGOUT_PARAMS

    assert set(LOGOUT) == LOGOUT_PARAMS, "LOGOUT documents other parameters than the endpoint reads"
    operation["responses"]["302"] = {"description": "Signed out: to post_logout_redirect_uri with state"}
    if method == "get":
        operation["parameters"] = [
            {"name": name, "in": "query", "required": False, "description": text, "schema": schema}
            for name, (schema, text) in LOGOUT.items()
        ]
        return
    form = {
        "type": "object",
        "properties": {name: {**schema, "description": text} for name, (schema, text) in LOGOUT.items()},
    }
    operation["requestBody"] = {"required": False, "content": {"application/x-www-form-urlencoded": {"schema": form}}}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/openapi.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    text = render(build())
    stale = [path for path in OUTPUTS if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run scripts/openapi.py", file=sys.stderr)
        return 1 if stale else 0
    for path in OUTPUTS:
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
