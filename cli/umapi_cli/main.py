"""The ``umapi`` command: argument parsing, output (text or ``--json``) and exit codes.

``--json`` and ``--org-id`` go before or after the command. Exit codes: 0 done; 1 the API
refused the request; 2 a usage error; 3 not logged in, the session expired, or the credentials
were refused; 4 the API could not be reached; 5 a job completed but some of its rows failed;
6 a job failed, was cancelled or expired; 130 interrupted (a job goes on); 141 the output's
reader went away (``umapi … | head``), as for any command killed by SIGPIPE.
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
from umapi_cli.api import AuthError, CliError, UsageError, client_credentials_token, token_claims

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


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


def _options(*, top: bool) -> _Parser:
    """The options every command takes, before or after its name (a later one wins)."""
    options = _Parser(add_help=False)
    default: Any = False if top else argparse.SUPPRESS
    options.add_argument("--json", action="store_true", default=default, help="print JSON instead of text")
    options.add_argument(
        "--org-id",
        default=None if top else argparse.SUPPRESS,
        metavar="ORG",
        help="act in this organization (a platform admin's session: the API's ?org_id=)",
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="umapi", description="The User Management API from the command line.", parents=[_options(top=True)]
    )
    parser.add_argument("--version", action="version", version=f"umapi {__version__}")
    shared = _options(top=False)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    sign_in = commands.add_parser(
        "login",
        parents=[shared],
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

    sign_out = commands.add_parser(
        "logout", parents=[shared], help="forget the cached token", description="Remove the cached token."
    )
    sign_out.set_defaults(run=logout)

    from umapi_cli import jobs

    users = commands.add_parser(
        "users", parents=[shared], help="bulk import and export of users", description="Bulk work on users."
    )
    users_commands = users.add_subparsers(dest="users_command", required=True, parser_class=_Parser, metavar="ACTION")
    importing = users_commands.add_parser(
        "import",
        parents=[shared],
        help="create (or update) users from a .csv or .jsonl file",
        description="Upload FILE as a job (up to 1,000,000 rows or 100 MiB). A csv's header names the fields "
        "of POST /users (or, with --type bulk_user_update, id and the fields of PATCH /users/{id}); a jsonl "
        "file has one such object per line. --wait follows the job with a progress bar until it ends.",
    )
    importing.add_argument("file", metavar="FILE", help="a .csv, .jsonl or .ndjson file")
    importing.add_argument("--wait", action="store_true", help="follow the job until it ends")
    importing.add_argument(
        "--type", choices=["bulk_user_create", "bulk_user_update"], default="bulk_user_create", help="the job type"
    )
    importing.add_argument("--callback-url", help="https URL that gets one signed POST of the job when it ends")
    importing.set_defaults(run=jobs.import_users)
    exporting = users_commands.add_parser(
        "export",
        parents=[shared],
        help="write the organization's users to a file",
        description="Export users, selected as GET /users selects them, through a job; waits for it and "
        "downloads the result.",
    )
    exporting.add_argument("--format", choices=["csv", "jsonl"], default="jsonl", help="the file's format")
    exporting.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write it")
    exporting.add_argument(
        "--status", choices=["pending_verification", "active", "suspended", "archived"], help="only this status"
    )
    exporting.add_argument("--role", help="only holders of this role")
    exporting.add_argument("--department", help="only this department")
    exporting.set_defaults(run=jobs.export_users)

    job = commands.add_parser(
        "jobs", parents=[shared], help="list, follow and cancel jobs", description="The organization's jobs."
    )
    job_commands = job.add_subparsers(dest="jobs_command", required=True, parser_class=_Parser, metavar="ACTION")
    listing = job_commands.add_parser(
        "list", parents=[shared], help="newest first", description="List jobs, newest first."
    )
    listing.add_argument(
        "--status",
        choices=["awaiting_upload", "queued", "processing", "completed", "failed", "cancelled", "expired"],
    )
    listing.add_argument(
        "--type", choices=["bulk_user_create", "bulk_user_update", "bulk_role_assignment", "user_export"]
    )
    listing.add_argument("--limit", type=int, default=25, choices=range(1, 101), metavar="1-100")
    listing.set_defaults(run=jobs.list_jobs)
    for name, helptext, run in (
        ("show", "one job's status and counts", jobs.show_job),
        ("watch", "follow a job with a progress bar until it ends", jobs.watch_job),
        ("cancel", "cancel a job: rows not yet processed never are", jobs.cancel_job),
    ):
        action = job_commands.add_parser(
            name, parents=[shared], help=helptext, description=helptext[0].upper() + helptext[1:] + "."
        )
        action.add_argument("id", metavar="ID", help="the job's id (job_…)")
        action.set_defaults(run=run)
    errors = job_commands.add_parser(
        "errors", parents=[shared], help="the rows that failed", description="A job's row errors, in row order."
    )
    errors.add_argument("id", metavar="ID", help="the job's id (job_…)")
    errors.add_argument("--limit", type=int, default=1000, help="at most this many (default 1000)")
    errors.set_defaults(run=jobs.job_errors)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, where a reader that went away can still be answered
        return code
    except BrokenPipeError:
        # The reader of our output went away (`umapi jobs list | head`): stop quietly, and keep
        # Python from reporting the pipe again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], dict[str, Any]] = args.run
    try:
        result = run(args)
    except CliError as error:
        job = getattr(error, "job", None)
        if job is not None:  # the job ended, not as hoped: its summary, and an exit code saying how
            print(json.dumps(job, indent=2) if args.json else error.message)
            return error.exit_code
        if args.json:
            print(json.dumps({"error": {"code": error.code, "message": error.message, "status": error.status}}))
        else:
            hint = " Run `umapi login`." if isinstance(error, AuthError) and args.command != "login" else ""
            print(f"umapi: {error.message}{hint}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as interrupted:
        job_id = interrupted.args[0] if interrupted.args else None
        if job_id:  # a job runs on the server, whatever happens to this command
            print(
                f"\numapi: interrupted. Job {job_id} goes on: follow it with `umapi jobs watch {job_id}`, "
                f"stop it with `umapi jobs cancel {job_id}`.",
                file=sys.stderr,
            )
        else:
            print("\numapi: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    text = result.pop("text", "")
    print(json.dumps(result, indent=2) if args.json else text)
    return 0
