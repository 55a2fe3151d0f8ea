"""A user's second factors as DynamoDB stores them (docs/api.md §11).

    factor             PK=ORG#<org>#MFA#<usr>  SK=FACTOR#<mfa id>      TOTP key (sealed) or passkey public key
    recovery codes     PK=ORG#<org>#MFA#<usr>  SK=RECOVERY             the codes' keyed hashes (a string set)
    passkey challenge  PK=ORG#<org>#MFA#<usr>  SK=CHALLENGE#<challenge>  single use, 5 minutes

The user item carries the public side of the confirmed factors (``mfa_factors``) and
``mfa_enabled``; a user has at most ``MAX_FACTORS`` factors, so everything above is one bounded
``Query`` of the user's partition.
"""

from __future__ import annotations

from typing import Any

from umapi.db import Guarded
from umapi.table_keys import mfa_pk
from umapi.users.entities import User

MAX_FACTORS = 10
RECOVERY_SK = "RECOVERY"
FACTOR_PREFIX = "FACTOR#"
CHALLENGE_PREFIX = "CHALLENGE#"


def mfa_key(org_id: str, user_id: str, sort_key: str) -> dict[str, Any]:
    return {"PK": {"S": mfa_pk(org_id, user_id)}, "SK": {"S": sort_key}}


def factor_key(org_id: str, user_id: str, factor_id: str) -> dict[str, Any]:
    return mfa_key(org_id, user_id, f"{FACTOR_PREFIX}{factor_id}")


def recovery_key(org_id: str, user_id: str) -> dict[str, Any]:
    return mfa_key(org_id, user_id, RECOVERY_SK)


def reset_items(table: str, user: User) -> list[Guarded]:
    """The transaction items that remove every confirmed factor and the recovery codes of
    ``user`` (an unconfirmed TOTP enrolment expires on its own within 10 minutes)."""
    keys = [factor_key(user.org_id, user.id, factor.id) for factor in user.mfa_factors]
    keys.append(recovery_key(user.org_id, user.id))
    return [({"Delete": {"TableName": table, "Key": key}}, None) for key in keys]
