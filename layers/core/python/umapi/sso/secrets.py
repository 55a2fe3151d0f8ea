"""Connections' client secrets, in Secrets Manager: one secret per connection, named
``<SSO_SECRET_PREFIX>/<connection id>``.

One secret each rather than one map of them all: Secrets Manager has no conditional write, so
two administrators changing two connections at once would overwrite each other's change in a
shared map; with one secret each nothing is read-modified-written, a connection's deletion
deletes exactly its secret, and IAM can name the prefix. It costs one secret per connection.
Secret values are never returned by the API or written to a log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


class ConnectionSecrets:
    def __init__(self, secretsmanager: SecretsManagerClient, prefix: str) -> None:
        self._secretsmanager = secretsmanager
        self._prefix = prefix.rstrip("/")

    def name(self, connection_id: str) -> str:
        return f"{self._prefix}/{connection_id}"

    def create(self, connection_id: str, secret: str) -> None:
        self._secretsmanager.create_secret(
            Name=self.name(connection_id),
            SecretString=secret,
            Description="Client secret of an SSO connection (user management API)",
        )

    def replace(self, connection_id: str, secret: str) -> None:
        self._secretsmanager.put_secret_value(SecretId=self.name(connection_id), SecretString=secret)

    def get(self, connection_id: str) -> str:
        return self._secretsmanager.get_secret_value(SecretId=self.name(connection_id))["SecretString"]

    def delete(self, connection_id: str) -> None:
        try:
            self._secretsmanager.delete_secret(SecretId=self.name(connection_id), ForceDeleteWithoutRecovery=True)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
