"""Cursors: sealed, bound to their listing, tamper-evident; without DynamoDB."""

from __future__ import annotations

import base64

import pytest

from umapi.errors import ValidationError
from umapi.pagination import CursorCodec
from umapi.sealing import Sealer

KEY = {"PK": {"S": "ORG#org_1"}, "SK": {"S": "USER#usr_1"}, "GSI1SK": {"S": "2026#usr_1"}}


@pytest.fixture
def codec() -> CursorCodec:
    return CursorCodec(Sealer(b"k" * 32))


def test_a_cursor_resumes_exactly_where_its_page_ended(codec: CursorCodec) -> None:
    assert codec.decode(codec.encode(KEY, "users:org_1:search=ali"), "users:org_1:search=ali") == KEY


def test_a_cursor_reveals_nothing(codec: CursorCodec) -> None:
    cursor = codec.encode(KEY, "users:org_1:search=ali")
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    for revealing in (b"ORG#", b"USER#", b"usr_1", b"ali"):
        assert revealing not in raw
    assert codec.encode(KEY, "x") != codec.encode(KEY, "x")  # a fresh nonce every time


@pytest.mark.parametrize(
    "change",
    [
        # a character inside (the last one may carry only padding bits, which decoding ignores)
        lambda c: c[:20] + ("A" if c[20] != "A" else "B") + c[21:],
        lambda c: c[:10],
        lambda c: "not base64!",
        lambda c: "",
    ],
    ids=["edited", "truncated", "garbage", "empty"],
)
def test_a_tampered_cursor_is_a_validation_error(codec: CursorCodec, change: object) -> None:
    cursor = change(codec.encode(KEY, "users:org_1"))  # type: ignore[operator]
    with pytest.raises(ValidationError) as refused:
        codec.decode(cursor, "users:org_1")
    assert refused.value.details[0].field == "cursor"


def test_a_cursor_of_another_listing_or_key_does_not_open(codec: CursorCodec) -> None:
    cursor = codec.encode(KEY, "users:org_1")
    with pytest.raises(ValidationError):
        codec.decode(cursor, "users:org_2")
    with pytest.raises(ValidationError):
        CursorCodec(Sealer(b"j" * 32)).decode(cursor, "users:org_1")
