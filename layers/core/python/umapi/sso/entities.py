"""SSO connections: the domain entity, a plain record (no pydantic: cheap to import for sign-in)."""

from __future__ import annotations

from typing import Any, NamedTuple


class SsoConnection(NamedTuple):
    id: str
    org_id: str
    name: str
    type: str  # "oidc"
    issuer: str
    client_id: str  # ours at the identity provider; its secret is in Secrets Manager, never here
    domains: tuple[str, ...]
    jit_provisioning: bool
    default_role: str  # a role of the organization, as named: a system role's name or a role id
    enforce: bool  # users of these domains may not sign in with a password
    # From the provider's discovery document, checked when the connection was made or its issuer changed.
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    created_at: str
    updated_at: str
    version: int = 1
    # What the administrator who last set the connection up held (None: everything). An existing
    # account is linked by email only if it holds no more (no escalation, docs/api.md §12).
    ceiling: tuple[str, ...] | None = None
    userinfo_endpoint: str | None = None  # from the discovery document, when it names one

    def audited_fields(self) -> dict[str, Any]:
        """What audit entries show of a connection (never its client secret)."""
        return {
            "name": self.name,
            "issuer": self.issuer,
            "client_id": self.client_id,
            "domains": list(self.domains),
            "jit_provisioning": self.jit_provisioning,
            "default_role": self.default_role,
            "enforce": self.enforce,
        }
