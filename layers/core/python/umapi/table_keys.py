"""Every DynamoDB key format of the single table, in one place.

Conventions (documented beside the table in template.yaml and in the README):
- tenant-owned items live under partitions that start with ``ORG#<org_id>``; nothing of one
  organization is ever stored under another organization's partition;
- global look-ups (a client by id, rate-limit windows, the public signing keys) have partition
  keys of their own, never starting with ``ORG#``;
- GSI1..GSI4 are sorted listings; their partition keys start with ``ORG#<org_id>`` for
  tenant data (``ORGS`` lists organizations, for platform admins only).
"""

from __future__ import annotations

from typing import Final

# Read by the health check: a key that is never written, so the probe is a cheap
# eventually consistent GetItem that proves the table answers.
HEALTH_PROBE_KEY: Final = {"PK": {"S": "HEALTH"}, "SK": {"S": "PROBE"}}

# The public half of the signing keys (JWKS), readable by every function.
JWKS_KEY: Final = {"PK": {"S": "JWKS"}, "SK": {"S": "KEYS"}}

ORG_SK: Final = "ORG"
ORGS_INDEX_PK: Final = "ORGS"
CLIENT_SK: Final = "CLIENT"
RATE_WINDOW_SK: Final = "WINDOW"


def org_pk(org_id: str) -> str:
    """Partition of an organization's own item and of its users, roles and webhooks."""
    return f"ORG#{org_id}"


def client_pk(client_id: str) -> str:
    """A client by id (global look-up: the token endpoint knows only the client id)."""
    return f"CLIENT#{client_id}"


def clients_index_pk(org_id: str) -> str:
    """Partition of the entries listing one organization's clients by creation."""
    return f"ORG#{org_id}#CLIENTS"


def audit_pk(org_id: str) -> str:
    """Partition of an organization's audit log; sort keys are the entries' time-ordered ids."""
    return f"ORG#{org_id}#AUDIT"


def audit_actor_pk(org_id: str, actor_id: str) -> str:
    """GSI1 partition of the audit entries one actor made."""
    return f"{audit_pk(org_id)}#ACTOR#{actor_id}"


def audit_target_pk(org_id: str, target_id: str) -> str:
    """GSI2 partition of the audit entries about one target."""
    return f"{audit_pk(org_id)}#TARGET#{target_id}"


def audit_action_pk(org_id: str, action: str) -> str:
    """GSI3 partition of the audit entries of one action."""
    return f"{audit_pk(org_id)}#ACTION#{action}"


def org_id_of(partition: str) -> str:
    """The organization of an ``ORG#<org_id>`` partition key."""
    return partition.removeprefix("ORG#").split("#", 1)[0]


def rate_window_pk(client_id: str) -> str:
    """The current rate-limit window of one API key (or of another bucket, see below)."""
    return f"RATE#{client_id}"


def token_failure_bucket(client_id: str, source_ip: str | None) -> str:
    """The bucket that failed token requests naming ``client_id`` count in, per source address,
    apart from the client's own quota (docs/api.md §3)."""
    return f"TOKENFAIL#{client_id}#{source_ip or 'unknown'}"


def created_sort_key(created_at: str, item_id: str) -> str:
    """Sort key that orders by creation time, ties broken by id."""
    return f"{created_at}#{item_id}"


def user_sk(user_id: str) -> str:
    """A user, in its organization's partition."""
    return f"USER#{user_id}"


def email_claim_sk(email_key: str) -> str:
    """The claim that makes an email unique in its organization (case-insensitive)."""
    return f"EMAIL#{email_key}"


def users_index_pk(org_id: str, *, archived: bool = False) -> str:
    """GSI1..GSI4 partition of an organization's users; archived users live apart, so the
    default listing never reads them."""
    return f"ORG#{org_id}#USERS#ARCHIVED" if archived else f"ORG#{org_id}#USERS"


def user_search_pk(org_id: str, *, archived: bool = False) -> str:
    """The partition of an organization's search entries (``SK=<word>#<usr>``); archived users'
    entries live apart, as their listings do."""
    return f"ORG#{org_id}#SEARCH#ARCHIVED" if archived else f"ORG#{org_id}#SEARCH"


def user_search_sk(word: str, user_id: str) -> str:
    return f"{word}#{user_id}"


def users_filter_pk(org_id: str, kind: str, value: str) -> str:
    """The partition of the entries of an organization's unarchived users with one ``status``,
    ``department`` or ``role`` (``SK=<created_at>#<usr>``: newest or oldest first)."""
    return f"ORG#{org_id}#USERS#{kind.upper()}#{value}"


def users_filter_sk(created_at: str, user_id: str) -> str:
    return f"{created_at}#{user_id}"


def user_lookup_pk(user_id: str) -> str:
    """GSI5: find a user's organization by the user's id (platform admins)."""
    return f"USER#{user_id}"


def verification_pk(token_hash: str) -> str:
    """A pending email-verification token, by its hash (global look-up: the token is all we get)."""
    return f"VERIFY#{token_hash}"


def events_pk(org_id: str) -> str:
    """The organization's outbox of webhook events; sort keys are the events' time-ordered ids."""
    return f"ORG#{org_id}#EVENTS"


def role_sk(role_id: str) -> str:
    """A custom role, in its organization's partition (system roles are not stored)."""
    return f"ROLE#{role_id}"


def role_name_sk(name_key: str) -> str:
    """The claim that makes a role name unique in its organization (case-insensitive)."""
    return f"ROLENAME#{name_key}"


def role_id_of(sort_key: str) -> str:
    """The role of a ``ROLE#<role_id>`` sort key."""
    return sort_key.removeprefix("ROLE#")


def role_holder_sk(role_id: str, user_id: str) -> str:
    """One user holding one custom role: who holds a role is a ``begins_with`` query away."""
    return f"HOLDER#{role_id}#{user_id}"


def role_holders_prefix(role_id: str) -> str:
    return f"HOLDER#{role_id}#"


ADMIN_ROSTER_SK: Final = "ADMINS"


def webhook_sk(webhook_id: str) -> str:
    """A webhook subscription, in its organization's partition."""
    return f"WEBHOOK#{webhook_id}"


def webhooks_index_pk(org_id: str) -> str:
    """GSI1 partition listing one organization's webhooks by creation."""
    return f"ORG#{org_id}#WEBHOOKS"


def events_status_pk(org_id: str, status: str) -> str:
    """GSI1 partition of an organization's events in one delivery status."""
    return f"{events_pk(org_id)}#STATUS#{status}"


def events_type_pk(org_id: str, event_type: str) -> str:
    """GSI2 partition of an organization's events of one type."""
    return f"{events_pk(org_id)}#TYPE#{event_type}"


def deliveries_pk(org_id: str) -> str:
    """Partition of the deliveries of an organization's events, one per (event, webhook)."""
    return f"ORG#{org_id}#DELIVERIES"


def delivery_sk(event_id: str, webhook_id: str) -> str:
    return f"{event_id}#{webhook_id}"


def login_failures_pk(org_id: str, email_key: str) -> str:
    """Sign-in attempts on one account (by organization and email), per 15-minute bucket."""
    return f"LOGINFAIL#{org_pk(org_id)}#{email_key}"


def login_failures_ip_pk(source_ip: str | None) -> str:
    """Sign-in attempts from one source address, per 15-minute bucket."""
    return f"LOGINFAIL#IP#{source_ip or 'unknown'}"


JOB_SLOTS_SK: Final = "JOBSLOTS"


def jobs_pk(org_id: str) -> str:
    """An organization's jobs: ``SK=<job id>`` (newest first by ULID)."""
    return f"ORG#{org_id}#JOBS"


def jobs_status_pk(org_id: str, status: str) -> str:
    """GSI1: an organization's jobs in one status."""
    return f"ORG#{org_id}#JOBS#STATUS#{status}"


def jobs_type_pk(org_id: str, job_type: str) -> str:
    """GSI2: an organization's jobs of one type."""
    return f"ORG#{org_id}#JOBS#TYPE#{job_type}"


def job_chunks_pk(org_id: str, job_id: str) -> str:
    """A job's chunks (``SK=<chunk number>``): each one's position and counts."""
    return f"ORG#{org_id}#JOB#{job_id}#CHUNKS"


def job_errors_pk(org_id: str, job_id: str) -> str:
    """A job's row errors, ``SK=<row index>`` zero-padded so they page in row order."""
    return f"ORG#{org_id}#JOB#{job_id}#ERRORS"


def job_index_sk(index: int) -> str:
    return f"{index:07d}"


def sso_connections_pk(org_id: str) -> str:
    """Partition of an organization's SSO connections (sort key: the connection id)."""
    return f"ORG#{org_id}#SSO"


def sso_domain_pk(domain: str) -> str:
    """A domain's claim by one SSO connection (global: a domain has one owner across organizations)."""
    return f"SSODOMAIN#{domain}"


def mfa_pk(org_id: str, user_id: str) -> str:
    """Partition of one user's second factors, recovery codes and passkey challenges."""
    return f"{org_pk(org_id)}#MFA#{user_id}"


def mfa_attempt_pk(secret_hash: str) -> str:
    """A sign-in waiting for its second factor, by the hash of the browser's secret."""
    return f"MFAATTEMPT#{secret_hash}"


def mfa_failures_pk(org_id: str, user_id: str) -> str:
    """Wrong second factors of one account, per 15-minute bucket."""
    return f"MFAFAIL#{org_pk(org_id)}#{user_id}"
