"""Reach the machine's Redis, RabbitMQ and NATS from tests: produce, read dead letters.

A broker that is down skips the test with a one-line reason (fails under
CRMSYNC_REQUIRE_SERVICES=1), like tests/services.py does for PostgreSQL and Redis.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from tests.e2e.waiting import PATIENCE
from tests.services import REDIS_URL, unavailable

RABBIT_URL = os.environ.get("CRMSYNC_TEST_RABBIT_URL", "amqp://guest:guest@127.0.0.1:5672/")
NATS_URL = os.environ.get("CRMSYNC_TEST_NATS_URL", "nats://127.0.0.1:4222")
URLS = {"redis": REDIS_URL, "rabbit": RABBIT_URL, "nats": NATS_URL}
NAMES = {"redis": "Redis", "rabbit": "RabbitMQ", "nats": "NATS JetStream"}


async def until(check: Callable[[], bool], what: str, timeout: float = PATIENCE) -> None:
    """Wait (polling) until ``check()`` holds; fail saying ``what`` did not come."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def fresh_stream(kind: str) -> str:
    return f"crmsync-test-{kind}-{uuid.uuid4().hex[:10]}"


def require(kind: str) -> str:
    """The broker's URL, or skip/fail saying in one line that it is down."""
    try:
        asyncio.run(asyncio.wait_for(_ping(kind), 5))
    except Exception as exc:
        unavailable(NAMES[kind], exc)
    return URLS[kind]


async def _ping(kind: str) -> None:
    if kind == "redis":
        import redis.asyncio as aredis

        client = aredis.from_url(REDIS_URL, socket_connect_timeout=2)
        try:
            await client.ping()
        finally:
            await client.aclose()
    elif kind == "rabbit":
        import aio_pika

        connection = await aio_pika.connect(RABBIT_URL, timeout=3)
        await connection.close()
    else:
        import nats

        nc = await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
        try:
            await nc.jetstream().account_info()
        finally:
            await nc.close()


async def produce(kind: str, stream: str, payloads: Sequence[bytes]) -> None:
    if kind == "redis":
        import redis.asyncio as aredis

        client = aredis.from_url(REDIS_URL)
        async with client.pipeline(transaction=False) as pipe:
            for payload in payloads:
                pipe.xadd(stream, {"data": payload})
            await pipe.execute()
        await client.aclose()
    elif kind == "rabbit":
        import aio_pika

        connection = await aio_pika.connect(RABBIT_URL)
        async with connection:
            channel = await connection.channel()
            await channel.declare_queue(stream, durable=True)
            for payload in payloads:
                await channel.default_exchange.publish(
                    aio_pika.Message(payload, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=stream,
                )
    else:
        import nats
        from nats.js.errors import NotFoundError

        from crmsync.bus.adapters.nats import stream_name
        from crmsync.bus.spec import SourceSpec

        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        name = stream_name(SourceSpec(NATS_URL, stream))
        try:
            await js.stream_info(name)
        except NotFoundError:
            await js.add_stream(name=name, subjects=[stream, f"{stream}.dead"])
        for payload in payloads:
            await js.publish(stream, payload)
        await nc.close()


async def dead_letters(kind: str, stream: str) -> list[tuple[bytes, str]]:
    """Every dead letter so far: (message, reason)."""
    dead = f"{stream}.dead"
    if kind == "redis":
        import redis.asyncio as aredis

        client = aredis.from_url(REDIS_URL)
        entries: Any = await client.xrange(dead)
        await client.aclose()
        return [(f[b"data"], f[b"reason"].decode()) for _, f in entries]
    if kind == "rabbit":
        import aio_pika

        out: list[tuple[bytes, str]] = []
        connection = await aio_pika.connect(RABBIT_URL)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(dead, durable=True)
            got: list[Any] = []
            while (message := await queue.get(no_ack=False, fail=False)) is not None:
                got.append(message)
                out.append((message.body, str(message.headers.get("x-crmsync-reason"))))
            for message in got:  # leave them there for the next look
                await message.nack(requeue=True)
        return out
    import nats

    from crmsync.bus.adapters.nats import stream_name
    from crmsync.bus.spec import SourceSpec

    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    out = []
    reader = await js.pull_subscribe(dead, stream=stream_name(SourceSpec(NATS_URL, stream)))
    while True:
        try:
            batch = await reader.fetch(1000, timeout=0.3)
        except (nats.errors.TimeoutError, TimeoutError):
            break
        out += [(m.data or b"", (m.headers or {}).get("Crmsync-Reason", "")) for m in batch]
    await reader.unsubscribe()
    await nc.close()
    return out


async def cleanup(kind: str, stream: str) -> None:
    if kind == "redis":
        import redis.asyncio as aredis

        client = aredis.from_url(REDIS_URL)
        await client.delete(stream, f"{stream}.dead")
        await client.aclose()
    elif kind == "rabbit":
        import aio_pika

        connection = await aio_pika.connect(RABBIT_URL)
        async with connection:
            channel = await connection.channel()
            for name in (stream, f"{stream}.dead"):
                await channel.queue_delete(name)
    else:
        import nats

        from crmsync.bus.adapters.nats import stream_name
        from crmsync.bus.spec import SourceSpec

        nc = await nats.connect(NATS_URL)
        await nc.jetstream().delete_stream(stream_name(SourceSpec(NATS_URL, stream)))
        await nc.close()


async def published(kind: str, destination: str) -> list[bytes]:
    """What the outbox publisher put on ``destination``, in order (left in place)."""
    if kind == "redis":
        import redis.asyncio as aredis

        client = aredis.from_url(REDIS_URL)
        entries: Any = await client.xrange(destination)
        await client.aclose()
        return [f[b"data"] for _, f in entries]
    if kind == "rabbit":
        import aio_pika

        out: list[bytes] = []
        connection = await aio_pika.connect(RABBIT_URL)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(destination, durable=True)
            got: list[Any] = []
            while (message := await queue.get(no_ack=False, fail=False)) is not None:
                got.append(message)
                out.append(message.body)
            for message in got:
                await message.nack(requeue=True)
        return out
    import nats

    from crmsync.bus.publisher import NATS_STREAM

    nc = await nats.connect(NATS_URL)
    reader = await nc.jetstream().pull_subscribe(destination, stream=NATS_STREAM)
    bodies: list[bytes] = []
    while True:
        try:
            batch = await reader.fetch(100, timeout=0.3)
        except (nats.errors.TimeoutError, TimeoutError):
            break
        bodies += [m.data for m in batch]
    await reader.unsubscribe()
    await nc.close()
    return bodies


async def forget(kind: str, destination: str) -> None:
    """Remove what a test published to ``destination``."""
    if kind == "redis":
        import redis.asyncio as aredis

        client = aredis.from_url(REDIS_URL)
        await client.delete(destination)
        await client.aclose()
    elif kind == "rabbit":
        import aio_pika

        connection = await aio_pika.connect(RABBIT_URL)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(destination)
    else:
        import nats

        from crmsync.bus.publisher import NATS_STREAM

        nc = await nats.connect(NATS_URL)
        await nc.jetstream().purge_stream(NATS_STREAM, subject=destination)
        await nc.close()
