"""The ``umapi`` command: argument parsing, output (text or ``--json``) and exit codes.

Exit codes: 0 done; 1 the API refused the request; 2 a usage error; 3 not logged in, the
session expired, or the credentials were refused; 4 the API could not be reached.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from umapi_cli import __version__, config
from umapi_cli.api import AuthError, CliError, client_credentials_token, token_claims

EXIT_USAGE = 2


class UsageError(CliError):
    """Something the command needs was not given."""

    exit_code = EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _when(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _secret(args: argparse.Namespace) -> str:
    if args.client_secret_stdin:
        secret = sys.stdin.readline().strip()
    elif os.environ.get("UMAPI_CLIENT_SECRET"):
        secret = os.environ["UMAPI_CLIENT_SECRET"]
    elif sys.stdin.isatty():
        secret = getpass.getpass("Client secret: ")
    else:
        raise UsageError("No client secret: set UMAPI_CLIENT_SECRET, pass --client-secret-stdin, or run in a terminal.")
    if not secret:
        raise UsageError("The client secret is empty.")
    return secret


def login(args: argparse.Namespace) -> dict[str, Any]:
    previous = config.load()
    api_url = (
        args.api_url
        or os.environ.get("UMAPI_API_URL")
        or (previous.api_url if previous else None)
        or config.DEFAULT_API_URL
    ).rstrip("/")
    client_id = args.client_id or os.environ.get("UMAPI_CLIENT_ID")
    if not client_id:
        if not sys.stdin.isatty():
            raise UsageError("No client id: pass --client-id or set UMAPI_CLIENT_ID.")
        client_id = input("Client id: ").strip()
    answer = client_credentials_token(api_url, client_id, _secret(args), args.scope)
    claims = token_claims(answer["access_token"])
    session = config.Session(
        api_url=api_url,
        client_id=client_id,
        org_id=claims.get("org_id"),
        scope=str(answer.get("scope", "")),
        access_token=answer["access_token"],
        expires_at=int(time.time()) + int(answer.get("expires_in", 0)),
    )
    path = config.save(session)
    return {
        **session.public(),
        "session_file": str(path),
        "text": f"Logged in to {api_url} as {client_id}"
        + (f" (organization {session.org_id})" if session.org_id else "")
        + f"; the token is valid until {_when(session.expires_at)} and cached in {path}.",
    }


def logout(_: argparse.Namespace) -> dict[str, Any]:
    removed = config.forget()
    text = "Logged out: the cached token is removed." if removed else "Not logged in: nothing to remove."
    return {"logged_out": removed, "text": text}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="umapi", description="The User Management API from the command line.")
    parser.add_argument("--version", action="version", version=f"umapi {__version__}")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of text")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    sign_in = commands.add_parser(
        "login",
        help="get a token with client credentials and cache it",
        description="Get an access token with the client credentials grant and cache it (0600) for the "
        "other commands. The secret comes from UMAPI_CLIENT_SECRET, --client-secret-stdin or a prompt; "
        "it is never stored.",
    )
    sign_in.add_argument("--api-url", help=f"the API's base URL [$UMAPI_API_URL, last login, {config.DEFAULT_API_URL}]")
    sign_in.add_argument("--client-id", help="the client's id (cli_…) [$UMAPI_CLIENT_ID, else asked]")
    sign_in.add_argument("--client-secret-stdin", action="store_true", help="read the client secret from stdin")
    sign_in.add_argument("--scope", help="space-separated scopes to ask for [all the client's scopes]")
    sign_in.set_defaults(run=login)

    sign_out = commands.add_parser("logout", help="forget the cached token", description="Remove the cached token.")
    sign_out.set_defaults(run=logout)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], dict[str, Any]] = args.run
    try:
        result = run(args)
    except CliError as error:
        if args.json:
            print(json.dumps({"error": {"code": error.code, "message": error.message, "status": error.status}}))
        else:
            hint = " Run `umapi login`." if isinstance(error, AuthError) and args.command != "login" else ""
            print(f"umapi: {error.message}{hint}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("umapi: interrupted", file=sys.stderr)
        return 130
    text = result.pop("text", "")
    print(json.dumps(result, indent=2) if args.json else text)
    return 0
