"""What every bus is: the :class:`Bus` protocol and the callbacks it calls.

Its own module so that the buses (memory.py, redis.py) and the package's
:func:`~peerhub.realtime.bus.make_bus`, which imports them, do not import each other.
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
