"""Discovery documents on 127.0.0.1, as the test sets them: a well-formed provider's, or a broken
one's (another issuer, a missing endpoint, no RS256, HTML, a 404, a slow answer), which no real
provider would serve on purpose. The real OpenID provider the federated sign-in runs against is
node's ``oidc-provider`` (tests/local)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

DISCOVERY = "/.well-known/openid-configuration"


class Answer(NamedTuple):
    status: int
    body: bytes
    delay: float = 0.0


class ProviderDocuments:
    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self.answers: dict[str, Answer] = {}

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def issuer(self, name: str) -> str:
        return f"{self.url}/{name}"

    def good(self, name: str, **changes: Any) -> str:
        """A provider ``name`` with a well-formed document (``changes`` applied); its issuer."""
        issuer = self.issuer(name)
        document = {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
        } | changes
        self.answers[name] = Answer(200, json.dumps({k: v for k, v in document.items() if v is not None}).encode())
        return issuer

    def raw(self, name: str, status: int, body: bytes, delay: float = 0.0) -> str:
        self.answers[name] = Answer(status, body, delay)
        return self.issuer(name)


@contextmanager
def provider_documents() -> Iterator[ProviderDocuments]:
    documents: ProviderDocuments

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.removeprefix("/").removesuffix(DISCOVERY)
            answer = documents.answers.get(name) if self.path.endswith(DISCOVERY) else None
            if answer is None:
                answer = Answer(404, b"not found")
            time.sleep(answer.delay)
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                return  # the API gave up waiting (the slow provider's case)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    documents = ProviderDocuments(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield documents
    finally:
        server.shutdown()
        server.server_close()
