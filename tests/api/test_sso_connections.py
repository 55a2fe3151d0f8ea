"""SSO connections (docs/api.md §12): the provider's discovery document is fetched and checked
at create, the client secret lives in Secrets Manager only, a domain has one owner across all
organizations, free-mail and public-suffix domains cannot be claimed, and nobody routes the
provider's people into a role above their own."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.support.api import InProcessApi
from tests.support.flows import admin_token, new_client, token
from tests.support.provider_documents import ProviderDocuments
from tests.support.users import Tenant, new_tenant
from umapi.bootstrap import AdminCredentials

SECRET = "idp-client-secret-7b1e0f"


def body(issuer: str, **changes: Any) -> dict[str, Any]:
    return {
        "name": "Acme Okta",
        "type": "oidc",
        "issuer": issuer,
        "client_id": "0oa1b2c3",
        "client_secret": SECRET,
        "domains": ["acme.example"],
    } | changes


def create(acme: Tenant, issuer: str, **changes: Any) -> Any:
    return acme.api.post("/sso-connections", token=acme.access, json_body=body(issuer, **changes))


def stored_secret(connection_id: str) -> str:
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    return secrets.get_secret_value(SecretId=f"tests/sso/{connection_id}")["SecretString"]


def table_holds(value: str) -> bool:
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName="Table")["Items"]
    return value in json.dumps(items)


def test_create_checks_the_provider_and_keeps_the_secret_in_secrets_manager(
    acme: Tenant, providers: ProviderDocuments
) -> None:
    issuer = providers.good("okta")
    answer = create(acme, issuer, domains=["Acme.Example", "eng.acme.example", "ACME.example"])
    assert answer.status == 201, answer.body
    connection = answer.json()
    assert (answer.header("Location") or "").endswith(f"/sso-connections/{connection['id']}")
    assert connection["id"].startswith("sso_")
    assert connection["domains"] == ["acme.example", "eng.acme.example"]  # domains compare without case
    assert (connection["jit_provisioning"], connection["enforce"], connection["default_role"]) == (
        True,
        False,
        "member",  # as named (system roles' names work as ids)
    )
    assert "client_secret" not in connection
    assert stored_secret(connection["id"]) == SECRET
    assert not table_holds(SECRET)
    assert acme.api.get(f"/sso-connections/{connection['id']}", token=acme.access).json() == connection
    listed = acme.api.get("/sso-connections", token=acme.access).json()
    assert [c["id"] for c in listed["data"]] == [connection["id"]]
    log = acme.api.get("/audit-log", token=acme.access, query={"action": "sso_connection.created"}).json()["data"]
    assert len(log) == 1
    assert SECRET not in json.dumps(log)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("another issuer", "another issuer"),
        ("no jwks_uri", "no jwks_uri"),
        ("no RS256", "RS256"),
        ("an http endpoint elsewhere", "https"),
        ("a private endpoint", "private"),
        ("not JSON", "JSON"),
        ("404", "HTTP 404"),
        ("down", "connection error"),
        ("slow", "timeout"),
    ],
)
def test_a_provider_that_cannot_be_used_is_refused_and_leaves_nothing(
    acme: Tenant, providers: ProviderDocuments, case: str, expected: str
) -> None:
    issuers: dict[str, Callable[[], str]] = {
        "another issuer": lambda: providers.good("a", issuer="https://login.example.com"),
        "no jwks_uri": lambda: providers.good("b", jwks_uri=None),
        "no RS256": lambda: providers.good("c", id_token_signing_alg_values_supported=["HS256"]),
        "an http endpoint elsewhere": lambda: providers.good("d", token_endpoint="http://idp.example.com/token"),
        "a private endpoint": lambda: providers.good("e", jwks_uri="https://10.0.0.8/jwks"),
        "not JSON": lambda: providers.raw("f", 200, b"<html>login</html>"),
        "404": lambda: providers.issuer("nothing-here"),
        "down": lambda: "http://127.0.0.1:9/idp",
        "slow": lambda: providers.raw("g", 200, b"{}", delay=6),
    }
    answer = create(acme, issuers[case]())
    assert answer.status == 400, answer.body
    detail = answer.error["details"][0]
    assert (detail["field"], detail["code"]) == ("issuer", "invalid_provider")
    assert expected in detail["message"]
    assert acme.api.get("/sso-connections", token=acme.access).json()["data"] == []
    assert not boto3.client("secretsmanager", region_name="us-east-1").list_secrets(
        Filters=[{"Key": "name", "Values": ["tests/sso/"]}]
    )["SecretList"]


def test_a_provider_outside_the_loopback_allowance_is_refused(acme: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "false")
    for issuer in ("http://127.0.0.1:8080/idp", "https://169.254.169.254/latest", "https://localhost/idp"):
        answer = create(acme, issuer)
        assert answer.status == 400, issuer
        assert answer.error["details"][0]["code"] == "invalid_provider"


@pytest.mark.parametrize(
    "domain", ["gmail.com", "outlook.com", "GMAIL.com", "mail.gmail.com", "co.uk", "com", "github.io", "localhost"]
)
def test_free_mail_and_public_suffix_domains_cannot_be_claimed(
    acme: Tenant, providers: ProviderDocuments, domain: str
) -> None:
    answer = create(acme, providers.good("okta"), domains=[domain])
    assert answer.status == 400, answer.body
    assert answer.error["details"][0]["field"].startswith("domains")


@pytest.mark.parametrize("domains", [[], ["a b.example"], ["-bad.example"], ["x" * 300 + ".com"]])
def test_malformed_domain_lists_are_refused(acme: Tenant, providers: ProviderDocuments, domains: list[str]) -> None:
    assert create(acme, providers.good("okta"), domains=domains).status == 400


def test_a_domain_belongs_to_one_connection_across_organizations(
    acme: Tenant, api: InProcessApi, platform: AdminCredentials, providers: ProviderDocuments
) -> None:
    issuer = providers.good("okta")
    first = create(acme, issuer, domains=["acme.example"]).json()
    other = new_tenant(api, platform, "Rival")
    taken = create(other, issuer, domains=["rival.example", "acme.example"])
    assert taken.status == 409, taken.body
    assert taken.error["conflicting_field"] == "domains"
    assert create(acme, issuer, domains=["acme.example"]).status == 409  # its own organization too
    assert create(other, issuer, domains=["rival.example"]).status == 201  # rival.example was not kept
    # Giving a domain up frees it; deleting a connection frees all of its domains.
    moved = acme.api.patch(f"/sso-connections/{first['id']}", token=acme.access, json_body={"domains": ["b.example"]})
    assert moved.status == 200, moved.body
    assert create(other, issuer, domains=["acme.example"]).status == 201
    assert acme.api.delete(f"/sso-connections/{first['id']}", token=acme.access).status == 204
    assert create(other, issuer, domains=["b.example"]).status == 201


def test_patch_replaces_the_secret_and_rechecks_a_new_issuer(acme: Tenant, providers: ProviderDocuments) -> None:
    connection = create(acme, providers.good("okta")).json()
    path = f"/sso-connections/{connection['id']}"
    renamed = acme.api.patch(path, token=acme.access, json_body={"name": "Okta", "client_secret": "rotated-1"})
    assert renamed.status == 200, renamed.body
    assert renamed.json()["name"] == "Okta"
    assert stored_secret(connection["id"]) == "rotated-1"
    log = acme.api.get("/audit-log", token=acme.access, query={"action": "sso_connection.updated"}).json()["data"]
    assert log[0]["changes"]["client_secret"] == {"from": "(hidden)", "to": "(hidden)"}
    assert "rotated-1" not in json.dumps(log)
    broken = acme.api.patch(path, token=acme.access, json_body={"issuer": providers.good("x", jwks_uri=None)})
    assert broken.status == 400
    moved = acme.api.patch(path, token=acme.access, json_body={"issuer": providers.good("entra")})
    assert moved.status == 200
    assert moved.json()["issuer"].endswith("/entra")
    for bad in ({"client_secret": None}, {"domains": None}, {"type": "saml"}, {"unknown": 1}):
        assert acme.api.patch(path, token=acme.access, json_body=bad).status == 400, bad


def test_delete_removes_the_secret(acme: Tenant, providers: ProviderDocuments) -> None:
    connection = create(acme, providers.good("okta")).json()
    assert acme.api.delete(f"/sso-connections/{connection['id']}", token=acme.access).status == 204
    assert acme.api.get(f"/sso-connections/{connection['id']}", token=acme.access).status == 404
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        stored_secret(connection["id"])


def test_no_escalation_through_the_default_role(
    acme: Tenant, api: InProcessApi, platform: AdminCredentials, providers: ProviderDocuments
) -> None:
    issuer = providers.good("okta")
    lesser = new_client(
        api, admin_token(api, platform), acme.org_id, ["sso:read", "sso:write", "users:read", "roles:read"]
    )
    lesser_token = token(api, lesser.client_id, lesser.client_secret)
    refused = api.post("/sso-connections", token=lesser_token, json_body=body(issuer, default_role="admin"))
    assert refused.status == 403
    assert refused.error["required_permission"]
    mine = api.post("/sso-connections", token=lesser_token, json_body=body(issuer, default_role="member"))
    assert mine.status == 201, mine.body  # member holds users:read and roles:read, which the caller holds
    raised = api.patch(f"/sso-connections/{mine.json()['id']}", token=lesser_token, json_body={"default_role": "admin"})
    assert raised.status == 403
    admins = create(acme, issuer, default_role="admin", domains=["admins.example"]).json()
    for answer in (
        api.patch(f"/sso-connections/{admins['id']}", token=lesser_token, json_body={"domains": ["mine.example"]}),
        api.delete(f"/sso-connections/{admins['id']}", token=lesser_token),
    ):
        assert answer.status == 403
    assert create(acme, issuer, default_role="role_nope", domains=["n.example"]).status == 400


def test_another_organizations_connection_does_not_exist_here(
    acme: Tenant, api: InProcessApi, platform: AdminCredentials, providers: ProviderDocuments
) -> None:
    connection = create(acme, providers.good("okta")).json()
    other = new_tenant(api, platform, "Elsewhere")
    path = f"/sso-connections/{connection['id']}"
    assert api.get(path, token=other.access).status == 404
    assert api.patch(path, token=other.access, json_body={"name": "Mine"}).status == 404
    assert api.delete(path, token=other.access).status == 404
    assert api.get("/sso-connections", token=other.access).json()["data"] == []


def test_a_providers_keys_are_read_once_and_again_for_a_key_it_rotated_in(
    providers: ProviderDocuments, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key set is cached per container, and read again (at most every 10 s) for a key id it lacks."""
    from umapi.sso import id_tokens

    def keys(*kids: str) -> bytes:
        return json.dumps({"keys": [{"kty": "RSA", "kid": kid, "n": "sXch", "e": "AQAB"} for kid in kids]}).encode()

    uri = providers.raw("keys", 200, keys("old")) + "/.well-known/openid-configuration"
    now = [1000.0]
    monkeypatch.setattr("umapi.sso.id_tokens.time.monotonic", lambda: now[0])
    key_sets = id_tokens.KeySets(allow_loopback=True)
    assert key_sets.key(uri, "old") is not None
    assert key_sets.key(uri, "old") is not None
    assert key_sets.fetches == 1
    providers.raw("keys", 200, keys("old", "new"))
    now[0] += 3
    assert key_sets.key(uri, "new") is None  # read 3 s ago: not again yet
    now[0] += 10
    assert key_sets.key(uri, "new") is not None  # the provider rotated: one more read
    assert key_sets.key(uri, "unknown") is None
    assert key_sets.fetches == 2
