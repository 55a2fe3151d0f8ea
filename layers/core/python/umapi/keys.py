"""Every DynamoDB key format of the single table, in one place.

Conventions (documented beside the table in template.yaml and in the README):
- tenant-owned items live under ``PK = ORG#<org_id>``; nothing of one organization
  is ever stored under another organization's partition;
- global look-ups (a client by id, a refresh token by hash, rate-limit windows)
  have partition keys of their own, never starting with ``ORG#``;
- GSI1..GSI4 are sorted listings inside one organization; GSI5 finds an item by
  its global id.
"""

from __future__ import annotations

from typing import Final

# Read by the health check: a key that is never written, so the probe is a cheap
# eventually consistent GetItem that proves the table answers.
HEALTH_PROBE_KEY: Final = {"PK": {"S": "HEALTH"}, "SK": {"S": "PROBE"}}
