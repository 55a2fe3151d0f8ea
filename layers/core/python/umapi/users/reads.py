"""Reading users (docs/api.md §4): one user, shaped by ``include=`` and ``fields=``, pages, permission checks."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from umapi.access.principal import Principal
from umapi.errors import (
    NotFoundError,
)
from umapi.pagination import Page
from umapi.time import utc_now_iso
from umapi.users.entities import User
from umapi.users.entries import Lead, ListQuery, UserFilters, matches
from umapi.users.holdings import user_permissions
from umapi.users.models import PermissionCheckResponse
from umapi.users.service_part import UserServicePart
from umapi.users.shaping import FIELDS, INCLUDES, parse_names


class UserReads(UserServicePart):
    """One user, shaped by ``include=`` and ``fields=``; pages; permission checks."""

    def representation(self, user: User, include: set[str], fields: set[str] | None) -> dict[str, Any]:
        """The user as the API shows it, with ``include=`` extras and only the ``fields=`` asked for."""
        body = self.to_response(user).model_dump()
        if "permissions" in include:
            body["permissions"] = sorted(user_permissions(user, self._catalog, utc_now_iso()))
        if "audit_log" in include and self._audit_reader is not None:  # parse_views checked audit:read
            body["audit_log"] = self._audit_reader.recent_for_target(user.org_id, user.id)
        if fields is not None:
            body = {name: value for name, value in body.items() if name in fields or name == "id"}
        return body

    @staticmethod
    def parse_views(principal: Principal, include: str | None, fields: str | None) -> tuple[set[str], set[str] | None]:
        wanted = parse_names(include, INCLUDES, "include", "invalid_include")
        if "audit_log" in wanted:
            principal.require("audit:read")
        return wanted, None if fields is None else parse_names(fields, FIELDS, "fields", "invalid_field")

    def get(self, principal: Principal, user_id: str) -> User:
        user = self._target(principal, user_id)
        if principal.subject != user.id:
            principal.require("users:read")
        return user

    def me(self, principal: Principal) -> User:
        if not principal.subject.startswith("usr_"):
            raise NotFoundError("This token belongs to an API client, not to a user: there is no /users/me.")
        return self.get(principal, principal.subject)

    def list_page(
        self, principal: Principal, query: ListQuery, include: set[str] | None = None, fields: set[str] | None = None
    ) -> Page[dict[str, Any]]:
        principal.require("users:read")
        archived = query.status == "archived"
        role_id = None
        if query.role:
            role = self._catalog.resolve(principal.org_id, query.role)
            if role is None:
                return Page[dict[str, Any]](data=[], pagination=self._cursors.page_info(query.limit, None, ""))
            role_id = role.id
        filters = UserFilters(
            status=None if archived else query.status,
            role_id=role_id,
            department=query.department,
            search=query.search or None,
        )
        listing = "users:" + json.dumps([principal.org_id, query.status, filters, query.sort, query.order], default=str)
        start = self._cursors.decode(query.cursor, listing) if query.cursor else None
        lead = self._lead(filters, role_id, archived, query.sort)
        if lead is not None:  # its entries are read; the other filters are checked on the users found
            users, next_key = self._repository.entry_page(
                principal.org_id,
                lead,
                descending=query.order == "desc",
                limit=query.limit,
                start_key=start,
                keep=partial(matches, filters._replace(search=None), utc_now_iso()),
            )
        else:  # another sort: its index, the filters checked within the read budget
            users, next_key = self._repository.list_page(
                principal.org_id,
                archived=archived,
                sort=query.sort,
                descending=query.order == "desc",
                limit=query.limit,
                start_key=start,
                filters=filters,
            )
        return Page[dict[str, Any]](
            data=[self.representation(user, include or set(), fields) for user in users],
            pagination=self._cursors.page_info(query.limit, next_key, listing),
        )

    @staticmethod
    def _lead(filters: UserFilters, role_id: str | None, archived: bool, sort: str) -> Lead | None:
        """The entries that lead a page: a search term; else, with the default sort, the first
        of role, department and status given (the most selective, as a rule)."""
        if filters.search:
            return Lead("search", filters.search, archived)
        if sort != "created_at" or archived:
            return None
        given = [("role", role_id), ("department", filters.department), ("status", filters.status)]
        return next((Lead(kind, value) for kind, value in given if value), None)

    def check_permission(self, principal: Principal, user_id: str, permission: str) -> PermissionCheckResponse:
        user = self.get(principal, user_id)
        via = user_permissions(user, self._catalog, utc_now_iso()).get(permission)
        if not via:
            raise NotFoundError(f"User {user_id} does not hold {permission}.")
        return PermissionCheckResponse(permission=permission, granted=True, via_roles=via)
