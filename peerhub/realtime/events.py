"""What travels between processes: room events and control events.

A bus message is a small JSON header, a newline, and (for events that go to
sockets) the already-encoded client frame, passed through untouched so no
process encodes a message twice. The bus is at-most-once: a lost room event is
noticed as a gap in ``seq`` (or by the periodic tail check) and read back from
the database.

The channels are the deployment's own (``<namespace>:rooms``, ``<namespace>:control``,
see :mod:`peerhub.realtime.deployment`), and every header carries the deployment's
tag (``"d"``): a receiver applies nothing with another tag.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Why a socket is closed, when the caller gives no reason (in English: each socket
# shows it in its person's language, realtime/service.py CLOSE_REASONS).
SIGN_IN_ENDED = "Your session has ended."
NOT_IN_GROUP = "You are no longer in this group."

# Statuses that everyone in the room may see.
PUBLIC_STATUSES = frozenset({"visible", "redacted"})


@dataclass(slots=True)
class Event:
    """One entry of a room's log, encoded for sockets."""

    room: str
    seq: int
    frame: bytes
    status: str = "visible"
    sender_id: str | None = None
    kind: str = "text"

    @property
    def public(self) -> bool:
        return self.kind == "system" or self.status in PUBLIC_STATUSES

    def visible_to(self, user_id: str, moderator: bool) -> bool:
        """Held and rejected messages: only their writer and the room's moderators."""
        return self.public or user_id == self.sender_id or moderator


def pack(header: dict[str, Any], payload: bytes = b"") -> bytes:
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + payload


def unpack(data: bytes) -> tuple[dict[str, Any], bytes]:
    head, _, payload = data.partition(b"\n")
    header = json.loads(head)
    if not isinstance(header, dict):
        raise ValueError("bus header is not an object")
    return header, payload


def event_header(node: str, event: Event) -> dict[str, Any]:
    return {
        "t": "m",
        "n": node,
        "r": event.room,
        "s": event.seq,
        "st": event.status,
        "u": event.sender_id,
        "k": event.kind,
    }


def event_from(header: dict[str, Any], payload: bytes) -> Event:
    room, seq = header["r"], header["s"]
    if not isinstance(room, str) or not isinstance(seq, int):
        raise ValueError("bad room event")
    sender = header.get("u")
    return Event(
        room=room,
        seq=seq,
        frame=payload,
        status=str(header.get("st", "visible")),
        sender_id=sender if isinstance(sender, str) else None,
        kind=str(header.get("k", "text")),
    )
