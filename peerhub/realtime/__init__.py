"""Real-time group rooms: protocol, hub, bus, writer, queries and the WebSocket server.

The rest of the application uses these calls, all safe to make whether or not the
real-time server runs in this process (they go through the bus to every process):

- :func:`disconnect_user` — close a person's live sockets (logout, account disabled);
- :func:`revoke_membership` — someone left, was removed or banned from a group;
- :func:`member_changed` — someone's rank in a group changed;
- :func:`room_changed` — a group's room settings changed on the group's form.

See docs/realtime.md.
"""

from __future__ import annotations

from peerhub.realtime.notify import (
    disconnect_user,
    member_changed,
    revoke_membership,
    room_changed,
)

__all__ = ["disconnect_user", "member_changed", "revoke_membership", "room_changed"]
