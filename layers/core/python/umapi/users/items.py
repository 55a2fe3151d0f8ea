"""A user as DynamoDB stores it: its keys and items.

    user            PK=ORG#<org>  SK=USER#<usr>
    email claim     PK=ORG#<org>  SK=EMAIL#<email, lower-case>   (attribute_not_exists: unique per org)
    listings        GSI1..GSI4    PK=ORG#<org>#USERS[#ARCHIVED]  SK=<created_at|name|email|last_login>#<usr>
    by id           GSI5          PK=USER#<usr>                  (platform admins across organizations)
    verification    PK=VERIFY#<sha256(token)>  SK=VERIFY         (single use: deleted on a condition)

The search and filter entries a user is listed by are ``users.entries``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from umapi import db
from umapi.table_keys import email_claim_sk, org_pk, user_lookup_pk, user_sk, users_index_pk, verification_pk
from umapi.users.entities import MfaFactor, RoleAssignment, User

# Sort field -> (index, how the sort key starts)
SORT_INDEXES: dict[str, tuple[str, Callable[[User], str]]] = {
    "created_at": ("GSI1", lambda user: user.created_at),
    "name": ("GSI2", lambda user: user.name.lower()),
    "email": ("GSI3", lambda user: user.email_key),
    "last_login": ("GSI4", lambda user: user.last_login or ""),
}
VERIFY_SK = "VERIFY"


def user_key(org_id: str, user_id: str) -> dict[str, Any]:
    return {"PK": {"S": org_pk(org_id)}, "SK": {"S": user_sk(user_id)}}


def email_claim_key(org_id: str, email_key: str) -> dict[str, Any]:
    return {"PK": {"S": org_pk(org_id)}, "SK": {"S": email_claim_sk(email_key)}}


def claim_email(table: str, org_id: str, email_key: str, user_id: str) -> dict[str, Any]:
    """The transaction item that takes ``email_key`` for ``user_id`` (fails if taken)."""
    claim = {"PK": org_pk(org_id), "SK": email_claim_sk(email_key), "entity": "email_claim", "user_id": user_id}
    return db.put_new(table, db.serialize(claim))


def release_email(table: str, org_id: str, email_key: str) -> dict[str, Any]:
    return {"Delete": {"TableName": table, "Key": email_claim_key(org_id, email_key)}}


def verification_key(token_hash: str) -> dict[str, Any]:
    return {"PK": {"S": verification_pk(token_hash)}, "SK": {"S": VERIFY_SK}}


def user_item(user: User) -> dict[str, Any]:
    partition = users_index_pk(user.org_id, archived=user.status == "archived")
    values: dict[str, Any] = {
        "PK": org_pk(user.org_id),
        "SK": user_sk(user.id),
        "GSI5PK": user_lookup_pk(user.id),
        "entity": "user",
        "id": user.id,
        "org_id": user.org_id,
        "email": user.email,
        "email_key": user.email_key,
        "name": user.name,
        "name_key": user.name.lower(),
        "status": user.status,
        "email_verified": user.email_verified,
        "pending_email": user.pending_email,
        "phone": user.phone,
        "department": user.department,
        "avatar_url": user.avatar_url,
        "metadata": user.metadata,
        "roles": [
            {
                "role_id": r.role_id,
                "assigned_at": r.assigned_at,
                "expires_at": r.expires_at,
                "assigned_by": r.assigned_by,
            }
            for r in user.roles
        ],
        "role_ids": [r.role_id for r in user.roles],
        # Lets a listing's role filter skip expired assignments: role_expiry.<role> > now.
        "role_expiry": {r.role_id: r.expires_at for r in user.roles if r.expires_at is not None} or None,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_login": user.last_login,
        "archived_at": user.archived_at,
        "version": user.version,
        "password_hash": user.password_hash,
        "session_version": user.session_version,
        "sso_provider": user.sso_provider,
        "mfa_enabled": user.mfa_enabled,
        "mfa_factors": [factor._asdict() for factor in user.mfa_factors] or None,
    }
    for index, start in SORT_INDEXES.values():
        values[f"{index}PK"] = partition
        values[f"{index}SK"] = f"{start(user)}#{user.id}"
    return db.serialize(values)


def user_from_item(item: dict[str, Any]) -> User:
    v = db.deserialize(item)
    return User(
        id=v["id"],
        org_id=v["org_id"],
        email=v["email"],
        name=v["name"],
        status=v["status"],
        email_verified=bool(v.get("email_verified")),
        created_at=v["created_at"],
        updated_at=v["updated_at"],
        roles=tuple(
            RoleAssignment(r["role_id"], r["assigned_at"], r.get("expires_at"), r.get("assigned_by"))
            for r in v.get("roles", [])
        ),
        pending_email=v.get("pending_email"),
        phone=v.get("phone"),
        department=v.get("department"),
        avatar_url=v.get("avatar_url"),
        metadata=dict(v.get("metadata") or {}),
        last_login=v.get("last_login"),
        archived_at=v.get("archived_at"),
        version=int(v.get("version", 1)),
        password_hash=v.get("password_hash"),
        session_version=int(v.get("session_version", 0)),
        sso_provider=v.get("sso_provider"),
        mfa_enabled=bool(v.get("mfa_enabled")),
        mfa_factors=tuple(
            MfaFactor(f["id"], f["type"], f["name"], f["created_at"], f.get("last_used_at"))
            for f in v.get("mfa_factors") or []
        ),
    )
