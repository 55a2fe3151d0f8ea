"""``Idempotency-Key`` on POST (docs/api.md §8), with Powertools' idempotency utility and its own table.

A repeat of a POST with the same key and the same body within 24 h answers with the first
response (marked ``Idempotent-Replayed: true``) and changes nothing; the same key with another
body is 422 ``idempotency_key_reused``; a repeat while the first is still running is 409; a key
that is empty or longer than 255 characters is 400. Errors are not stored, so a failed request
can be retried with its key.

Keys belong to the exact principal: the record is keyed by organization, client and subject,
route and key. The route's declared permissions are checked before any stored answer is
looked at, and the record keeps every permission the first request needed (``Principal.checked``):
a replay is answered only to a caller who holds them all now. The stored answer is sealed
(AES-256-GCM) with a key derived from the data key *and the Idempotency-Key itself*, which is
stored only hashed: a secret in the answer (``client_secret``, a webhook ``secret``) is never
readable from the table, not even with the data key alone.
"""

from __future__ import annotations

import functools
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

from umapi import services
from umapi.access.principal import Principal
from umapi.aws import dynamodb_client
from umapi.digests import sha256_hex
from umapi.errors import ConflictError, ErrorDetail, IdempotencyKeyReusedError, ValidationError
from umapi.http import ApiApp, header
from umapi.settings import get_settings

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
TTL_SECONDS = 24 * 3600
_config = IdempotencyConfig(
    event_key_jmespath="[principal, route, key]",
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
            caller = kwargs.get("caller")
            sent = any(str(name).lower() == HEADER for name in (event.get("headers") or {}))
            if not sent or not isinstance(caller, Principal):
                return route(*args, **kwargs)
            key = header(event, HEADER).strip()
            if not 1 <= len(key) <= MAX_KEY_LENGTH:
                raise ValidationError(
                    f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
                    details=[ErrorDetail("Idempotency-Key", f"{len(key)} characters.", "invalid_idempotency_key")],
                )
            principal = f"{caller.org_id} {caller.client_id} {caller.subject}"
            route_name = f"{event.get('httpMethod')} {event.get('path')}"
            purpose, context = f"idempotency\x00{key}", f"{principal} {route_name}"
            sealer = services.sealer()
            ran: list[bool] = []

            def compute() -> dict[str, Any]:
                ran.append(True)
                response = route(*args, **kwargs)
                body = json.dumps(_jsonable(response.body)).encode()
                return {
                    "status": response.status_code,
                    "headers": {k: v for k, v in response.headers.items() if isinstance(v, str)},
                    "sealed_body": sealer.seal(purpose, body, context),
                    "permissions": sorted(caller.checked),
                }

            request = {
                "principal": principal,
                "route": route_name,
                "key": key,
                "body": sha256_hex(app.current_event.decoded_body or ""),
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
            if replayed:  # only to a caller still allowed to make the request
                for permission in stored.get("permissions", []):
                    caller.require(permission)
            return Response(
                status_code=stored["status"],
                content_type=content_types.APPLICATION_JSON,
                body=json.loads(sealer.open(purpose, stored["sealed_body"], context)),
                headers={
                    **stored["headers"],
                    "Idempotency-Key": key,
                    **({"Idempotent-Replayed": "true"} if replayed else {}),
                },
            )

        return wrapper

    return decorate
