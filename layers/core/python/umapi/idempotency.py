"""``Idempotency-Key`` on POST (contract §8), with Powertools' idempotency utility and its own table.

A repeat of a POST with the same key and the same body within 24 h answers with the first
response (marked ``Idempotent-Replayed: true``) and changes nothing; the same key with another
body is 422 ``idempotency_key_reused``; a repeat while the first is still running is 409.
Keys belong to the caller: the record is keyed by client, route and key, and the request is
authenticated before any stored answer is shown. Errors are not stored, so a failed request
can be retried with its key.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from pydantic import BaseModel

from umapi.aws import dynamodb_client
from umapi.errors import ConflictError, IdempotencyKeyReusedError
from umapi.http import ApiApp, header
from umapi.settings import get_settings

HEADER = "idempotency-key"
TTL_SECONDS = 24 * 3600
_config = IdempotencyConfig(
    event_key_jmespath="[client, route, key]",
    payload_validation_jmespath="body",
    expires_after_seconds=TTL_SECONDS,
    hash_function="sha256",
)


def _run(request: dict[str, Any], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    del request  # only its hash is used, by the decorator
    return compute()


@functools.cache
def _idempotent_run() -> Callable[..., dict[str, Any]]:
    """Built on first use, so the table name is read from settings then, not at import."""
    store = DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table, boto3_client=dynamodb_client())
    return idempotent_function(data_keyword_argument="request", persistence_store=store, config=_config)(_run)  # type: ignore[no-any-return]


def _jsonable(body: Any) -> Any:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json")
    if isinstance(body, str):
        return json.loads(body) if body else None
    return body


def idempotent(app: ApiApp) -> Callable[[Callable[..., Response[Any]]], Callable[..., Response[Any]]]:
    """Route decorator (under ``@app.post``) for routes that take ``caller: Principal``."""

    def decorate(route: Callable[..., Response[Any]]) -> Callable[..., Response[Any]]:
        @functools.wraps(route)
        def wrapper(*args: Any, **kwargs: Any) -> Response[Any]:
            event = app.current_event.raw_event
            key = header(event, HEADER).strip()
            caller = kwargs.get("caller")
            if not key or caller is None:
                return route(*args, **kwargs)
            if len(key) > 255:
                raise IdempotencyKeyReusedError("Idempotency-Key must be at most 255 characters.")

            ran: list[bool] = []

            def compute() -> dict[str, Any]:
                ran.append(True)
                response = route(*args, **kwargs)
                return {
                    "status": response.status_code,
                    "headers": {k: v for k, v in response.headers.items() if isinstance(v, str)},
                    "body": _jsonable(response.body),
                }

            request = {
                "client": caller.client_id,
                "route": f"{event.get('httpMethod')} {event.get('path')} {caller.org_id}",
                "key": key,
                "body": hashlib.sha256((app.current_event.decoded_body or "").encode()).hexdigest(),
            }
            _config.register_lambda_context(app.lambda_context)
            try:
                stored = _idempotent_run()(request=request, compute=compute)
            except IdempotencyValidationError as exc:
                raise IdempotencyKeyReusedError(
                    "This Idempotency-Key was used with another request body; use a new key."
                ) from exc
            except IdempotencyAlreadyInProgressError as exc:
                raise ConflictError("A request with this Idempotency-Key is still in progress; retry shortly.") from exc
            replayed = not ran
            return Response(
                status_code=stored["status"],
                content_type=content_types.APPLICATION_JSON,
                body=stored["body"],
                headers={
                    **stored["headers"],
                    "Idempotency-Key": key,
                    **({"Idempotent-Replayed": "true"} if replayed else {}),
                },
            )

        return wrapper

    return decorate
