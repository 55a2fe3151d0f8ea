"""The sign-in page's browser session (docs/api.md §12): after a password sign-in, the browser
holds a cookie that lets the next authorization request of the same organization through
without the password again, until it expires (8 hours), the user signs out (RP-initiated
logout), or the user's sessions end (a password change, suspension or archive moves the user's
``session_version``, which the session carries).

    browser session   PK=BROWSER#<sha256(secret)>   SK=BROWSER   8 hours (TTL)

The cookie holds 256 random bits; only their hash is stored. Its name carries the organization
(``umapi_session_<org id>``): a browser may be signed in to several organizations, and a
session is only ever read for the organization of the client that asks.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, NamedTuple

from umapi import db
from umapi.digests import sha256_hex

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SESSION_SECONDS = 8 * 3600
COOKIE_PREFIX = "umapi_session_"
SECRET_CHARS = 64  # a cookie value longer than ours is not ours


class BrowserSession(NamedTuple):
    org_id: str
    user_id: str
    auth_time: int
    amr: tuple[str, ...]
    session_version: int
    expires_epoch: int


def cookie_name(org_id: str) -> str:
    return f"{COOKIE_PREFIX}{org_id}"


def _key(secret: str) -> dict[str, Any]:
    return {"PK": {"S": f"BROWSER#{sha256_hex(secret)}"}, "SK": {"S": "BROWSER"}}


class BrowserSessions:
    def __init__(self, dynamodb: DynamoDBClient, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def put_item(self, secret: str, session: BrowserSession) -> dict[str, Any]:
        """The transaction item that starts ``session`` (with the sign-in that made it)."""
        values = {
            "org_id": session.org_id,
            "user_id": session.user_id,
            "auth_time": session.auth_time,
            "amr": " ".join(session.amr),
            "session_version": session.session_version,
            "expires_epoch": session.expires_epoch,
            "ttl": session.expires_epoch + 3600,
        }
        item = {**_key(secret), **db.serialize(values)}
        return {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}

    def get(self, secret: str, org_id: str) -> BrowserSession | None:
        """The unexpired session ``secret`` names in ``org_id``, or ``None``."""
        with db.translate_errors():
            item = self._dynamodb.get_item(TableName=self._table, Key=_key(secret), ConsistentRead=True).get("Item")
        if not item:
            return None
        v = db.deserialize(item)
        session = BrowserSession(
            v["org_id"],
            v["user_id"],
            int(v["auth_time"]),
            tuple(str(v.get("amr") or "").split()),
            int(v.get("session_version", 0)),
            int(v["expires_epoch"]),
        )
        if session.org_id != org_id or session.expires_epoch <= time.time():
            return None
        return session

    def end(self, secret: str) -> None:
        with db.translate_errors():
            self._dynamodb.delete_item(TableName=self._table, Key=_key(secret))
