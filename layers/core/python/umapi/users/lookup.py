"""Finding the user a request names: in the caller's organization, or anywhere for platform admins."""

from __future__ import annotations

from umapi.access.principal import Principal
from umapi.errors import NotFoundError
from umapi.users.entities import User
from umapi.users.repository import UserRepository


def user_org(repository: UserRepository, principal: Principal, user_id: str) -> str:
    """The organization to look ``user_id`` up in: the caller's (platform admins: the user's own)."""
    if principal.is_platform_admin and principal.org_id == principal.home_org_id:
        return repository.find_org(user_id) or principal.org_id  # platform admins find users anywhere
    return principal.org_id


def find_user(repository: UserRepository, principal: Principal, user_id: str) -> User:
    """The user ``user_id`` in the caller's organization (platform admins: in any), else 404."""
    org_id = user_org(repository, principal, user_id)
    user = repository.get(org_id, user_id, consistent=True) if user_id.startswith("usr_") else None
    if user is None:
        raise NotFoundError(f"User {user_id} not found.")
    return user
