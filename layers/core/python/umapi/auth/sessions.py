"""Authorization codes, refresh tokens and their families (RFC 6749 §4.1, RFC 9700 §4.14).

    code            PK=CODE#<sha256(code)>     SK=CODE    single use (conditional update), 10 min
    refresh token   PK=RT#<sha256(token)>      SK=RT      single use (conditional update), 30 days
    family          PK=FAMILY#<family id>      SK=FAMILY  one per login; revoked on any reuse

Only hashes of codes and tokens are stored. Every consumption is one conditional write, so of
two concurrent uses exactly one wins; the other is a reuse and revokes the family.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ClientError

from umapi import db
from umapi.digests import sha256_b64url, sha256_hex
from umapi.ids import ulid

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CODE_SECONDS = 600
BURN_CHECK = 2  # position of the code's "not burned" check in a family's first transaction
REFRESH_SECONDS = 30 * 24 * 3600


def token_hash(token: str) -> str:
    return sha256_hex(token)


def new_secret_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def s256(verifier: str) -> str:
    """RFC 7636 S256 code challenge of ``verifier``."""
    return sha256_b64url(verifier)


class AuthorizationCode(NamedTuple):
    client_id: str
    org_id: str
    user_id: str
    redirect_uri: str
    code_challenge: str | None
    scope: str
    family_id: str
    session_version: int = 0  # the user's, at sign-in: a later password change ends the code
    # OpenID Connect (docs/api.md §12): when and how the user signed in, and the client's nonce.
    auth_time: int = 0
    amr: tuple[str, ...] = ()
    nonce: str | None = None
    idp: str | None = None  # the SSO connection the user signed in through (docs/api.md §12)


class RefreshRecord(NamedTuple):
    hash: str
    family_id: str
    client_id: str
    org_id: str
    user_id: str
    scope: str
    expires_epoch: int
    used_epoch: int | None
    successor: str | None
    grace_used: bool


class Family(NamedTuple):
    id: str
    org_id: str
    user_id: str
    client_id: str
    created_epoch: int
    revoked: bool
    current: str | None
    session_version: int = 0
    auth_time: int = 0  # when the sign-in that started the family happened (ID tokens)
    amr: tuple[str, ...] = ()  # and how
    idp: str | None = None  # and through which SSO connection


class ReuseError(Exception):
    """A code or refresh token was presented after it had been used."""

    def __init__(self, family_id: str | None) -> None:
        super().__init__("reuse")
        self.family_id = family_id


def _key(kind: str, value: str) -> dict[str, Any]:
    return {"PK": {"S": f"{kind}#{value}"}, "SK": {"S": kind}}


class SessionStore:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    # ------------------------------------------------------------------ codes
    def code_put(self, code: str, grant: AuthorizationCode) -> dict[str, Any]:
        now = int(time.time())
        values = {
            "client_id": grant.client_id,
            "org_id": grant.org_id,
            "user_id": grant.user_id,
            "redirect_uri": grant.redirect_uri,
            "code_challenge": grant.code_challenge,
            "scope": grant.scope,
            "family_id": grant.family_id,
            "session_version": grant.session_version,
            "auth_time": grant.auth_time,
            "amr": " ".join(grant.amr),
            "nonce": grant.nonce,
            "idp": grant.idp,
            "used": False,
            "expires_epoch": now + CODE_SECONDS,
            "ttl": now + CODE_SECONDS + 3600,
        }
        item = {**_key("CODE", token_hash(code)), **db.serialize(values)}
        return {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}

    def consume_code(self, code: str) -> AuthorizationCode | None:
        """The code's grant, marking it used; ``None`` if unknown or expired; ``ReuseError`` if used before."""
        consumed, answer = db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=_key("CODE", token_hash(code)),
            UpdateExpression="SET used = :yes",
            ConditionExpression="attribute_exists(PK) AND used = :no AND expires_epoch > :now",
            ExpressionAttributeValues={
                ":yes": {"BOOL": True},
                ":no": {"BOOL": False},
                ":now": {"N": str(int(time.time()))},
            },
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        if not consumed:
            if answer.get("used"):
                raise ReuseError(answer.get("family_id"))
            return None
        item = answer["Attributes"]
        v = db.deserialize(item)
        return AuthorizationCode(
            v["client_id"],
            v["org_id"],
            v["user_id"],
            v["redirect_uri"],
            v.get("code_challenge"),
            v.get("scope", ""),
            v["family_id"],
            int(v.get("session_version", 0)),
            int(v.get("auth_time", 0)),
            tuple(str(v.get("amr") or "").split()),
            v.get("nonce"),
            v.get("idp"),
        )

    # ------------------------------------------------------------------ families and refresh tokens
    def burn_code(self, code: str) -> None:
        """Mark a code presented twice: a first use that has not yet started its family starts
        it revoked (``start_family``); one that has, the second use revokes."""
        db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=_key("CODE", token_hash(code)),
            UpdateExpression="SET burned = :yes",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":yes": {"BOOL": True}},
        )

    def start_family(self, family_id: str, grant: AuthorizationCode, scope: str, code: str) -> str | None:
        """A new family with its first refresh token; the token, or ``None`` if the family exists
        already (then nothing is created). The first use of a code always gets its tokens (exactly
        one use wins); if a second use burned the code first, the family starts revoked (RFC 6749
        §4.1.2). The check rides in the transaction: no read when nobody raced."""
        token = new_secret_token()
        failed = db.transact_failures(self._dynamodb, self._family_items(family_id, grant, scope, token, code))
        if failed == [BURN_CHECK]:
            token = new_secret_token()
            failed = db.transact_failures(self._dynamodb, self._family_items(family_id, grant, scope, token, None))
        return None if failed else token

    def _family_items(
        self, family_id: str, grant: AuthorizationCode, scope: str, token: str, unburned: str | None
    ) -> list[dict[str, Any]]:
        """The family and its first refresh token; with ``unburned`` (the code), on the condition
        that no second use burned it (item ``BURN_CHECK``), else the family written revoked."""
        now = int(time.time())
        family = {
            **_key("FAMILY", family_id),
            **db.serialize(
                {
                    "org_id": grant.org_id,
                    "user_id": grant.user_id,
                    "client_id": grant.client_id,
                    "created_epoch": now,
                    "revoked": unburned is None,
                    "current": token_hash(token),
                    "session_version": grant.session_version,
                    "auth_time": grant.auth_time,
                    "amr": " ".join(grant.amr),
                    "idp": grant.idp,
                    "ttl": now + REFRESH_SECONDS + 3600,
                }
            ),
        }
        items = [
            {"Put": {"TableName": self._table, "Item": family, "ConditionExpression": "attribute_not_exists(PK)"}},
            self._refresh_put(token, family_id, grant.client_id, grant.org_id, grant.user_id, scope),
        ]
        if unburned is not None:
            code_key = _key("CODE", token_hash(unburned))
            check = {"TableName": self._table, "Key": code_key, "ConditionExpression": "attribute_not_exists(burned)"}
            items.append({"ConditionCheck": check})
        return items

    def _refresh_put(self, token: str, family_id: str, client_id: str, org_id: str, user_id: str, scope: str) -> Any:
        now = int(time.time())
        values = {
            "family_id": family_id,
            "client_id": client_id,
            "org_id": org_id,
            "user_id": user_id,
            "scope": scope,
            "expires_epoch": now + REFRESH_SECONDS,
            "ttl": now + REFRESH_SECONDS + 3600,
        }
        return {"Put": {"TableName": self._table, "Item": {**_key("RT", token_hash(token)), **db.serialize(values)}}}

    def get_refresh(self, token: str) -> RefreshRecord | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table, Key=_key("RT", token_hash(token)), ConsistentRead=True
            ).get("Item")
        if not item:
            return None
        v = db.deserialize(item)
        return RefreshRecord(
            token_hash(token),
            v["family_id"],
            v["client_id"],
            v["org_id"],
            v["user_id"],
            v.get("scope", ""),
            int(v["expires_epoch"]),
            v.get("used_epoch"),
            v.get("successor"),
            bool(v.get("grace_used")),
        )

    def get_family(self, family_id: str) -> Family | None:
        with db.translate_errors():
            item = self._dynamodb.get_item(
                TableName=self._table, Key=_key("FAMILY", family_id), ConsistentRead=True
            ).get("Item")
        if not item:
            return None
        v = db.deserialize(item)
        return Family(
            family_id,
            v["org_id"],
            v["user_id"],
            v["client_id"],
            int(v["created_epoch"]),
            bool(v.get("revoked")),
            v.get("current"),
            int(v.get("session_version", 0)),
            int(v.get("auth_time", v["created_epoch"])),
            tuple(str(v.get("amr") or "").split()),
            v.get("idp"),
        )

    def rotate(self, record: RefreshRecord, *, grace: bool = False) -> str:
        """Use ``record`` once and put its successor in the family; ``ReuseError`` if it was used
        already (or its one grace use is spent), ``PermissionError`` if the family is revoked."""
        token = new_secret_token()
        now = int(time.time())
        if grace:
            condition = "attribute_exists(used_epoch) AND attribute_not_exists(grace_used)"
            update = "SET grace_used = :yes"
        else:
            condition = "attribute_not_exists(used_epoch) AND expires_epoch > :now"
            update = "SET used_epoch = :now, successor = :next"
        values: dict[str, Any] = {":now": {"N": str(now)}, ":next": {"S": token_hash(token)}, ":yes": {"BOOL": True}}
        used = {
            "Update": {
                "TableName": self._table,
                "Key": {"PK": {"S": f"RT#{record.hash}"}, "SK": {"S": "RT"}},
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeValues": {k: v for k, v in values.items() if k in update + condition},
            }
        }
        family = {
            "Update": {
                "TableName": self._table,
                "Key": _key("FAMILY", record.family_id),
                "UpdateExpression": "SET #current = :next",
                "ConditionExpression": "revoked = :no",
                "ExpressionAttributeNames": {"#current": "current"},
                "ExpressionAttributeValues": {":next": {"S": token_hash(token)}, ":no": {"BOOL": False}},
            }
        }
        put = self._refresh_put(token, record.family_id, record.client_id, record.org_id, record.user_id, record.scope)
        try:
            with db.translate_errors():
                self._dynamodb.transact_write_items(TransactItems=[used, family, put])  # type: ignore[list-item]
        except ClientError as exc:
            reasons = db.cancellation_codes(exc)
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise ReuseError(record.family_id) from exc
            if reasons[1:2] == ["ConditionalCheckFailed"]:
                raise PermissionError("family revoked") from exc
            raise
        return token

    def revoke_family(self, family_id: str) -> None:
        """No refresh token of the family works any more (a family never started is left alone)."""
        db.write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key=_key("FAMILY", family_id),
            UpdateExpression="SET revoked = :yes",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":yes": {"BOOL": True}},
        )


def new_family_id() -> str:
    return f"fam_{ulid()}"
