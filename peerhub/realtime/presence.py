"""Who is in each room now, across processes, by pseudonym only.

Each process knows its own sockets. It publishes a *snapshot* of a room's local
people whenever it changes (at most once per flush interval) and every
``presence_every`` seconds; other processes keep each process's latest snapshot
until it expires (``presence_ttl``). The room's presence is the union. Snapshots,
not deltas, so a lost bus message or a killed process heals by itself.

Sockets get deltas (``presence`` frames with who joined and who left), computed
against what they were last told.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from peerhub.realtime.protocol import Person

Now = Callable[[], float]


@dataclass(slots=True)
class _Local:
    count: int
    person: Person


@dataclass(slots=True)
class RoomPresence:
    local: dict[str, _Local] = field(default_factory=dict)
    # node -> (expires at, user id -> person)
    remote: dict[str, tuple[float, dict[str, Person]]] = field(default_factory=dict)
    shown: dict[str, Person] = field(default_factory=dict)
    # The union, kept until something changes (it is read on every state check).
    cached: dict[str, Person] | None = None


class Presence:
    def __init__(self, ttl: float = 60.0, clock: Now = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self.rooms: dict[str, RoomPresence] = {}
        self.dirty: set[str] = set()  # union may have changed: tell local sockets
        self.changed: set[str] = set()  # local snapshot changed: tell other processes

    def _room(self, room: str) -> RoomPresence:
        found = self.rooms.get(room)
        if found is None:
            found = self.rooms[room] = RoomPresence()
        return found

    def add(self, room: str, person: Person) -> None:
        state = self._room(room)
        state.cached = None
        entry = state.local.get(person.id)
        if entry is None:
            state.local[person.id] = _Local(1, person)
            self.dirty.add(room)
            self.changed.add(room)
        else:
            entry.count += 1
            if entry.person != person:
                entry.person = person
                self.dirty.add(room)
                self.changed.add(room)

    def remove(self, room: str, user_id: str) -> None:
        state = self.rooms.get(room)
        if state is None:
            return
        entry = state.local.get(user_id)
        if entry is None:
            return
        state.cached = None
        entry.count -= 1
        if entry.count <= 0:
            del state.local[user_id]
            self.dirty.add(room)
            self.changed.add(room)

    def snapshot(self, room: str) -> list[Person]:
        state = self.rooms.get(room)
        return [e.person for e in state.local.values()] if state else []

    def on_remote(self, node: str, room: str, people: list[Person]) -> None:
        state = self.rooms.get(room)
        if state is None:
            return  # nobody here is in that room
        state.remote[node] = (self.clock() + self.ttl, {p.id: p for p in people})
        state.cached = None
        self.dirty.add(room)

    def forget_node(self, node: str) -> None:
        for room, state in self.rooms.items():
            if state.remote.pop(node, None) is not None:
                state.cached = None
                self.dirty.add(room)

    def expire(self) -> None:
        now = self.clock()
        for room, state in self.rooms.items():
            for node in [n for n, (until, _) in state.remote.items() if until < now]:
                del state.remote[node]
                state.cached = None
                self.dirty.add(room)

    def union(self, room: str) -> dict[str, Person]:
        """Everyone here, from every process (do not modify the result)."""
        state = self.rooms.get(room)
        if state is None:
            return {}
        if state.cached is not None:
            return state.cached
        out = {uid: e.person for uid, e in state.local.items()}
        for _, people in state.remote.values():
            for uid, person in people.items():
                known = out.get(uid)
                # The highest role wins if two processes disagree for a moment.
                if known is None or _rank(person.role) > _rank(known.role):
                    out[uid] = person
        state.cached = out
        return out

    def moderator_present(self, room: str) -> bool:
        return any(p.role in ("moderator", "organiser") for p in self.union(room).values())

    def diff(self, room: str) -> tuple[list[Person], list[str]]:
        """What joined and left since the last diff, and remember the new state."""
        state = self.rooms.get(room)
        if state is None:
            return [], []
        now = self.union(room)
        joined = [p for uid, p in now.items() if state.shown.get(uid) != p]
        left = [uid for uid in state.shown if uid not in now]
        state.shown = dict(now)
        return joined, left

    def drop_room(self, room: str) -> None:
        """No socket here is in the room any more."""
        self.rooms.pop(room, None)
        self.dirty.discard(room)


def _rank(role: str) -> int:
    return {"member": 1, "moderator": 2, "organiser": 3}.get(role, 0)
