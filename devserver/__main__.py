"""``python -m devserver``: serve every route of template.yaml locally on moto (no Docker, no AWS)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path

from devserver import state
from devserver.backend import MotoBackend
from devserver.demo import print_demo, seed_demo
from devserver.runtime import LOCAL_CREDENTIALS, LocalRuntime, LocalRuntimeConfig, seed
from devserver.template import Intrinsics, Template
from umapi.bootstrap import AdminCredentials


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devserver",
        description=(
            "Run the User Management API locally: moto stands in for DynamoDB and SQS, every function runs "
            "in local worker processes behind SAM CLI's own API Gateway emulation, and DynamoDB Stream / SQS "
            "triggered functions are polled and invoked. Settings come from the environment (see README)."
        ),
    )
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="address to bind [127.0.0.1]")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")), help="port [$PORT or 3000]")
    parser.add_argument("--template", type=Path, default=Path("template.yaml"), help="SAM template [template.yaml]")
    parser.add_argument(
        "--backend-only",
        action="store_true",
        help="serve only moto, provisioned from the template (for `sam local start-api` with Docker)",
    )
    parser.add_argument("--moto-host", default="127.0.0.1", help="moto's address with --backend-only [127.0.0.1]")
    parser.add_argument("--moto-port", type=int, default=5000, help="moto's port with --backend-only [5000]")
    parser.add_argument("--verbose", action="store_true", help="log the local runtime's own debug output")
    return parser.parse_args(argv)


def _stop_on_sigterm(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Explicit, because a shell starts background jobs with SIGINT ignored and Python keeps that.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("samcli", "werkzeug", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    if not args.template.is_file():
        print(f"error: no SAM template at {args.template}", file=sys.stderr)
        return 2

    if args.backend_only:
        return serve_backend_only(args)
    started = time.perf_counter()
    runtime = LocalRuntime(LocalRuntimeConfig(template_path=args.template, host=args.host, port=args.port))
    try:
        runtime.start()
    except OSError as exc:
        print(f"error: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        runtime.stop()
        return 1
    print(f"User Management API (local) on {runtime.url}  [moto at {runtime.backend.endpoint_url}]")
    for route in sorted(runtime.routes, key=lambda r: r.path):
        print(f"  {', '.join(sorted(route.methods)):<24} {runtime.url}{route.path}  -> {route.function_name}")
    if runtime.admin is not None:
        print_admin(runtime.admin, runtime.url)
        print_demo(seed_demo(runtime.url, runtime.admin), runtime.url)
    state.announce(runtime)
    if "127.0.0.1" in runtime.url:  # browsers refuse an IP address as a passkey relying party
        print(f"Sign-in pages with passkeys: open {runtime.url.replace('127.0.0.1', 'localhost')} (docs/mfa.md).")
    print(f"Ready in {time.perf_counter() - started:.1f} s. Ctrl-C stops.", flush=True)
    try:
        runtime.serve_forever()
    finally:
        state.remove(runtime.root, state.port_of(runtime))
    return 0


def print_admin(admin: AdminCredentials, url: str) -> None:
    print(
        f"Platform admin client (org {admin.org_id}):\n"
        f"  LOCAL_ADMIN_CLIENT_ID={admin.client_id}\n  LOCAL_ADMIN_CLIENT_SECRET={admin.client_secret}\n"
        f"  curl -s -u '{admin.client_id}:{admin.client_secret}' -d grant_type=client_credentials {url}/auth/token"
    )


def serve_backend_only(args: argparse.Namespace) -> int:
    """moto with the template's tables and queues, for functions running in `sam local` containers."""
    template = Template.load(args.template)
    backend = MotoBackend(
        region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"), host=args.moto_host, port=args.moto_port
    )
    os.environ.update(LOCAL_CREDENTIALS)
    backend.start()
    intrinsics = Intrinsics(backend.region, "user-management-api-local", template.parameter_defaults())
    backend.provision(template, intrinsics)
    admin = seed(backend, template, intrinsics)
    if admin is not None:
        print_admin(admin, "http://127.0.0.1:3000")
    print(f"moto on {backend.endpoint_url} with: {', '.join(sorted(intrinsics.attributes))}. Ctrl-C stops.", flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        backend.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
