"""The grammars the OpenAPI document states and the server checks agree, without moto: RFC 3339
date-times, include= / fields= lists, registrable redirect URIs, OAuth parameters."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from umapi.auth.parameters import TOKEN_PARAMETERS, parse_parameters
from umapi.clients.redirects import REGISTRABLE_REDIRECT, is_registrable_redirect_uri
from umapi.errors import OAuthError, ValidationError
from umapi.time import parse_rfc3339
from umapi.users.shaping import FIELDS, INCLUDES, parse_names, pattern_of


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2030-01-31T12:00:00Z", datetime(2030, 1, 31, 12, tzinfo=UTC)),
        ("2030-01-31t12:00:00.123456789z", datetime(2030, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2030-01-31T12:00:00+05:30", datetime(2030, 1, 31, 6, 30, tzinfo=UTC)),
        ("2030-01-31T12:00:00-05:30", datetime(2030, 1, 31, 17, 30, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),  # a leap second
        ("0000-02-29T00:00:00Z", datetime.min.replace(tzinfo=UTC)),  # year 0 is before Python's range
        ("9999-12-31T23:59:59-23:59", datetime.max.replace(tzinfo=UTC)),  # past it, once in UTC
    ],
)
def test_rfc3339_date_times_are_read_as_the_instant_they_name(text: str, instant: datetime) -> None:
    assert parse_rfc3339(text) == instant


@pytest.mark.parametrize(
    "text",
    [
        "2030-01-31T12:00:00",  # no offset
        "2030-01-31 12:00:00Z",  # a space for T
        "2030-02-30T00:00:00Z",  # no such day
        "2030-01-31T24:00:00Z",
        "2030-01-01T00:00:00+24:00",
        "2030-W05-1T00:00:00Z",
        "2030-01-31T12:00:00Z\n",
        "0.5",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_rfc3339(text)


@settings(max_examples=300, derandomize=True)
@given(st.datetimes(timezones=st.just(UTC)))
def test_every_date_time_python_writes_reads_back(moment: datetime) -> None:
    assert parse_rfc3339(moment.isoformat()) == moment


LIST_ALPHABET = st.lists(st.sampled_from([*FIELDS, "nope", " ", ",", ""]), max_size=6).map("".join)


@settings(max_examples=400, derandomize=True)
@given(LIST_ALPHABET)
def test_the_documented_pattern_is_exactly_what_parse_names_accepts(text: str) -> None:
    for known in (INCLUDES, FIELDS):
        documented = re.fullmatch(pattern_of(known).removeprefix("^").removesuffix("$"), text) is not None
        try:
            parse_names(text, known, "include", "invalid_include")
            accepted = True
        except ValidationError:
            accepted = False
        assert accepted == documented, (text, known)


def test_names_are_comma_separated_with_spaces_allowed() -> None:
    assert parse_names("roles, permissions ", INCLUDES, "include", "invalid_include") == {"roles", "permissions"}
    assert parse_names("", INCLUDES, "include", "invalid_include") == set()
    with pytest.raises(ValidationError) as refused:
        parse_names("roles,,x", INCLUDES, "include", "invalid_include")
    assert refused.value.details[0].code == "invalid_include"
    assert "Unknown: '', x;" in refused.value.details[0].message


@pytest.mark.parametrize(
    ("uri", "registrable"),
    [
        ("https://app.example.com/callback?x=1", True),
        ("https://app.example.com", True),
        ("http://127.0.0.1:8080/cb", True),
        ("http://localhost/cb", True),
        ("http://[::1]:65535/cb", True),
        ("http://app.example.com/cb", False),  # plain http only to loopback
        ("https://app.example.com:65536/", False),
        ("https://user@app.example.com/", False),
        ("https://app.example.com/cb#fragment", False),
        ("https://app.example.com/c b", False),
        ("https://app.example.com/cb\n", False),
        ("app://callback", False),
    ],
)
def test_registrable_redirect_uris(uri: str, registrable: bool) -> None:
    assert is_registrable_redirect_uri(uri) is registrable
    assert (re.fullmatch(REGISTRABLE_REDIRECT.removeprefix("^").removesuffix("$"), uri) is not None) is registrable


def test_oauth_parameters_ignore_the_unrecognized_and_refuse_repeats_of_the_recognized() -> None:
    form = "grant_type=client_credentials&extra=1&extra=2&scope="
    assert parse_parameters(form, "application/x-www-form-urlencoded", TOKEN_PARAMETERS) == {
        "grant_type": "client_credentials",
        "scope": "",
    }
    assert parse_parameters('{"grant_type": "x", "other": 1}', "application/json", TOKEN_PARAMETERS) == {
        "grant_type": "x"
    }
    for body, media_type in (
        ("scope=a&scope=b", "application/x-www-form-urlencoded"),
        ('{"scope": "a", "scope": "b"}', "application/json"),
        ('{"scope": 1}', "application/json"),
        ("[]", "application/json"),
    ):
        with pytest.raises(OAuthError) as refused:
            parse_parameters(body, media_type, TOKEN_PARAMETERS)
        assert refused.value.error == "invalid_request"
