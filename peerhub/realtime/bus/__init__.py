"""The fan-out bus between PeerHub processes: publish bytes on a channel, receive them.

At-most-once by design: a message published while a process is disconnected,
or dropped because a queue was full, is simply lost. The database log is the
truth; :mod:`peerhub.realtime.hub` notices the gap and reads the log.

``MemoryBus`` joins the processes... of one process (tests, a single server);
``RedisBus`` uses Redis pub/sub and reconnects by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

# handler(channel, data): called in the event loop; must not block.
Handler = Callable[[str, bytes], None]
OnReconnect = Callable[[], None]


class Bus(Protocol):
    async def start(
        self, channels: Sequence[str], handler: Handler, on_reconnect: OnReconnect
    ) -> None:
        """Subscribe to ``channels``; call ``handler`` for each message from now on.

        ``on_reconnect`` runs after the subscription was lost and restored, when
        messages may have been missed.
        """

    def publish(self, channel: str, data: bytes) -> None:
        """Send without waiting. Never raises; may drop (counted in ``dropped``)."""

    async def stop(self) -> None:
        """Stop within a few seconds, whatever the server is doing."""

    async def subscribers(self, pattern: str) -> list[str] | None:
        """Channels matching a glob ``pattern`` that someone (any process, any
        database number) is subscribed to now; None when that cannot be known."""

    @property
    def dropped(self) -> int: ...


def make_bus(redis_url: str | None) -> Bus:
    if redis_url:
        from peerhub.realtime.bus.redis import RedisBus

        return RedisBus(redis_url)
    from peerhub.realtime.bus.memory import MemoryBus

    return MemoryBus()


__all__ = ["Bus", "Handler", "OnReconnect", "make_bus"]
