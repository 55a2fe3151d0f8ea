#!/usr/bin/env python3
"""Operate a deployed stack, or the local runtime: create the first platform-admin client,
rotate the signing key.

    .venv/bin/python scripts/admin.py --stack-name user-management-api bootstrap
    .venv/bin/python scripts/admin.py --stack-name user-management-api rotate-signing-key
    .venv/bin/python scripts/admin.py --local rotate-signing-key        # make rotate-key

Resource names come from the stack's outputs (TableName, SigningKeysSecretArn), or from
--table / --signing-secret, or, with --local, from the `make dev` serving ${PORT:-3000}
(it leaves its moto endpoint and resource names in .devserver/<port>.json while it runs). AWS
credentials and region come from the usual places (environment, profile, --profile / --region).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

sys.path.append(str(Path(__file__).resolve().parents[1] / "layers" / "core" / "python"))
sys.path.append(str(Path(__file__).resolve().parents[1]))

from devserver import state
from umapi.auth.signing import ACTIVATION_SECONDS, CACHE_SECONDS, KeyRingStore
from umapi.bootstrap import claim_bootstrap, create_platform_admin
from umapi.clients.repository import ClientRepository
from umapi.orgs.repository import OrgRepository

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/admin.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack-name", help="read resource names from this CloudFormation stack's outputs")
    parser.add_argument("--table", help="the DynamoDB table (instead of --stack-name)")
    parser.add_argument("--signing-secret", help="the signing-key secret's ARN or name (instead of --stack-name)")
    parser.add_argument("--region", help="AWS region [from your AWS configuration]")
    parser.add_argument("--profile", help="AWS profile [from your AWS configuration]")
    parser.add_argument(
        "--local",
        nargs="?",
        type=int,
        const=int(os.environ.get("PORT", "3000")),
        metavar="PORT",
        help="act on the local runtime (make dev) serving PORT [$PORT, else 3000]",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    bootstrap = commands.add_parser(
        "bootstrap",
        help="create the signing key (if none) and a platform organization with a platform-admin client; "
        "prints the client secret once",
    )
    bootstrap.add_argument(
        "--force", action="store_true", help="create another platform-admin client even if one was made before"
    )
    commands.add_parser(
        "rotate-signing-key",
        help="add a new key now; every verifier and the JWKS have it within 300 s, and it signs from 660 s "
        "later (tokens of the previous key stay valid until they expire)",
    )
    return parser.parse_args(argv)


def stack_outputs(session: Any, stack_name: str) -> dict[str, str]:
    stack = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def main(argv: list[str] | None = None, session: Any = None) -> int:
    args = parse_args(argv)
    endpoint = None
    if args.local is not None:
        local = state.read(ROOT, args.local)
        if local is None:
            print(f"error: no local runtime serves port {args.local}: start it with `make dev`", file=sys.stderr)
            return 2
        endpoint, args.table, args.signing_secret = local["endpoint_url"], local["table"], local["signing_secret"]
        session = session or boto3.session.Session(
            region_name=local["region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106
        )
    session = session or boto3.session.Session(region_name=args.region, profile_name=args.profile)
    try:
        outputs = stack_outputs(session, args.stack_name) if args.stack_name else {}
        table = args.table or outputs.get("TableName")
        secret = args.signing_secret or outputs.get("SigningKeysSecretArn")
        if not table or not secret:
            print("error: give --stack-name, or both --table and --signing-secret, or --local", file=sys.stderr)
            return 2
        dynamodb = session.client("dynamodb", endpoint_url=endpoint)
        keys = KeyRingStore(session.client("secretsmanager", endpoint_url=endpoint), secret, dynamodb, table)
        if args.command == "rotate-signing-key":
            key = keys.rotate()
            print(
                f"New signing key {key.kid} added to the key ring. Every container verifies with it, and "
                f"the JWKS lists it, within {CACHE_SECONDS} s (their cache); it signs from "
                f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(key.activates_at))} (in "
                f"{ACTIVATION_SECONDS} s, once clients' cached JWKS have it too). Tokens signed with "
                "the previous key stay valid until they expire."
            )
            return 0
        if not claim_bootstrap(dynamodb, table) and not args.force:
            print(
                "error: this stack was bootstrapped before; add --force to create another platform-admin client",
                file=sys.stderr,
            )
            return 1
        key = keys.ensure()
        admin = create_platform_admin(OrgRepository(dynamodb, table), ClientRepository(dynamodb, table))
    except (BotoCoreError, ClientError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Signing key: {key.kid}")
    print(f"Platform organization: {admin.org_id}")
    print(f"client_id:     {admin.client_id}")
    print(f"client_secret: {admin.client_secret}")
    print("Store the secret now: it is kept only as a hash and cannot be shown again.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
