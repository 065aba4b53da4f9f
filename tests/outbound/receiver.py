"""A host app's webhook receiver on loopback: verifies every delivery with standardwebhooks,
keeps what it accepted, and can be told to fail a share of requests."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Receiver:
    url: str = ""
    secret: str = ""
    fail_share: float = 0.0
    accepted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (webhook-id, body)
    refused_signatures: int = 0
    failed_on_purpose: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(5))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            try:
                Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError:
                self.refused_signatures += 1
                return 401
            if self.rng.random() < self.fail_share:
                self.failed_on_purpose += 1
                return 503
            self.accepted.append((headers["webhook-id"], orjson.loads(body)))
            return 204


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            if len(body) != length:  # the sender died mid-request: nothing arrived
                return
            status = receiver.handle({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
