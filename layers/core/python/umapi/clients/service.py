"""API clients: create, read, change, delete, rotate secrets, and authenticate at the token endpoint."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError as PydanticValidationError

from umapi.access.permissions import PLATFORM_ADMIN
from umapi.access.principal import Principal
from umapi.audit import AuditEntry, RequestMeta, field_changes
from umapi.clients.credentials import hash_secret, new_secret
from umapi.clients.entities import Client
from umapi.clients.models import (
    ClientResponse,
    ClientWithSecretResponse,
    CreateClientRequest,
    UpdateClientRequest,
)
from umapi.clients.repository import ClientRepository
from umapi.errors import ConflictError, ErrorDetail, ForbiddenError, ValidationError, details_from_pydantic
from umapi.ids import new_id
from umapi.pagination import CursorCodec, Page
from umapi.time import utc_now_iso


class ClientService:
    def __init__(self, repository: ClientRepository, cursors: CursorCodec) -> None:
        self._repository = repository
        self._cursors = cursors

    # ------------------------------------------------------------------ API
    def create(self, principal: Principal, request: CreateClientRequest, meta: RequestMeta) -> ClientWithSecretResponse:
        principal.require("clients:write")
        self._check_grantable(principal, request.scopes, request.rate_limit_per_minute)
        now = utc_now_iso()
        secret = None if request.public else new_secret()
        client = Client(
            id=new_id("cli"),
            org_id=principal.org_id,
            name=request.name,
            grant_types=list(request.grant_types),
            scopes=list(request.scopes),
            redirect_uris=list(request.redirect_uris),
            post_logout_redirect_uris=list(request.post_logout_redirect_uris),
            public=request.public,
            rate_limit_per_minute=request.rate_limit_per_minute,
            created_at=now,
            updated_at=now,
            secret_hash=hash_secret(secret) if secret else None,
        )
        audit = self._audit(principal, meta, "client.created", client, field_changes({}, client.audited_fields()))
        self._repository.create(client, audit)
        return ClientWithSecretResponse.of_new(client, secret)

    def get(self, principal: Principal, client_id: str) -> ClientResponse:
        principal.require("clients:read")
        return ClientResponse.of(self._repository.get_in_org(principal.org_id, client_id))

    def list_page(self, principal: Principal, limit: int, cursor: str | None) -> Page[ClientResponse]:
        principal.require("clients:read")
        listing = f"clients:{principal.org_id}"
        start = self._cursors.decode(cursor, listing) if cursor else None
        clients, next_key = self._repository.list_page(principal.org_id, limit, start)
        return Page[ClientResponse](
            data=[ClientResponse.of(client) for client in clients],
            pagination=self._cursors.page_info(limit, next_key, listing),
        )

    def update(
        self, principal: Principal, client_id: str, patch: UpdateClientRequest, meta: RequestMeta
    ) -> ClientResponse:
        principal.require("clients:write")
        current = self._repository.get_in_org(principal.org_id, client_id)
        principal.require_over(current.scopes, f"client {client_id}")
        _not_the_dashboard(current)
        changes: dict[str, Any] = patch.model_dump(exclude_unset=True)
        if "rate_limit_per_minute" in changes:
            self._check_grantable(principal, [], changes["rate_limit_per_minute"], rate_limit_sent=True)
        if changes.get("scopes") is not None:
            self._check_grantable(principal, changes["scopes"], None)
        updated = current._replace(**changes, updated_at=utc_now_iso(), version=current.version + 1)
        try:  # the combined result must still follow the grant rules
            CreateClientRequest.model_validate({**updated.audited_fields(), "rate_limit_per_minute": None})
        except PydanticValidationError as exc:
            raise ValidationError(  # its own code: what conflicts is the client as stored
                "The change would leave the client inconsistent.",
                details=[
                    ErrorDetail(d.field, d.message, "conflicts_with_client")
                    for d in details_from_pydantic(exc.errors())
                ],
            ) from exc
        audit = self._audit(
            principal,
            meta,
            "client.updated",
            updated,
            field_changes(current.audited_fields(), updated.audited_fields()),
        )
        self._repository.replace(updated, current.version, audit)
        return ClientResponse.of(updated)

    def delete(self, principal: Principal, client_id: str, meta: RequestMeta) -> None:
        principal.require("clients:write")
        client = self._repository.get_in_org(principal.org_id, client_id)
        principal.require_over(client.scopes, f"client {client_id}")
        _not_the_dashboard(client)
        if client.id == principal.client_id:
            # Deleting the client a request authenticates with would lock its owner out mid-request.
            raise ConflictError("A client cannot delete itself; delete it with another client's token.")
        self._repository.delete(client, self._audit(principal, meta, "client.deleted", client, {}))

    def rotate_secret(self, principal: Principal, client_id: str, meta: RequestMeta) -> ClientWithSecretResponse:
        principal.require("clients:write")
        current = self._repository.get_in_org(principal.org_id, client_id)
        principal.require_over(current.scopes, f"client {client_id}")
        if current.public:
            raise ConflictError(f"Client {client_id} is public and has no secret to rotate.")
        secret = new_secret()
        updated = current._replace(
            secret_hash=hash_secret(secret), updated_at=utc_now_iso(), version=current.version + 1
        )
        audit = self._audit(principal, meta, "client.secret_rotated", updated, {})
        self._repository.replace(updated, current.version, audit)
        return ClientWithSecretResponse.of_new(updated, secret)

    # ------------------------------------------------------------------ rules
    @staticmethod
    def _check_grantable(
        principal: Principal, scopes: list[str], rate_limit: int | None, *, rate_limit_sent: bool = False
    ) -> None:
        """Nobody hands out more than they hold; only platform admins set rate limits; only
        clients of the platform organization hold ``platform:admin``."""
        if PLATFORM_ADMIN in scopes and not (principal.is_platform_admin and principal.org_id == principal.home_org_id):
            raise ValidationError(
                "platform:admin is held only by clients of the platform organization.",
                details=[ErrorDetail("scopes", "platform:admin cannot be given here.", "scope_not_allowed")],
            )
        if (rate_limit is not None or rate_limit_sent) and not principal.is_platform_admin:
            raise ForbiddenError(
                "Only a platform admin may set rate_limit_per_minute.", context={"required_permission": PLATFORM_ADMIN}
            )
        principal.require_each(scopes, "a client")

    @staticmethod
    def _audit(
        principal: Principal, meta: RequestMeta, action: str, client: Client, changes: dict[str, Any]
    ) -> AuditEntry:
        return AuditEntry.new(
            org_id=client.org_id,
            actor=principal.actor,
            action=action,
            target_type="client",
            target_id=client.id,
            meta=meta,
            changes=changes,
        )


def _not_the_dashboard(client: Client) -> None:
    """The organization's dashboard client (umapi.clients.dashboard) is the API's own."""
    if client.dashboard:
        raise ConflictError(f"Client {client.id} is the organization's developer dashboard; it cannot be changed.")
