"""What jobs need of the rest of the system, as small protocols. The composition root
(``umapi.services``) hands in the real services and repositories; nothing here imports ``auth``
(a session's refresh family is read through ``SessionFamilies``)."""

from __future__ import annotations

from typing import Any, Protocol

from umapi.access.principal import Principal
from umapi.audit import RequestMeta
from umapi.clients.entities import Client
from umapi.db import RowGuard
from umapi.pagination import Page
from umapi.users.assignment_models import AssignmentResponse, AssignRoleRequest
from umapi.users.entities import User
from umapi.users.entries import ListQuery
from umapi.users.models import CreateUserRequest, UpdateUserRequest, UserResponse

__all__ = [
    "AssignmentRows",
    "ClientLookup",
    "RevocableFamily",
    "SessionFamilies",
    "UserLookup",
    "UserPages",
    "UserRows",
]


class UserRows(Protocol):
    """``POST /users`` and ``PATCH /users/{id}``, as a job's rows call them (with the row's guard)."""

    def create(
        self,
        principal: Principal,
        request: CreateUserRequest,
        meta: RequestMeta,
        verify_url: str,
        guard: RowGuard | None = None,
    ) -> UserResponse: ...

    def update(
        self,
        principal: Principal,
        user_id: str,
        patch: UpdateUserRequest,
        if_match: str | None,
        meta: RequestMeta,
        verify_url: str,
        guard: RowGuard | None = None,
    ) -> UserResponse: ...


class AssignmentRows(Protocol):
    """``POST /users/{id}/roles`` and ``DELETE /users/{id}/roles/{role}``, as rows call them."""

    def assign(
        self,
        principal: Principal,
        user_id: str,
        request: AssignRoleRequest,
        meta: RequestMeta,
        guard: RowGuard | None = None,
    ) -> AssignmentResponse: ...

    def remove(
        self, principal: Principal, user_id: str, role_ref: str, meta: RequestMeta, guard: RowGuard | None = None
    ) -> None: ...


class UserPages(Protocol):
    """``GET /users``' pages, as an export reads them."""

    def list_page(
        self, principal: Principal, query: ListQuery, include: set[str] | None = None, fields: set[str] | None = None
    ) -> Page[dict[str, Any]]: ...


class ClientLookup(Protocol):
    def get(self, client_id: str, *, consistent: bool = False) -> Client | None: ...


class UserLookup(Protocol):
    def get(self, org_id: str, user_id: str, *, consistent: bool = False) -> User | None: ...


class RevocableFamily(Protocol):
    @property
    def revoked(self) -> bool: ...


class SessionFamilies(Protocol):
    """The sign-in sessions (refresh families) a job's creator may have been revoked in."""

    def get_family(self, family_id: str) -> RevocableFamily | None: ...
