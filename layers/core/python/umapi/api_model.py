"""The base of the API's request, response and message models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """A pydantic model whose validator and serializer are built when a request first uses it
    (pydantic's ``defer_build``), not when its module is imported: a function imports every
    model its routes name, but a cold start serves one route and builds that route's models only.
    ``tests/api/test_cold_start.py`` holds it; docs/performance.md has the figures."""

    model_config = ConfigDict(defer_build=True)
