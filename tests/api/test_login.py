"""Sign-in with the authorization code grant and PKCE, single-use refresh tokens, revocation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.login import (
    PASSWORD,
    LoginWorld,
    authorize_params,
    code_from,
    exchange,
    refresh,
    sign_in,
)
from tests.support.users import new_tenant, verification_token
from umapi.bootstrap import AdminCredentials


def test_confidential_client_signs_a_user_in(world: LoginWorld) -> None:
    answer = exchange(world, world.web, code_from(sign_in(world, world.web)))
    assert answer.status == 200, answer.body
    tokens = answer.json()
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert answer.header("Cache-Control") == "no-store"
    me = world.api.get("/users/me", token=tokens["access_token"])
    assert me.status == 200
    assert me.json()["id"] == world.user["id"]
    assert me.json()["last_login"] is not None
    log = world.api.get("/audit-log", token=world.tenant.access, query={"action": "user.login"}).json()["data"]
    assert [entry["target"]["id"] for entry in log] == [world.user["id"]]


def test_the_login_form_is_a_page_for_the_clients_org(world: LoginWorld) -> None:
    page = world.api.get("/oauth/authorize", query=authorize_params(world.web))
    assert page.status == 200
    assert page.header(
        "Content-Type",
    ).startswith("text/html")  # type: ignore[union-attr]
    assert "Sign in to Web" in page.body
    assert page.header("X-Frame-Options") == "DENY"
    assert "type=password" in page.body


def test_rfc7636_appendix_b_pair_works_for_a_public_client(world: LoginWorld) -> None:
    answer = exchange(world, world.spa, code_from(sign_in(world, world.spa)))
    assert answer.status == 200, answer.body


def test_wrong_verifier_is_invalid_grant(world: LoginWorld) -> None:
    code = code_from(sign_in(world, world.spa))
    answer = exchange(world, world.spa, code, code_verifier="x" * 43)
    assert answer.status == 400
    assert answer.json()["error"] == "invalid_grant"


def test_public_clients_must_use_pkce(world: LoginWorld) -> None:
    params = authorize_params(world.spa)
    del params["code_challenge"], params["code_challenge_method"]
    response = world.api.get("/oauth/authorize", query=params)
    assert response.status == 302
    query = parse_qs(urlsplit(response.header("Location") or "").query)
    assert query["error"] == ["invalid_request"]
    assert query["state"] == ["xyz"]


def test_a_reused_code_fails_and_revokes_what_it_issued(world: LoginWorld) -> None:
    code = code_from(sign_in(world, world.web))
    first = exchange(world, world.web, code).json()
    again = exchange(world, world.web, code)
    assert again.status == 400
    assert again.json()["error"] == "invalid_grant"
    assert refresh(world, world.web, first["refresh_token"]).json()["error"] == "invalid_grant"


def test_the_code_is_bound_to_client_and_redirect_uri(world: LoginWorld) -> None:
    code = code_from(sign_in(world, world.web))
    assert exchange(world, world.web, code, redirect_uri="https://app.example/other").json()["error"] == "invalid_grant"
    code = code_from(sign_in(world, world.spa))
    stolen = world.api.post(
        "/auth/token",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://app.example/callback",
            "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        },
        basic=(world.web.client_id, world.web.client_secret or ""),
    )
    assert stolen.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("change", "status"),
    [({"client_id": "cli_01HNOSUCHCLIENT00000000000"}, 400), ({"redirect_uri": "https://evil.example/cb"}, 400)],
)
def test_bad_client_or_redirect_shows_an_error_page(world: LoginWorld, change: dict[str, str], status: int) -> None:
    response = world.api.get("/oauth/authorize", query=authorize_params(world.web, **change))
    assert response.status == status
    assert response.header("Location") is None
    assert "not valid" in response.body


def test_other_problems_redirect_with_the_error(world: LoginWorld) -> None:
    response = world.api.get("/oauth/authorize", query=authorize_params(world.web, response_type="token"))
    assert response.status == 302
    assert "error=unsupported_response_type" in (response.header("Location") or "")
    assert "state=xyz" in (response.header("Location") or "")


def test_wrong_password_and_unknown_email_look_the_same(world: LoginWorld) -> None:
    wrong = sign_in(world, world.web, password="Not-The-Pass-1")
    unknown = sign_in(world, world.web, email="nobody@example.com")
    assert wrong.status == unknown.status == 401
    assert "The email or password is not correct." in wrong.body
    assert "The email or password is not correct." in unknown.body


def test_a_refused_sign_in_keeps_the_email_and_puts_the_cursor_in_the_password(world: LoginWorld) -> None:
    fresh = world.api.get("/oauth/authorize", query=authorize_params(world.web))
    assert "required autocomplete=username value='' autofocus>" in fresh.body
    refused = sign_in(world, world.web, password="Not-The-Pass-1")
    assert refused.status == 401
    assert f"value='{world.user['email']}'>" in refused.body
    assert "autocomplete=current-password autofocus>" in refused.body


def test_failed_sign_ins_are_throttled(world: LoginWorld) -> None:
    for _ in range(5):
        assert sign_in(world, world.web, password="Not-The-Pass-1").status == 401
    assert sign_in(world, world.web).status == 429


def test_suspended_users_cannot_sign_in_and_their_tokens_stop(world: LoginWorld) -> None:
    tokens = exchange(world, world.web, code_from(sign_in(world, world.web))).json()
    world.api.post(f"/users/{world.user['id']}/deactivate", token=world.tenant.access)
    assert sign_in(world, world.web).status == 403
    assert world.api.get("/users/me", token=tokens["access_token"]).status == 401
    assert refresh(world, world.web, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_refresh_rotates_and_replay_revokes_the_family(world: LoginWorld) -> None:
    first = exchange(world, world.web, code_from(sign_in(world, world.web))).json()
    second = refresh(world, world.web, first["refresh_token"])
    assert second.status == 200
    newer = second.json()
    assert newer["refresh_token"] != first["refresh_token"]
    assert world.api.get("/users/me", token=newer["access_token"]).status == 200

    replay = refresh(world, world.web, first["refresh_token"])
    assert replay.status == 400
    assert replay.json()["error"] == "invalid_grant"
    assert refresh(world, world.web, newer["refresh_token"]).json()["error"] == "invalid_grant"
    log = world.api.get("/audit-log", token=world.tenant.access, query={"action": "token.reuse_detected"}).json()
    assert len(log["data"]) == 1


def test_refresh_tokens_are_bound_to_their_client(world: LoginWorld) -> None:
    tokens = exchange(world, world.web, code_from(sign_in(world, world.web))).json()
    assert refresh(world, world.spa, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_password_change_ends_every_session(world: LoginWorld) -> None:
    import time

    tokens = exchange(world, world.web, code_from(sign_in(world, world.web))).json()
    time.sleep(1.01)
    world.api.patch(f"/users/{world.user['id']}", token=world.tenant.access, json_body={"password": "Brand-New-99x"})
    assert refresh(world, world.web, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert world.api.get("/users/me", token=tokens["access_token"]).status == 401
    assert sign_in(world, world.web, password=PASSWORD).status == 401


def test_revocation(world: LoginWorld) -> None:
    tokens = exchange(world, world.web, code_from(sign_in(world, world.web))).json()
    basic = (world.web.client_id, world.web.client_secret or "")
    assert world.api.post("/auth/revoke", form={"token": "never-issued"}, basic=basic).status == 200
    # An access token, or any hint: always 200 (RFC 7009 §2.2; the hint only orders the look-up).
    access = world.api.post("/auth/revoke", form={"token": tokens["access_token"]}, basic=basic)
    assert access.status == 200
    assert world.api.post("/auth/revoke", form={"token": tokens["refresh_token"]}, basic=basic).status == 200
    assert refresh(world, world.web, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_grace_lets_the_previous_token_be_used_once(world: LoginWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    from umapi import services
    from umapi.settings import get_settings

    monkeypatch.setenv("REFRESH_REUSE_GRACE_SECONDS", "30")
    get_settings.cache_clear()
    services.reset()
    first = exchange(world, world.web, code_from(sign_in(world, world.web))).json()
    second = refresh(world, world.web, first["refresh_token"]).json()
    assert refresh(world, world.web, first["refresh_token"]).status == 200  # the other tab
    assert refresh(world, world.web, first["refresh_token"]).json()["error"] == "invalid_grant"  # only once
    assert refresh(world, world.web, second["refresh_token"]).json()["error"] == "invalid_grant"  # family revoked


@pytest.mark.parametrize("how", ["archive", "purge"])
def test_archived_and_purged_users_cannot_sign_in_or_refresh(world: LoginWorld, how: str) -> None:
    tokens = exchange(world, world.web, code_from(sign_in(world, world.web))).json()
    query = {"force": "true"} if how == "purge" else None
    assert world.api.delete(f"/users/{world.user['id']}", token=world.tenant.access, query=query).status in (200, 204)
    assert sign_in(world, world.web).status in (401, 403)
    assert refresh(world, world.web, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert world.api.get("/users/me", token=tokens["access_token"]).status == 401


def test_a_user_of_another_organization_cannot_sign_in_through_this_ones_client(
    world: LoginWorld, platform: AdminCredentials
) -> None:
    """Tenancy at sign-in: the page belongs to the client's organization, and an email is looked
    up there only. A verified user of another organization, with the right password, gets what
    an unknown email gets, and no code."""
    other = new_tenant(world.api, platform)
    stranger = other.user("stranger@example.com", name="Stranger", role="admin")
    verified = world.api.post(
        "/auth/verify-email", json_body={"token": verification_token(stranger["email"]), "password": PASSWORD}
    )
    assert verified.status == 200
    assert verified.json()["org_id"] != world.tenant.org_id

    refused = sign_in(world, world.web, email=stranger["email"])

    assert refused.status == 401
    assert "The email or password is not correct." in refused.body
    assert refused.header("Location") is None
