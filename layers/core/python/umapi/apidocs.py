"""The OpenAPI document of the whole API, as ``GET /openapi.json`` serves it.

``scripts/openapi.py`` generates it from every function's routes into the layer; serving it
names the API root the request came in on as the server and puts the OAuth endpoints on it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def openapi_document() -> dict[str, Any]:
    """The whole API's OpenAPI document, generated from the code by scripts/openapi.py."""
    return dict(json.loads((resources.files("umapi") / "openapi.json").read_text()))


def served_document(root: str) -> dict[str, Any]:
    document = openapi_document()
    oauth2 = document["components"]["securitySchemes"]["oauth2"]
    flows = {
        name: {
            **flow,
            **({"tokenUrl": f"{root}/auth/token"} if "tokenUrl" in flow else {}),
            **({"authorizationUrl": f"{root}/oauth/authorize"} if "authorizationUrl" in flow else {}),
        }
        for name, flow in oauth2["flows"].items()
    }
    schemes = {**document["components"]["securitySchemes"], "oauth2": {**oauth2, "flows": flows}}
    return {
        **document,
        "servers": [{"url": root, "description": "this API"}],
        "components": {**document["components"], "securitySchemes": schemes},
    }
