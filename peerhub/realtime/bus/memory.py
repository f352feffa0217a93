"""An in-memory bus. Buses that share a :class:`Broker` hear each other, even when
they run in different threads' event loops (two test servers in one process)."""

from __future__ import annotations

import asyncio
import fnmatch
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from peerhub.realtime.bus.base import Handler, OnReconnect


@dataclass
class Broker:
    members: list[MemoryBus] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def deliver(self, channel: str, data: bytes, sender: MemoryBus | None = None) -> None:
        with self.lock:
            members = [m for m in self.members if m is not sender]
        for bus in members:
            bus.receive(channel, data)


class MemoryBus:
    def __init__(self, broker: Broker | None = None, max_pending: int = 100_000) -> None:
        self.broker = broker or Broker()
        self.max_pending = max_pending
        self._channels: frozenset[str] = frozenset()
        self._handler: Handler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending = 0
        self._dropped = 0

    @property
    def dropped(self) -> int:
        return self._dropped

    async def start(
        self, channels: Sequence[str], handler: Handler, on_reconnect: OnReconnect
    ) -> None:
        self._channels = frozenset(channels)
        self._handler = handler
        self._loop = asyncio.get_running_loop()
        with self.broker.lock:
            self.broker.members.append(self)

    def publish(self, channel: str, data: bytes) -> None:
        if len(self.broker.members) > 1:  # nobody else to hear it otherwise
            self.broker.deliver(channel, data, sender=self)

    def receive(self, channel: str, data: bytes) -> None:
        loop, handler = self._loop, self._handler
        if loop is None or handler is None or channel not in self._channels:
            return
        if self._pending >= self.max_pending:
            self._dropped += 1
            return
        self._pending += 1

        def run() -> None:
            self._pending -= 1
            handler(channel, data)

        try:
            loop.call_soon_threadsafe(run)
        except RuntimeError:  # that loop has closed
            self._pending -= 1

    async def subscribers(self, pattern: str) -> list[str] | None:
        with self.broker.lock:
            channels = {c for member in self.broker.members for c in member._channels}
        return sorted(fnmatch.filter(channels, pattern))

    async def stop(self) -> None:
        with self.broker.lock:
            if self in self.broker.members:
                self.broker.members.remove(self)
        self._handler = None
