"""Redis pub/sub as the bus, with reconnection and a bounded outgoing queue.

Two connections: one subscribed (a reader task), one publishing (a writer task
that pipelines whatever has queued up since its last round trip). If Redis goes
away, publishing drops messages (counted) and the reader reconnects with
backoff; after it is back, ``on_reconnect`` lets the hub read what it missed
from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from peerhub.realtime.bus.base import Handler, OnReconnect

log = logging.getLogger("peerhub.realtime.bus")


class RedisBus:
    def __init__(self, url: str, max_out: int = 50_000, pipeline_max: int = 512) -> None:
        self.url = url
        self.max_out = max_out
        self.pipeline_max = pipeline_max
        self._out: deque[tuple[str, bytes]] = deque()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._dropped = 0
        self._sending = 0  # published in the pipeline now on its way
        self.connected = asyncio.Event()
        self._first_try = asyncio.Event()
        self.reconnects = 0

    @property
    def dropped(self) -> int:
        return self._dropped

    def _client(self) -> Redis:
        return Redis.from_url(
            self.url, socket_connect_timeout=5, socket_keepalive=True, health_check_interval=10
        )

    async def start(
        self, channels: Sequence[str], handler: Handler, on_reconnect: OnReconnect
    ) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._reader(list(channels), handler, on_reconnect), name="bus-in"),
            loop.create_task(self._publisher(), name="bus-out"),
        ]
        # Wait for the first subscription attempt, so events published right
        # after start-up are heard; carry on without Redis if it is down (the
        # tail check still delivers, only later).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_try.wait(), 5)

    def publish(self, channel: str, data: bytes) -> None:
        if len(self._out) >= self.max_out:
            self._dropped += 1
            return
        self._out.append((channel, data))
        self._wake.set()

    async def _reader(
        self, channels: list[str], handler: Handler, on_reconnect: OnReconnect
    ) -> None:
        backoff = 0.1
        first = True
        while True:
            client = self._client()
            pubsub: Any = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*channels)
                self.connected.set()
                self._first_try.set()
                if not first:
                    self.reconnects += 1
                    log.info("bus reconnected")
                    on_reconnect()
                first = False
                backoff = 0.1
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                    if message is None:
                        await pubsub.ping()
                        continue
                    if message.get("type") != "message":
                        continue
                    channel = message["channel"]
                    name = channel.decode() if isinstance(channel, bytes) else str(channel)
                    try:
                        handler(name, message["data"])
                    except Exception:
                        log.exception("bus handler failed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected.clear()
                log.warning("bus subscription lost: %s", exc.__class__.__name__)
            finally:
                self._first_try.set()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(backoff * (0.5 + random.random()))  # noqa: S311 - jitter
            backoff = min(backoff * 2, 5.0)

    async def _publisher(self) -> None:
        client = self._client()
        backoff = 0.1
        try:
            while True:
                if not self._out:
                    self._wake.clear()
                    await self._wake.wait()
                items = [self._out.popleft() for _ in range(min(len(self._out), self.pipeline_max))]
                self._sending = len(items)
                try:
                    pipe = client.pipeline(transaction=False)
                    for channel, data in items:
                        pipe.publish(channel, data)
                    await pipe.execute()
                    backoff = 0.1
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._dropped += len(items)
                    log.warning(
                        "bus publish failed, %d dropped: %s", len(items), exc.__class__.__name__
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                finally:
                    self._sending = 0
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def subscribers(self, pattern: str) -> list[str] | None:
        """``PUBSUB CHANNELS pattern``: like pub/sub, it sees every database number."""
        client = self._client()
        try:
            found = await asyncio.wait_for(client.pubsub_channels(pattern), 5)
        except Exception as exc:  # Redis away, or the command refused (an ACL)
            log.warning("cannot list the bus's channels: %s", exc.__class__.__name__)
            return None
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.aclose(), 2)
        return sorted(c.decode() if isinstance(c, bytes) else str(c) for c in found)

    async def stop(self) -> None:
        """At most about 2 s, whatever Redis is doing (it may not answer at all)."""
        loop = asyncio.get_running_loop()
        # Give what is queued (a "this process is going" notice) a moment to leave.
        deadline = loop.time() + 1.0
        while (self._out or self._sending) and self.connected.is_set():
            if loop.time() > deadline:
                break
            await asyncio.sleep(0.01)
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            # Not awaited past this: a connection's clean-up in the client library
            # can outwait a cancellation (it shields its teardown) when Redis is stuck.
            _, pending = await asyncio.wait(tasks, timeout=1.0)
            if pending:
                log.warning("the bus's connections did not close within 1 s; left behind")
