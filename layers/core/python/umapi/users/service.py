"""The user service (docs/api.md §4), one class put together from one module per concern:

- ``reads``: one user, shaped by ``include=`` and ``fields=``; pages; permission checks;
- ``lifecycle``: create (one or in bulk), suspend and activate, archive, purge;
- ``profile``: JSON Merge Patch of the profile, email and password changes;
- ``verification``: re-sending the verification email and consuming its token;
- ``service_part``: the base class they share.

Every change is one DynamoDB transaction holding the user, its email claim(s), its audit entry
and its outbox event(s). Emails go out after the transaction commits.
"""

from __future__ import annotations

from umapi.users.entries import ListQuery
from umapi.users.lifecycle import UserLifecycle
from umapi.users.profile import UserProfile
from umapi.users.reads import UserReads
from umapi.users.verification import UserVerification

__all__ = ["ListQuery", "UserService"]


class UserService(UserReads, UserLifecycle, UserProfile, UserVerification):
    """Users: reads, lifecycle, profile changes and verification, over one repository."""
