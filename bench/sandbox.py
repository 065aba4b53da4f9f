"""How many batch-upsert requests per second each sandbox serves (rate limits off).

    python bench/sandbox.py                 # every registered provider, 10 s each
    python bench/sandbox.py --quick         # 2 s each (CI)
    python bench/sandbox.py --seconds 5 --clients 3 --providers hubspot

The sandboxes run in this process (uvicorn on a background thread, real sockets);
load comes from `--clients` separate processes, each on one keep-alive connection
sending the provider's `upsert_request` (HubSpot: batch upsert of 100 contacts)
back to back over a key space of `--keys` batches in two variants of field values, so
the first pass (sent before the clock starts) creates the records and the timed load
updates them with new values.
Providers come from `crmsync.sandbox.PROVIDERS`; those whose package is missing or
that define no upsert request are listed as skipped.
`--profile` prints where the server's time goes (cProfile of the server thread).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import socket
import statistics
import sys
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Event as EventType

from starlette.types import ASGIApp, Message

from crmsync.sandbox import PROVIDERS, UnknownProvider, create
from crmsync.sandbox.app import build_app
from crmsync.sandbox.base import SampleRequest, SandboxOptions
from crmsync.sandbox.server import SandboxServer

TARGET_RPS = 2000


@dataclass
class Result:
    provider: str
    requests: int
    records: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    server_cpu: float
    client_cpu: float
    machine_busy: float  # cores busy on the whole machine during the run (/proc/stat)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def rps_per_core(self) -> float:
        """Requests per second of server CPU: what one free core would serve."""
        return self.requests / self.server_cpu if self.server_cpu else 0.0

    @property
    def two_core_bound(self) -> float:
        """Req/s a free 2-core machine could reach with these CPU costs: the server is
        one thread (at most one core) and shares the two cores with the clients."""
        if not self.requests or not self.server_cpu:
            return 0.0
        server, client = self.server_cpu / self.requests, self.client_cpu / self.requests
        return min(1 / server, 2 / (server + client))


def _read_response(sock: socket.socket, buffer: bytearray) -> int:
    """Read one HTTP/1.1 response with Content-Length; return its status."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buffer += chunk
    head_end = buffer.index(b"\r\n\r\n") + 4
    head = bytes(buffer[:head_end]).lower()
    status = int(head[9:12])
    length = 0
    marker = head.find(b"content-length:")
    if marker >= 0:
        length = int(head[marker + 15 : head.index(b"\r\n", marker)])
    while len(buffer) < head_end + length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buffer += chunk
    del buffer[: head_end + length]
    return status


def _first_pass(port: int, requests: list[bytes]) -> None:
    """Send each request once (creating the records), before the clock starts."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        buffer = bytearray()
        for request in requests:
            sock.sendall(request)
            if _read_response(sock, buffer) >= 400:
                raise RuntimeError("the first pass failed")


def _client(
    port: int,
    requests: list[bytes],
    start: EventType,
    stop: EventType,
    ready: mp.Queue,
    out: mp.Queue,
) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffer = bytearray()
    latencies: list[float] = []
    errors = 0
    ready.put(True)
    start.wait()
    cpu_began = time.process_time()
    index = 0
    while not stop.is_set():
        began = time.perf_counter()
        sock.sendall(requests[index % len(requests)])
        status = _read_response(sock, buffer)
        latencies.append(time.perf_counter() - began)
        errors += status >= 400
        index += 1
    cpu = time.process_time() - cpu_began
    sock.close()
    out.put((latencies, errors, cpu))


def measure(name: str, seconds: float, clients: int, keys: int, profile: bool) -> Result | str:
    """Run one provider's sandbox and load it; a reason string when skipped."""
    try:
        sandbox = create(name, SandboxOptions(rate_profile="off"))
    except UnknownProvider as exc:
        return str(exc)
    # two variants per key: after the first pass every upsert changes its records
    samples = [sandbox.upsert_request(seq, variant) for variant in (0, 1) for seq in range(keys)]
    if samples[0] is None:
        return "no upsert_request defined"
    per_request = samples[0].records
    with SandboxServer([sandbox]) as server:
        port = server.running[0].port
        host = f"127.0.0.1:{port}"
        wire = [s.to_http(host) for s in samples if s is not None]
        _first_pass(port, wire[:keys])  # the timed load updates records, as syncs mostly do
        ctx = mp.get_context("spawn")
        start, stop, ready, out = ctx.Event(), ctx.Event(), ctx.Queue(), ctx.Queue()
        procs = [
            ctx.Process(
                target=_client, args=(port, wire[i::clients] or wire, start, stop, ready, out)
            )
            for i in range(clients)
        ]
        for proc in procs:
            proc.start()
        for _ in procs:  # the clock starts once every client is connected
            ready.get(timeout=120)
        profiler = _start_profile(server) if profile else None
        cpu_before = server.call(_thread_cpu())
        busy_before = _machine_busy()
        began = time.perf_counter()
        start.set()
        time.sleep(seconds)
        stop.set()
        results = [out.get(timeout=60) for _ in procs]
        elapsed = time.perf_counter() - began
        server_cpu = server.call(_thread_cpu()) - cpu_before
        machine_busy = (_machine_busy() - busy_before) / elapsed
        for proc in procs:
            proc.join(timeout=30)
        if profiler is not None:
            _print_profile(server, profiler)
    latencies = sorted(lat for lats, _, _ in results for lat in lats)
    count = len(latencies)
    return Result(
        provider=name,
        requests=count,
        records=count * per_request,
        seconds=elapsed,
        errors=sum(e for _, e, _ in results),
        p50_ms=statistics.median(latencies) * 1000 if latencies else 0.0,
        p99_ms=latencies[int(count * 0.99) - 1] * 1000 if count > 100 else 0.0,
        server_cpu=server_cpu,
        client_cpu=sum(c for _, _, c in results),
        machine_busy=machine_busy,
    )


def _machine_busy() -> float:
    """CPU-seconds all processes on the machine spent so far (0 where unknown)."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()[1:]
    except OSError:
        return 0.0
    ticks = [int(f) for f in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


async def _thread_cpu() -> float:
    """CPU seconds used so far by the server's event-loop thread."""
    return time.thread_time()


def _start_profile(server: SandboxServer) -> object:
    import cProfile

    profiler = cProfile.Profile(time.thread_time)  # CPU time: the machine may be busy
    server.call(_enable(profiler))
    return profiler


async def _enable(profiler: object) -> None:
    profiler.enable()  # type: ignore[attr-defined]


async def _disable(profiler: object) -> None:
    profiler.disable()  # type: ignore[attr-defined]


def _print_profile(server: SandboxServer, profiler: object) -> None:
    import pstats

    server.call(_disable(profiler))
    stats = pstats.Stats(profiler)  # type: ignore[arg-type]
    stats.sort_stats("tottime").print_stats(40)


async def in_process(name: str, keys: int, count: int) -> tuple[float, float]:
    """CPU seconds per upsert calling the ASGI app without sockets: for the first
    pass (creating the records) and best of 3 rounds after it (updating them)."""
    sandbox = create(name, SandboxOptions(rate_profile="off"))
    app = build_app(sandbox)
    samples = [sandbox.upsert_request(seq, v) for v in (0, 1) for seq in range(keys)]
    requests = [s for s in samples if s is not None]
    began = time.process_time()
    for sample in requests[:keys]:  # the first pass creates the records
        await _call(app, sample)
    creating = (time.process_time() - began) / keys
    best = float("inf")
    for _ in range(3):
        began = time.process_time()
        for index in range(count):
            await _call(app, requests[index % len(requests)])
        best = min(best, (time.process_time() - began) / count)
    return creating, best


async def _call(app: ASGIApp, sample: SampleRequest) -> None:
    body = [{"type": "http.request", "body": sample.body, "more_body": False}]

    async def receive() -> Message:
        return body.pop() if body else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        return None

    headers = [(k.lower().encode(), v.encode()) for k, v in sample.headers.items()]
    headers.append((b"content-length", str(len(sample.body)).encode()))
    scope = {
        "type": "http",
        "method": sample.method,
        "path": sample.path,
        "raw_path": sample.path.encode(),
        "query_string": b"",
        "headers": headers,
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }
    await app(scope, receive, send)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per provider")
    parser.add_argument("--quick", action="store_true", help="2 s per provider (CI)")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--keys", type=int, default=50, help="distinct batches (key space)")
    parser.add_argument("--providers", default=",".join(PROVIDERS))
    parser.add_argument("--profile", action="store_true", help="cProfile the server")
    args = parser.parse_args(argv)
    seconds = 2.0 if args.quick else args.seconds
    print(f"sandbox batch-upsert benchmark: {seconds:g} s per provider, {args.clients} clients")
    print(
        f"{'provider':<12} {'req/s':>7} {'records/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'errors':>6} {'srv ms/req':>10} {'req/s/core':>10} {'cli ms/req':>10} "
        f"{'2-core':>7} {'busy':>5} {'load':>5} {'in-proc':>8} {'creating':>8}"
    )
    for name in [n.strip() for n in args.providers.split(",") if n.strip()]:
        result = measure(name, seconds, args.clients, args.keys, args.profile)
        if isinstance(result, str):
            print(f"{name:<12} skipped: {result}")
            continue
        load = os.getloadavg()[0]
        creating, direct = asyncio.run(in_process(name, args.keys, 60 if args.quick else 300))
        per = 1000 / max(result.requests, 1)
        print(
            f"{name:<12} {result.rps:>7.0f} {result.records / result.seconds:>9.0f} "
            f"{result.p50_ms:>7.2f} {result.p99_ms:>7.2f} {result.errors:>6} "
            f"{result.server_cpu * per:>10.3f} {result.rps_per_core:>10.0f} "
            f"{result.client_cpu * per:>10.3f} {result.two_core_bound:>7.0f} "
            f"{result.machine_busy:>5.2f} {load:>5.1f} {1000 * direct:>6.3f}ms "
            f"{1000 * creating:>6.3f}ms"
        )
    print(f"target: >= {TARGET_RPS} req/s (wall clock) for HubSpot batch upsert of 100")
    print("srv ms/req: CPU of the server thread per request (time.thread_time, incl. kernel)")
    print("req/s/core: requests per CPU-second of the server thread (load-independent)")
    print("cli ms/req: CPU of the client processes per request (time.process_time)")
    print("2-core: req/s a free 2-core machine could serve at these CPU costs, estimated as")
    print("        min(1 / srv, 2 / (srv + cli)): the server is one thread")
    print("busy: cores busy machine-wide during the run (/proc/stat; ours and others')")
    print("load: 1-minute load average after the run")
    print("in-proc: CPU per request calling the ASGI app directly, no sockets (best of 3);")
    print("creating: the same for the first pass, which creates the records (not in req/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
