"""moto's server in-process, holding the resources template.yaml declares."""

from __future__ import annotations

import functools
import json
import logging
import secrets
import urllib.request
from collections.abc import Callable
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from devserver import moto_patches
from devserver.template import Intrinsics, Template

LOG = logging.getLogger(__name__)

_TABLE_PROPERTIES = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
)
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
)

_CORS_NAMES = {"MaxAge": "MaxAgeSeconds", "Id": "ID"}  # CloudFormation's names → S3's API


class Provisioner:
    """Creates the tables and queues a template declares, with any boto3 client factory.

    The local runtime points it at moto's server; unit tests point it at moto in-process,
    so tests and deploys share the template's one definition of every table and queue.
    """

    def __init__(self, client: Callable[..., Any]) -> None:
        self.client = functools.cache(client)  # one client per service: making one costs ~20 ms

    def provision(self, template: Template, intrinsics: Intrinsics) -> None:
        """Create every table and queue of ``template``, recording their Ref/GetAtt values in ``intrinsics``."""
        for logical_id, resource in template.resources_of_type("AWS::DynamoDB::Table").items():
            self._create_table(logical_id, resource.get("Properties", {}), intrinsics)
        for logical_id, resource in template.resources_of_type("AWS::SecretsManager::Secret").items():
            self._create_secret(logical_id, resource.get("Properties", {}), intrinsics)
        queues = template.resources_of_type("AWS::SQS::Queue")
        for logical_id, resource in queues.items():
            self._create_queue(logical_id, resource.get("Properties", {}), intrinsics)
        for logical_id, resource in template.resources_of_type("AWS::S3::Bucket").items():
            self._create_bucket(logical_id, resource.get("Properties", {}), intrinsics)
        # Redrive policies name other queues, so they are set once every queue exists.
        for logical_id, resource in queues.items():
            redrive = resource.get("Properties", {}).get("RedrivePolicy")
            if redrive:
                policy = {key: intrinsics.resolve(value) for key, value in redrive.items()}
                self.client("sqs").set_queue_attributes(
                    QueueUrl=intrinsics.attributes[logical_id]["Ref"],
                    Attributes={"RedrivePolicy": json.dumps(policy)},
                )

    def _create_table(self, logical_id: str, props: dict[str, Any], intrinsics: Intrinsics) -> None:
        name = intrinsics.resolve(props.get("TableName", logical_id))
        request: dict[str, Any] = {key: props[key] for key in _TABLE_PROPERTIES if key in props}
        stream = props.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        dynamodb = self.client("dynamodb")
        description = dynamodb.create_table(TableName=name, **request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
            )
        intrinsics.attributes[logical_id] = {
            "Ref": name,
            "Arn": description["TableArn"],
            "StreamArn": description.get("LatestStreamArn", ""),
        }
        LOG.debug("created table %s", name)

    def _create_secret(self, logical_id: str, props: dict[str, Any], intrinsics: Intrinsics) -> None:
        """A secret with the template's value, or a random one as ``GenerateSecretString`` would make."""
        name = intrinsics.resolve(props.get("Name", logical_id))
        value = props.get("SecretString")
        if value is None:
            spec = props.get("GenerateSecretString", {})
            value = secrets.token_urlsafe(int(spec.get("PasswordLength", 32)))[: int(spec.get("PasswordLength", 32))]
        arn = self.client("secretsmanager").create_secret(Name=name, SecretString=intrinsics.resolve(value))["ARN"]
        intrinsics.attributes[logical_id] = {"Ref": arn, "Id": arn}
        LOG.debug("created secret %s", name)

    def _create_bucket(self, logical_id: str, props: dict[str, Any], intrinsics: Intrinsics) -> None:
        """A bucket with the template's encryption, public access block, lifecycle, CORS and
        queue notifications (S3 sends them to the queue, as deployed)."""
        name = str(intrinsics.resolve(props.get("BucketName", logical_id.lower())))
        s3 = self.client("s3")
        s3.create_bucket(Bucket=name)
        for rule in props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", []):
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}]
                },
            )
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "CorsConfiguration" in props:
            rules = [
                {_CORS_NAMES.get(key, key): value for key, value in rule.items()}
                for rule in props["CorsConfiguration"]["CorsRules"]
            ]
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
        queues = props.get("NotificationConfiguration", {}).get("QueueConfigurations", [])
        if queues:
            configurations = [
                {
                    "QueueArn": intrinsics.resolve(queue["Queue"]),
                    "Events": [queue["Event"]],
                    "Filter": {"Key": {"FilterRules": queue.get("Filter", {}).get("S3Key", {}).get("Rules", [])}},
                }
                for queue in queues
            ]
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"QueueConfigurations": configurations}
            )
        intrinsics.attributes[logical_id] = {
            "Ref": name,
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
        }
        LOG.debug("created bucket %s", name)

    def _create_queue(self, logical_id: str, props: dict[str, Any], intrinsics: Intrinsics) -> None:
        fifo = bool(props.get("FifoQueue"))
        name = intrinsics.resolve(props.get("QueueName", logical_id + (".fifo" if fifo else "")))
        attributes = {
            key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
            for key in _QUEUE_ATTRIBUTES
            if key in props
        }
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        intrinsics.attributes[logical_id] = {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}
        LOG.debug("created queue %s", name)


class MotoBackend:
    """moto's server on a thread of this process, provisioned from the template."""

    def __init__(self, region: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.region = region
        # Each DynamoDB request is atomic, as in DynamoDB: moto_patches serializes them.
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.endpoint_url = ""

    def start(self) -> None:
        moto_patches.install()
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        # moto keeps its state per process: a new runtime starts from an empty backend.
        reset = urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST")
        with urllib.request.urlopen(reset, timeout=10):  # noqa: S310 - our own loopback server
            pass

    def stop(self) -> None:
        self._server.stop()

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=self.region)  # type: ignore[call-overload]

    def provision(self, template: Template, intrinsics: Intrinsics) -> None:
        Provisioner(self.client).provision(template, intrinsics)
