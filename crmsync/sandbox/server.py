"""Serve sandboxes in-process over real sockets (uvicorn on a background thread).

    with SandboxServer([HubSpotSandbox()]) as server:
        url = server.url("hubspot")          # http://127.0.0.1:<ephemeral port>

Port 0 gives each sandbox an ephemeral port; a fixed port N serves them on N, N+1, ...
With ``tls=True`` a self-signed certificate is made at start-up; `cert_path` is the
PEM file clients should trust. All servers share one event loop on one thread, which
also runs their webhook deliveries; `stop` (or leaving the ``with``) shuts them down.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from crmsync.sandbox.app import build_app
from crmsync.sandbox.base import ProviderSandbox
from crmsync.sandbox.tls import Certificate, self_signed


@dataclass(frozen=True)
class RunningSandbox:
    """A served sandbox: its name, state object and base URL."""

    name: str
    sandbox: ProviderSandbox
    base_url: str
    port: int


def bind_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket (port 0 picks a free one); uvicorn starts listening on it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class SandboxServer:
    """Runs one uvicorn server per sandbox on a background event-loop thread."""

    def __init__(
        self,
        sandboxes: Sequence[ProviderSandbox],
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        start_timeout: float = 60.0,
    ) -> None:
        self.sandboxes = list(sandboxes)
        self.host = host
        self.port = port
        self.tls = tls
        self.start_timeout = start_timeout
        self.certificate: Certificate | None = None
        self.running: list[RunningSandbox] = []
        self._servers: list[uvicorn.Server] = []
        self._sockets: list[socket.socket] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None

    @property
    def cert_path(self) -> Path | None:
        """The PEM certificate to trust when serving https, else None."""
        return self.certificate.cert_path if self.certificate else None

    def url(self, name: str) -> str:
        """Base URL of the sandbox called `name`."""
        return self.get(name).base_url

    def get(self, name: str) -> RunningSandbox:
        """The running sandbox called `name`."""
        for item in self.running:
            if item.name == name:
                return item
        raise KeyError(name)

    def start(self) -> SandboxServer:
        """Bind the sockets, start serving and wait until every server is up."""
        if self.tls:
            self.certificate = self_signed()
        scheme = "https" if self.tls else "http"
        for index, sandbox in enumerate(self.sandboxes):
            sock = bind_socket(self.host, self.port + index if self.port else 0)
            port = sock.getsockname()[1]
            sandbox.base_url = f"{scheme}://{self.host}:{port}"
            self._sockets.append(sock)
            self._servers.append(uvicorn.Server(self._config(sandbox)))
            self.running.append(
                RunningSandbox(sandbox.name, sandbox, f"{scheme}://{self.host}:{port}", port)
            )
        self._thread = threading.Thread(target=self._run, name="crmsync-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not all(s.started for s in self._servers):
            if self._error is not None or not self._thread.is_alive():
                self.stop()
                raise RuntimeError(f"sandbox server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("sandbox server did not start in time")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Ask every server to exit, close webhook senders and join the thread."""
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        self._sockets.clear()

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
        """Run `coro` on the servers' event loop (e.g. ``sandbox.webhooks.drain()``)."""
        if self._loop is None:
            raise RuntimeError("server is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _config(self, sandbox: ProviderSandbox) -> uvicorn.Config:
        cert = self.certificate
        return uvicorn.Config(
            build_app(sandbox),
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
            ssl_certfile=str(cert.cert_path) if cert else None,
            ssl_keyfile=str(cert.key_path) if cert else None,
        )

    def _run(self) -> None:
        try:
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                runner.run(self._main())
        except BaseException as exc:
            self._error = exc

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        for sandbox in self.sandboxes:
            sandbox.webhooks.loop = self._loop
        try:
            await asyncio.gather(
                *(
                    server.serve(sockets=[sock])
                    for server, sock in zip(self._servers, self._sockets, strict=True)
                )
            )
        finally:
            for sandbox in self.sandboxes:
                await sandbox.webhooks.aclose()
            self._loop = None


def _loop_factory() -> Any:
    """uvloop when installed (uvicorn[standard] brings it), else asyncio's default."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
