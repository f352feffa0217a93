"""The fan-out bus between PeerHub processes: publish bytes on a channel, receive them.

At-most-once by design: a message published while a process is disconnected,
or dropped because a queue was full, is simply lost. The database log is the
truth; :mod:`peerhub.realtime.hub` notices the gap and reads the log.

``MemoryBus`` joins the processes... of one process (tests, a single server);
``RedisBus`` uses Redis pub/sub and reconnects by itself.
"""

from __future__ import annotations

from peerhub.realtime.bus.base import Bus, Handler, OnReconnect
from peerhub.realtime.bus.memory import MemoryBus
from peerhub.realtime.bus.redis import RedisBus


def make_bus(redis_url: str | None) -> Bus:
    if redis_url:
        return RedisBus(redis_url)
    return MemoryBus()


__all__ = ["Bus", "Handler", "OnReconnect", "make_bus"]
