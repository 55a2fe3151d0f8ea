"""Users: the whole lifecycle, email verification and permission checks (docs/api.md §4), and
second factors (docs/api.md §11)."""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.access.principal import Principal
from umapi.dependencies import authenticate_event, requires
from umapi.http import create_app, etag_response, header, issuer_for, json_response, location
from umapi.idempotency import idempotent
from umapi.mfa.models import (
    CodeRequest,
    FactorList,
    PasskeyOptions,
    PasskeyRequest,
    RecoveryCodes,
    TotpConfirmation,
    TotpEnrolment,
    TotpEnrolRequest,
)
from umapi.mfa.service import PasskeyFactor
from umapi.observability import logger, metrics, tracer
from umapi.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from umapi.routing import Meta, Mfa, Users, VerifyUrl
from umapi.user_params import (
    BULK_RESULT,
    NOT_MODIFIED,
    USER_PAGE,
    USER_VIEW,
    VERIFICATION_SENT,
    Fields,
    Include,
)
from umapi.users.models import (
    BulkCreateRequest,
    CreateUserRequest,
    DeactivateRequest,
    PermissionCheckResponse,
    UpdateUserRequest,
    UserResponse,
    VerifyEmailRequest,
)
from umapi.users.service import ListQuery

app = create_app(authenticate=authenticate_event, public=("/auth/verify-email",))


@app.post("/users", status_code=201, response_description="Created")
@idempotent(app)
@tracer.capture_method
def create_user(
    request: Annotated[CreateUserRequest, Body()],
    caller: Annotated[Principal, Depends(requires("users:create"))],
    meta: Meta,
    users: Users,
    verify_url: VerifyUrl,
) -> Response[UserResponse]:
    user = users.create(caller, request, meta, verify_url)
    where = location(app.current_event.raw_event, f"/users/{user.id}")
    metrics.add_metric(name="UsersCreated", unit="Count", value=1)
    return etag_response(app.current_event.raw_event, user.model_dump(), 201, {"Location": where})


@app.post("/users/bulk", responses={200: BULK_RESULT})
@idempotent(app)
@tracer.capture_method
def bulk_create_users(
    request: Annotated[BulkCreateRequest, Body()],
    caller: Annotated[Principal, Depends(requires("users:create"))],
    meta: Meta,
    users: Users,
    verify_url: VerifyUrl,
) -> Response[dict[str, Any]]:
    body = users.bulk_create(caller, request, meta, verify_url)
    return json_response(body)


@app.get("/users", responses={200: USER_PAGE})
@tracer.capture_method
def list_users(
    caller: Annotated[Principal, Depends(requires("users:read"))],
    users: Users,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    status: Literal["pending_verification", "active", "suspended", "archived"] | None = None,
    role: Annotated[str | None, Query(max_length=64)] = None,
    department: Annotated[str | None, Query(max_length=100)] = None,
    search: Annotated[
        str | None,
        Query(
            min_length=2,
            max_length=100,
            description="case-insensitive prefix of the email, the name or any word of either; "
            "answers in the order of the word it matches (order= applies, sort= does not)",
        ),
    ] = None,
    sort: Literal["created_at", "name", "email", "last_login"] = "created_at",
    order: Literal["asc", "desc"] = "desc",
    include: Include = None,
    fields: Fields = None,
) -> Response[Page[dict[str, Any]]]:
    wanted, chosen = users.parse_views(caller, include, fields)
    query = ListQuery(limit, cursor, status, role, department, search, sort, order)
    page = users.list_page(caller, query, wanted, chosen)
    return json_response(page)


@app.get("/users/me", responses={200: USER_VIEW, 304: NOT_MODIFIED})
@tracer.capture_method
def get_me(
    caller: Annotated[Principal, Depends(requires())], users: Users, include: Include = None, fields: Fields = None
) -> Response[dict[str, Any] | None]:
    wanted, chosen = users.parse_views(caller, include, fields)
    return etag_response(app.current_event.raw_event, users.representation(users.me(caller), wanted, chosen))


# ---------------------------------------------------------------- second factors (docs/api.md §11)
# A user's own: any user token may manage its user's factors (removing one needs a code);
# a client's token has no user (404).
Caller = Annotated[Principal, Depends(requires())]
FactorId = Annotated[str, Path(max_length=64)]


@app.get("/users/me/mfa")
@tracer.capture_method
def list_mfa_factors(caller: Caller, mfa: Mfa) -> Response[FactorList]:
    return json_response(mfa.list_factors(caller))


@app.post("/users/me/mfa/totp", status_code=201)
@tracer.capture_method
def enrol_totp(
    caller: Caller, mfa: Mfa, request: Annotated[TotpEnrolRequest | None, Body()] = None
) -> Response[TotpEnrolment]:
    """Starts a TOTP enrolment: the secret is shown this once; confirm it within 10 minutes."""
    return json_response(mfa.enrol_totp(caller, (request or TotpEnrolRequest()).name), 201)


@app.post("/users/me/mfa/totp/<factor_id>/confirm")
@tracer.capture_method
def confirm_totp(
    factor_id: FactorId, request: Annotated[CodeRequest, Body()], caller: Caller, mfa: Mfa, meta: Meta
) -> Response[TotpConfirmation]:
    return json_response(mfa.confirm_totp(caller, factor_id, request.code, meta))


@app.post(
    "/users/me/mfa/webauthn/options",
    responses={200: {"description": "Creation options", "content": {"application/json": {"model": PasskeyOptions}}}},
)
@tracer.capture_method
def passkey_options(caller: Caller, mfa: Mfa) -> Response[dict[str, Any]]:
    """Options for ``navigator.credentials.create()``; their challenge is single use (5 minutes)."""
    return json_response(mfa.passkey_options(caller, issuer_for(app.current_event.raw_event)))


@app.post("/users/me/mfa/webauthn", status_code=201)
@tracer.capture_method
def add_passkey(
    request: Annotated[PasskeyRequest, Body()], caller: Caller, mfa: Mfa, meta: Meta
) -> Response[PasskeyFactor]:
    factor = mfa.add_passkey(caller, request, issuer_for(app.current_event.raw_event), meta)
    body = factor.model_dump()
    if body["recovery_codes"] is None:  # only the first factor brings recovery codes
        del body["recovery_codes"]
    return json_response(body, 201)


@app.delete("/users/me/mfa/<factor_id>", status_code=204, responses={204: {"description": "Removed"}})
@tracer.capture_method
def delete_mfa_factor(
    factor_id: FactorId, request: Annotated[CodeRequest, Body()], caller: Caller, mfa: Mfa, meta: Meta
) -> Response[None]:
    mfa.delete_factor(caller, factor_id, request.code, meta)
    return Response(status_code=204, body=None)


@app.post("/users/me/mfa/recovery-codes")
@tracer.capture_method
def replace_recovery_codes(
    request: Annotated[CodeRequest, Body()], caller: Caller, mfa: Mfa, meta: Meta
) -> Response[RecoveryCodes]:
    return json_response(mfa.replace_recovery_codes(caller, request.code, meta))


@app.get("/users/<user_id>", responses={200: USER_VIEW, 304: NOT_MODIFIED})
@tracer.capture_method
def get_user(
    user_id: str,
    caller: Annotated[Principal, Depends(requires("users:read", unless_self="user_id"))],
    users: Users,
    include: Include = None,
    fields: Fields = None,
) -> Response[dict[str, Any] | None]:
    wanted, chosen = users.parse_views(caller, include, fields)
    return etag_response(app.current_event.raw_event, users.representation(users.get(caller, user_id), wanted, chosen))


@app.patch("/users/<user_id>")
@tracer.capture_method
def update_user(
    user_id: str,
    patch: Annotated[UpdateUserRequest, Body()],
    caller: Annotated[Principal, Depends(requires("users:update", unless_self="user_id"))],
    meta: Meta,
    users: Users,
    verify_url: VerifyUrl,
) -> Response[UserResponse]:
    if_match = header(app.current_event.raw_event, "if-match") or None
    return etag_response(
        app.current_event.raw_event,
        users.update(caller, user_id, patch, if_match, meta, verify_url).model_dump(),
    )


@app.put("/users/<user_id>")
@tracer.capture_method
def replace_user(
    user_id: str,
    patch: Annotated[UpdateUserRequest, Body()],
    caller: Annotated[Principal, Depends(requires("users:update", unless_self="user_id"))],
    meta: Meta,
    users: Users,
    verify_url: VerifyUrl,
) -> Response[UserResponse]:
    """``PUT`` is an alias of ``PATCH`` (merge semantics) for clients of the v2 reference."""
    return update_user(user_id, patch, caller, meta, users, verify_url)


@app.delete(
    "/users/<user_id>",
    responses={
        200: {"description": "Archived", "content": {"application/json": {"model": UserResponse}}},
        204: {"description": "Purged (?force=true)"},
    },
)
@tracer.capture_method
def delete_user(
    user_id: str,
    caller: Annotated[Principal, Depends(requires("users:delete"))],
    meta: Meta,
    users: Users,
    force: Annotated[bool, Query()] = False,
) -> Response[UserResponse | None]:
    if force:
        users.purge(caller, user_id, meta)
        return Response(status_code=204, body=None)
    return etag_response(app.current_event.raw_event, users.archive(caller, user_id, meta).model_dump())


@app.post("/users/<user_id>/deactivate")
@idempotent(app)
@tracer.capture_method
def deactivate_user(
    user_id: str,
    caller: Annotated[Principal, Depends(requires("users:update"))],
    meta: Meta,
    users: Users,
    request: Annotated[DeactivateRequest | None, Body()] = None,
) -> Response[UserResponse]:
    user = users.set_status(caller, user_id, "suspended", meta, request or DeactivateRequest())
    return etag_response(app.current_event.raw_event, user.model_dump())


@app.post("/users/<user_id>/activate")
@idempotent(app)
@tracer.capture_method
def activate_user(
    user_id: str, caller: Annotated[Principal, Depends(requires("users:update"))], meta: Meta, users: Users
) -> Response[UserResponse]:
    return etag_response(app.current_event.raw_event, users.set_status(caller, user_id, "active", meta).model_dump())


@app.post("/users/<user_id>/verification", status_code=202, responses={202: VERIFICATION_SENT})
@idempotent(app)
@tracer.capture_method
def resend_verification(
    user_id: str,
    caller: Annotated[Principal, Depends(requires("users:update"))],
    meta: Meta,
    users: Users,
    verify_url: VerifyUrl,
) -> Response[dict[str, Any]]:
    body = users.resend_verification(caller, user_id, meta, verify_url)
    return json_response(body, 202)


@app.delete("/users/<user_id>/mfa", status_code=204, responses={204: {"description": "Every factor removed"}})
@tracer.capture_method
def reset_mfa(
    user_id: str, caller: Annotated[Principal, Depends(requires("users:update"))], mfa: Mfa, meta: Meta
) -> Response[None]:
    """An administrator's reset: every factor and recovery code goes and ``mfa_enabled`` is off."""
    mfa.reset(caller, user_id, meta)
    return Response(status_code=204, body=None)


@app.get("/users/<user_id>/permissions/<permission>")
@tracer.capture_method
def check_permission(
    user_id: str,
    permission: str,
    caller: Annotated[Principal, Depends(requires("users:read", unless_self="user_id"))],
    users: Users,
) -> PermissionCheckResponse:
    return users.check_permission(caller, user_id, permission)


@app.post("/auth/verify-email")
@tracer.capture_method
def verify_email(request: Annotated[VerifyEmailRequest, Body()], meta: Meta, users: Users) -> Response[UserResponse]:
    return etag_response(app.current_event.raw_event, users.verify_email(request, meta).model_dump())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.finished()
