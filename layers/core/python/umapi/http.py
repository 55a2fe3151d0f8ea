"""The API's HTTP edge: one resolver factory every function uses.

``create_app()`` returns a Powertools REST resolver that
- gives every response an ``X-Request-Id: req_<ULID>`` equal to the error envelope's ``request_id``;
- rejects bodies over ``MAX_BODY_BYTES`` (413), bodies of another media type (415) and malformed
  JSON (400) first, on every route (unknown ones too), before authentication and validation;
- maps every domain error, validation error and unexpected exception to the API's error envelope
  ``{"error": {"code", "message", "details", "request_id", ...context}}``, in this one place.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError as PydanticValidationError

from umapi import errors
from umapi.audit import RequestMeta
from umapi.digests import sha256_hex
from umapi.ids import new_id
from umapi.observability import logger
from umapi.settings import get_settings
from umapi.text import JsonTextError, parse_json

REQUEST_ID_HEADER = "X-Request-Id"
UNEXPECTED_MESSAGE = "The service failed to answer; please retry. Quote the request id to support."

_STATUS_BY_ERROR: dict[type[errors.DomainError], HTTPStatus] = {
    errors.ValidationError: HTTPStatus.BAD_REQUEST,
    errors.UnauthenticatedError: HTTPStatus.UNAUTHORIZED,
    errors.ForbiddenError: HTTPStatus.FORBIDDEN,
    errors.NotFoundError: HTTPStatus.NOT_FOUND,
    errors.MethodNotAllowedError: HTTPStatus.METHOD_NOT_ALLOWED,
    errors.ConflictError: HTTPStatus.CONFLICT,
    errors.GoneError: HTTPStatus.GONE,
    errors.PreconditionFailedError: HTTPStatus.PRECONDITION_FAILED,
    errors.PayloadTooLargeError: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    errors.UnsupportedMediaTypeError: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    errors.DataConsistencyError: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.UserSuspendedError: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.IdempotencyKeyReusedError: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.RateLimitedError: HTTPStatus.TOO_MANY_REQUESTS,
    errors.ServiceUnavailableError: HTTPStatus.SERVICE_UNAVAILABLE,
}


def error_codes_by_status() -> dict[int, list[str]]:
    """Every error status the API answers, with the codes that give it (the OpenAPI document
    lists them from here, so the two cannot drift)."""
    by_status: dict[int, list[str]] = {}
    for kind, status in _STATUS_BY_ERROR.items():
        by_status.setdefault(int(status), []).append(kind.code)
    by_status[int(HTTPStatus.INTERNAL_SERVER_ERROR)] = ["internal_error"]
    return dict(sorted(by_status.items()))


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})  # DELETE: removing a factor takes a code
# RFC 7396 clients send merge patches as application/merge-patch+json: it is JSON to us.
JSON_MEDIA_TYPES = ("application/json", "application/merge-patch+json")


# Verifies the caller of an event (raw event, resolver context) or raises a DomainError.
Authenticate = Callable[[Mapping[str, Any], dict[str, Any]], Any]


class ApiApp(APIGatewayRestResolver):
    """A REST resolver that guards request bodies and stamps every response with the request id."""

    request_id: str = ""

    def __init__(
        self,
        accepted_media_types: Iterable[str] = JSON_MEDIA_TYPES,
        oauth_paths: Iterable[str] = (),
        authenticate: Authenticate | None = None,
        public: Iterable[str] = (),
    ) -> None:
        # A response that does not match its declared model is our bug: 500, never a 4xx.
        super().__init__(enable_validation=True, response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR)
        self.accepted_media_types = tuple(accepted_media_types)
        # OAuth endpoints answer a bad body as RFC 6749 does (invalid_request), not with the envelope.
        self.oauth_paths = frozenset(oauth_paths)
        # Who asks is settled before what they sent is validated: a request without a valid
        # token is 401 whatever its body, and says nothing about the schema to strangers.
        self.authenticate = authenticate
        self.public = frozenset(public)
        validate = self._request_validation_middleware

        def authenticate_then_validate(app: ApiApp, next_middleware: Any) -> Any:
            guard_body(app)  # as API Gateway rejects an oversize body before any integration
            if app.authenticate is not None and app.current_event.resource not in app.public:
                app.context["principal"] = app.authenticate(app.current_event.raw_event, app.context)
            return validate(app, next_middleware)

        self._request_validation_middleware = authenticate_then_validate  # type: ignore[assignment]

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.request_id = new_id("req")
        logger.append_keys(request_id=self.request_id)
        # Headers that belong on whatever the answer is (rate-limit status, ...), set by dependencies.
        response_headers: dict[str, str] = {}
        self.context.update(request_id=self.request_id, response_headers=response_headers)
        result = super().resolve(_as_plain_json(event, self.accepted_media_types), context)
        headers = result.setdefault("multiValueHeaders", {})
        for name, value in response_headers.items():
            headers.setdefault(name, [value])
        headers[REQUEST_ID_HEADER] = [self.request_id]
        return result


def guard_body(app: ApiApp) -> None:
    """The body guard, first on every route (unknown ones too), so whatever it raises, expected
    or not, reaches the one set of exception handlers. OAuth endpoints answer a malformed body as
    RFC 6749 does (``invalid_request``); an oversize body is 413 everywhere."""
    event = app.current_event.raw_event
    try:
        # The OAuth endpoints check each credential parameter themselves (docs/api.md §1: a lone
        # surrogate in a token to revoke is an unknown token, 200), so their strings pass here.
        check_body(event, app.accepted_media_types, text_only=event.get("path") not in app.oauth_paths)
    except errors.DomainError as problem:
        logger.warning("request body rejected", extra={"error_code": problem.code})
        if event.get("path") in app.oauth_paths and not isinstance(problem, errors.PayloadTooLargeError):
            raise errors.OAuthError("invalid_request", problem.message) from problem
        raise


def oauth_error_response(error: errors.OAuthError) -> Response[Any]:
    """RFC 6749 §5.2: ``{"error", "error_description"}``, 401 with a Basic challenge for ``invalid_client``."""
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if error.error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="user-management-api", charset="UTF-8"'
    return Response(
        status_code=401 if error.error == "invalid_client" else 400,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": error.error, "error_description": error.description}),
        headers=headers,
    )


def _as_plain_json(event: Mapping[str, Any], accepted_media_types: tuple[str, ...]) -> Mapping[str, Any]:
    """The event with an accepted ``+json`` body labelled ``application/json``, which is what the
    body parser reads (any other media type stays as sent, for the body guard to refuse)."""
    media_type = header(event, "content-type").split(";", 1)[0].strip().lower()
    if media_type == "application/json" or not media_type.endswith("+json") or media_type not in accepted_media_types:
        return event
    relabel = {
        name: "application/json" if name.lower() == "content-type" else value
        for name, value in (event.get("headers") or {}).items()
    }
    multi = {
        name: ["application/json"] if name.lower() == "content-type" else values
        for name, values in (event.get("multiValueHeaders") or {}).items()
    }
    return {**event, "headers": relabel, "multiValueHeaders": multi}


PRIVATE: dict[str, str] = {"Cache-Control": "private, no-cache"}
NO_STORE: dict[str, str] = {"Cache-Control": "no-store"}


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response[Any]:
    """The one way routes answer JSON: ``body`` (a model or plain data), ``private, no-cache`` unless
    ``headers`` say otherwise."""
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers=dict(PRIVATE if headers is None else headers),
    )


def etag_of(body: Any) -> str:
    """A strong ETag of one JSON representation."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return '"' + sha256_hex(canonical)[:32] + '"'


def etag_response(
    event: Mapping[str, Any], body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response[Any]:
    """``body`` with its strong ``ETag``, or 304 when ``If-None-Match`` already names it."""
    etag = etag_of(body)
    if status == 200 and etag in [tag.strip() for tag in header(event, "if-none-match").split(",")]:
        return Response(status_code=304, body=None, headers={**PRIVATE, "ETag": etag})
    return json_response(body, status, {**PRIVATE, "ETag": etag, **(headers or {})})


def created(event: Mapping[str, Any], body: Any, path: str, headers: Mapping[str, str] | None = None) -> Response[Any]:
    """201 with the new resource's absolute ``Location`` (``path`` under the API root called)."""
    return json_response(body, 201, {**(PRIVATE if headers is None else headers), "Location": location(event, path)})


def location(event: Mapping[str, Any], path: str) -> str:
    """The absolute URL of ``path`` on the API root the client called (for ``Location``)."""
    return f"{public_base_url(event)}{path}"


def public_base_url(event: Mapping[str, Any]) -> str:
    """The API root the client called: ``https://<api>.execute-api.<region>.amazonaws.com/v1`` when
    deployed (the stage is the part of the request path before the route), ``http://127.0.0.1:3000``
    locally."""
    context = event.get("requestContext") or {}
    host = context.get("domainName") or header(event, "host") or "localhost"
    scheme = (header(event, "x-forwarded-proto") or "http").split(",")[0].strip()
    full_path, route_path = str(context.get("path") or ""), str(event.get("path") or "")
    prefix = full_path[: -len(route_path)] if route_path and full_path.endswith(route_path) else ""
    return f"{scheme}://{host}{prefix.rstrip('/')}"


def issuer_for(event: Mapping[str, Any]) -> str:
    """Issuer (and audience) of access tokens: ``ISSUER`` when set, else the URL the request came in on."""
    return get_settings().issuer or public_base_url(event)


def request_meta(event: Mapping[str, Any], request_id: str) -> RequestMeta:
    identity = (event.get("requestContext") or {}).get("identity") or {}
    return RequestMeta(
        request_id=request_id, ip=identity.get("sourceIp"), user_agent=header(event, "user-agent") or None
    )


def header(event: Mapping[str, Any], name: str) -> str:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return ""


def check_body(event: Mapping[str, Any], accepted_media_types: tuple[str, ...], *, text_only: bool = True) -> None:
    """Size, media type and JSON syntax of a request body; raises the matching domain error."""
    raw = event.get("body")
    if not raw:
        return
    try:
        payload = base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode("utf-8", "surrogatepass")
    except (ValueError, TypeError) as exc:  # base64 that is not, a body that is not text
        raise _invalid_json("not valid base64 or UTF-8.") from exc
    limit = get_settings().max_body_bytes
    if len(payload) > limit:
        raise errors.PayloadTooLargeError(f"The request body is {len(payload)} bytes; the limit is {limit} bytes.")
    if event.get("httpMethod") not in _BODY_METHODS:
        return
    media_type = header(event, "content-type").split(";", 1)[0].strip().lower()
    if media_type not in accepted_media_types:
        raise errors.UnsupportedMediaTypeError(
            f"Content-Type {media_type or '(none)'} is not supported here; send {' or '.join(accepted_media_types)}."
        )
    if media_type in JSON_MEDIA_TYPES:
        check_json(payload, text_only=text_only)


def check_json(payload: bytes, *, text_only: bool = True) -> None:
    """``ValidationError`` unless ``payload`` is a JSON object (or ``null``) that every later parse
    and every store can read too (``umapi.text.parse_json``: no nesting deeper than
    ``MAX_JSON_DEPTH``, no number with more digits than Python converts, no lone surrogate),
    reported before anything else runs."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid_json("not UTF-8.") from exc
    try:
        parsed = parse_json(text, text_only=text_only)
    except JsonTextError as exc:
        raise _invalid_json(exc.reason) from exc
    if parsed is not None and not isinstance(parsed, dict):  # every request body is an object
        raise errors.ValidationError(
            "The request body must be a JSON object.",
            details=[errors.ErrorDetail("body", f"got a JSON {type(parsed).__name__}", "object_expected")],
        )


def _invalid_json(reason: str) -> errors.ValidationError:
    return errors.ValidationError(
        "The request body is not valid JSON.", details=[errors.ErrorDetail("body", reason, "json_invalid")]
    )


def error_response(app: ApiApp, error: errors.DomainError) -> Response[Any]:
    """the API's error envelope for ``error``."""
    status = next(
        (_STATUS_BY_ERROR[kind] for kind in type(error).__mro__ if kind in _STATUS_BY_ERROR),
        HTTPStatus.INTERNAL_SERVER_ERROR,
    )
    body: dict[str, Any] = {**errors.error_body(error), "request_id": app.request_id}
    headers: dict[str, str] = {}
    if isinstance(error, errors.InvalidTokenError):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token", error_description="' + error.message + '"'
    elif isinstance(error, errors.UnauthenticatedError):
        headers["WWW-Authenticate"] = "Bearer"  # no credentials: no error code (RFC 6750 §3.1)
    elif isinstance(error, errors.InsufficientScopeError):
        headers["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{error.scope}"'

    if isinstance(error, errors.RateLimitedError | errors.ServiceUnavailableError):
        headers["Retry-After"] = str(max(1, error.retry_after))
        body.setdefault("retry_after", max(1, error.retry_after))
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": body}),
        headers=headers,
    )


def create_app(
    accepted_media_types: Iterable[str] = JSON_MEDIA_TYPES,
    oauth_paths: Iterable[str] = (),
    authenticate: Authenticate | None = None,
    public: Iterable[str] = (),
) -> ApiApp:
    """A resolver with authentication (every route but the ``public`` resources, when
    ``authenticate`` is given), request validation, the body guard and the error mapping."""
    app = ApiApp(accepted_media_types, oauth_paths, authenticate, public)

    @app.exception_handler(errors.DomainError)
    def handle_domain_error(error: errors.DomainError) -> Response[Any]:
        response = error_response(app, error)
        log = logger.error if response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR else logger.warning
        log("request rejected", extra={"error_code": error.code, "status": response.status_code})
        return response

    @app.exception_handler(RequestValidationError)
    def handle_validation_error(exc: RequestValidationError) -> Response[Any]:
        return error_response(
            app, errors.ValidationError("The request is not valid.", details=errors.details_from_pydantic(exc.errors()))
        )

    @app.exception_handler(PydanticValidationError)
    def handle_model_error(exc: PydanticValidationError) -> Response[Any]:
        details = errors.details_from_pydantic(exc.errors())
        return error_response(app, errors.ValidationError("The request is not valid.", details=details))

    @app.exception_handler(errors.OAuthError)
    def handle_oauth_error(error: errors.OAuthError) -> Response[Any]:
        logger.warning("token request rejected", extra={"oauth_error": error.error})
        return oauth_error_response(error)

    @app.exception_handler(ResponseValidationError)
    def handle_response_validation_error(exc: ResponseValidationError) -> Response[Any]:
        logger.error("response failed its schema", extra={"problems": [str(e.get("loc")) for e in exc.errors()]})
        return error_response(app, errors.DomainError("The service produced an invalid answer; please report it."))

    @app.exception_handler(RequestUnsupportedContentType)
    def handle_unsupported_content_type(_: RequestUnsupportedContentType) -> Response[Any]:
        return error_response(app, errors.UnsupportedMediaTypeError("This Content-Type is not supported here."))

    @app.exception_handler(RouteNotFoundError)
    def handle_route_not_found(_: RouteNotFoundError) -> Response[Any]:
        event = app.current_event
        return error_response(app, errors.NotFoundError(f"No route matches {event.http_method} {event.path}."))

    @app.exception_handler(Exception)
    def handle_unexpected_error(exc: Exception) -> Response[Any]:
        logger.exception("unexpected error")
        return error_response(
            app, errors.DomainError("The service failed to answer; please retry. Quote the request id to support.")
        )

    return app
