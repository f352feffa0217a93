"""Load-generating WebSocket clients for bench/bench_realtime.py, one process each.

A worker opens its connections (each a real, authenticated PeerHub socket that has
subscribed to its room from seq 0), says "ready", waits for "go", sends its share
of the messages at a steady rate for the given time, keeps receiving until the
room has been quiet for a moment, and sends back what it saw:

- per message (by client id): how many sockets received it and the latest receipt
  (send-to-last-receipt latency; the send time travels in the body and every
  process reads the same CLOCK_MONOTONIC);
- per socket: messages received, duplicates (a seq not above the last one seen) and
  gaps (a seq jump), and its room's last seq.

With ``failover`` a socket whose server dies reconnects to the other server and
resumes from its last seq; a sender re-sends its unacknowledged messages there
with the same client ids.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlsplit

import uvloop
from websockets.speedups import apply_mask


class Closed(Exception):
    """The connection is gone."""


class FastWS(asyncio.Protocol):
    """A minimal RFC 6455 client for load generation: text frames, pings, close.

    The websockets client costs tens of microseconds per received frame in Python;
    with thousands of sockets on a 2-CPU machine that would measure the clients, not
    the server. This one parses frames straight from data_received. Servers do not
    fragment these frames, so fragments are not handled.
    """

    def __init__(self, on_text: Callable[[bytes], None]) -> None:
        self.on_text = on_text
        self.transport: Any = None
        self.buffer = bytearray()
        self.handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.open = False
        self.close_code: int | None = None
        self.close_reason = ""

    @classmethod
    async def connect(
        cls, url: str, origin: str, cookie: str | None, on_text: Callable[[bytes], None]
    ) -> FastWS:
        parts = urlsplit(url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"{url} names no host and port")
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(lambda: cls(on_text), parts.hostname, parts.port)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {parts.path or '/'} HTTP/1.1",
            f"Host: {parts.hostname}:{parts.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            f"Origin: {origin}",
        ]
        if cookie:
            lines.append(f"Cookie: {cookie}")
        proto.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await asyncio.wait_for(proto.handshake, 60)
        return proto

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's transports are not asyncio.Transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        if not self.handshake.done():
            self.handshake.set_exception(Closed("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n", 1)[0]
            del buf[: end + 4]
            if b" 101 " not in status:
                self.handshake.set_exception(Closed(status.decode(errors="replace")))
                assert self.transport is not None
                self.transport.close()
                return
            self.open = True
            self.handshake.set_result(None)
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length = struct.unpack_from("!H", buf, pos + 2)[0]
                head = 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = struct.unpack_from("!Q", buf, pos + 2)[0]
                head = 10
            if size - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            opcode = b0 & 0x0F
            if opcode == 1:
                self.on_text(payload)
            elif opcode == 9:
                self._send(0xA, payload)
            elif opcode == 8:
                if len(payload) >= 2:
                    self.close_code = struct.unpack("!H", payload[:2])[0]
                    self.close_reason = payload[2:].decode(errors="replace")
                self._send(0x8, payload[:2])
                assert self.transport is not None
                self.transport.close()
                break
        del buf[:pos]

    def _send(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            raise Closed("not open")
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        self.transport.write(head + mask + apply_mask(payload, mask))

    def send(self, text: str) -> None:
        self._send(0x1, text.encode())

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


@dataclass
class Member:
    token: str | None
    room: str
    sender: bool = False
    home: int = 0  # index of the server URL it connects to first


@dataclass
class Plan:
    urls: list[str]
    origin: str
    cookie: str
    members: list[Member]
    rate: float  # messages per second sent by this worker
    duration: float
    worker: int = 0
    mode: str = "peerhub"  # or "floor"
    failover: bool = False
    body_pad: int = 40
    # The share of this worker's senders whose every message holds a lone surrogate
    # (text no database can store): refused at the door, never failing anyone else's.
    odd_share: float = 0.0
    quiet: float = 1.5
    max_drain: float = 30.0


@dataclass
class Sock:
    index: int
    member: Member
    server: int
    ws: FastWS | None = None
    last_seq: int = 0
    received: int = 0
    duplicates: int = 0
    gaps: int = 0
    reconnects: int = 0
    synced: asyncio.Event = field(default_factory=asyncio.Event)
    unacked: dict[str, str] = field(default_factory=dict)
    floor_seq: int = 0
    odd: bool = False


class Worker:
    def __init__(self, plan: Plan, pipe: Connection) -> None:
        self.plan = plan
        self.pipe = pipe
        self.socks = [Sock(i, m, m.home) for i, m in enumerate(plan.members)]
        senders = [s for s in self.socks if s.member.sender]
        for sock in senders[: round(len(senders) * plan.odd_share)]:
            sock.odd = True
        self.odd_sent = 0
        # client id -> [receipts, latest receipt, latest cross-process receipt, sent at]
        self.latency: dict[str, list[float]] = {}
        self.acks = 0
        self.errors: dict[str, int] = {}
        self.sent = 0
        self.last_frame = time.monotonic()
        self.stopping = False
        self.tasks: list[asyncio.Task[None]] = []
        self.write_failures = 0
        self.skipped = 0

    # --- connections ---------------------------------------------------------------------

    async def open(self, sock: Sock) -> None:
        plan = self.plan
        cookie = f"{plan.cookie}={sock.member.token}" if sock.member.token is not None else None
        sock.synced.clear()
        ws = await FastWS.connect(
            plan.urls[sock.server], plan.origin, cookie, lambda raw: self.take(sock, raw)
        )
        sock.ws = ws
        if plan.mode == "peerhub":
            frame = {"v": 1, "type": "subscribe", "room": sock.member.room, "after": sock.last_seq}
            ws.send(json.dumps(frame))
        else:
            sock.synced.set()
        self.tasks.append(asyncio.get_running_loop().create_task(self.watch(sock, ws)))

    async def watch(self, sock: Sock, ws: FastWS) -> None:
        await ws.closed
        if self.stopping or not self.plan.failover:
            return
        # The server went away: resume on the other one.
        sock.ws = None
        sock.server = (sock.server + 1) % len(self.plan.urls)
        sock.reconnects += 1
        for attempt in range(100):
            try:
                await self.open(sock)
                return
            except (OSError, Closed, TimeoutError):
                await asyncio.sleep(0.05 * (attempt + 1))

    def take(self, sock: Sock, raw: bytes) -> None:
        now = time.monotonic()
        self.last_frame = now
        frame = json.loads(raw)
        for one in frame["frames"] if frame["type"] == "batch" else (frame,):
            kind = one["type"]
            if kind == "message":
                seq = one["seq"]
                if seq <= sock.last_seq:
                    sock.duplicates += 1
                    continue
                if seq > sock.last_seq + 1:
                    sock.gaps += seq - sock.last_seq - 1
                sock.last_seq = seq
                sock.received += 1
                body = one.get("body") or ""
                cid = one["client_id"]
                try:
                    sent_at = float(body.split(" ", 1)[0])
                except ValueError:
                    continue
                delay = now - sent_at
                entry = self.latency.get(cid)
                if entry is None:
                    entry = self.latency[cid] = [0, 0.0, 0.0, sent_at]
                entry[0] += 1
                entry[1] = max(entry[1], delay)
                origin = cid.split("-", 2)[1]  # the sender's server when it sent
                if origin != f"s{sock.server}":
                    entry[2] = max(entry[2], delay)
            elif kind == "synced":
                sock.last_seq = max(sock.last_seq, one["seq"])
                sock.synced.set()
                for data in list(sock.unacked.values()):  # re-send with the same ids
                    self.write(sock, data)
            elif kind == "ack":
                sock.unacked.pop(one["client_id"], None)
                self.acks += 1
            elif kind == "error":
                self.errors[one["code"]] = self.errors.get(one["code"], 0) + 1
                if "client_id" in one:
                    sock.unacked.pop(one["client_id"], None)

    def write(self, sock: Sock, data: str) -> None:
        if sock.ws is None:
            self.write_failures += 1
            return
        try:
            sock.ws.send(data)
        except Closed:
            self.write_failures += 1  # re-sent after a reconnect (failover), else unacked

    # --- sending ------------------------------------------------------------------------

    def senders(self) -> Iterator[Sock]:
        chosen = [s for s in self.socks if s.member.sender]
        while chosen:
            yield from chosen

    def send_one(self, sock: Sock) -> None:
        plan = self.plan
        cid = f"w{plan.worker}-s{sock.server}-{self.sent:08d}"
        self.sent += 1
        body = f"{time.monotonic():.6f} " + "x" * plan.body_pad
        if sock.odd:
            body += " \ud800"  # a lone surrogate: json.dumps sends it as an escape
            self.odd_sent += 1
        if plan.mode == "peerhub":
            data = json.dumps(
                {"v": 1, "type": "send", "room": sock.member.room, "client_id": cid, "body": body}
            )
            sock.unacked[cid] = data
        else:
            sock.floor_seq += 1
            data = json.dumps(
                {
                    "v": 1,
                    "type": "message",
                    "room": sock.member.room,
                    "seq": sock.floor_seq,
                    "kind": "text",
                    "sender": {"id": "floor", "name": "Floor"},
                    "client_id": cid,
                    "body": body,
                    "status": "visible",
                    "at": "2026-11-03T18:00:00.000Z",
                }
            )
        if sock.synced.is_set():
            self.write(sock, data)
        else:
            self.skipped += 1

    async def run_senders(self) -> None:
        plan = self.plan
        if plan.rate <= 0:
            return
        start = time.monotonic()
        end = start + plan.duration
        chooser = self.senders()
        done = 0
        while True:
            now = time.monotonic()
            if now >= end:
                break
            due = int((now - start) * plan.rate) - done
            for _ in range(due):
                self.send_one(next(chooser))
            done += max(due, 0)
            await asyncio.sleep(0.002)

    async def main(self) -> None:
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        gate = asyncio.Semaphore(64)
        failed = 0

        async def open_one(sock: Sock) -> None:
            nonlocal failed
            async with gate:
                for attempt in range(5):
                    try:
                        await self.open(sock)
                        await asyncio.wait_for(sock.synced.wait(), 60)
                        return
                    except (OSError, Closed, TimeoutError):
                        await asyncio.sleep(0.2 * (attempt + 1))
                failed += 1

        await asyncio.gather(*(open_one(s) for s in self.socks))
        loop = asyncio.get_running_loop()
        self.pipe.send(("ready", len(self.socks) - failed, failed))
        while True:
            command = await loop.run_in_executor(None, self.pipe.recv)
            if command == "stop":
                break
            if command == "go":
                await self.run_senders()
                drain_end = time.monotonic() + self.plan.max_drain
                while time.monotonic() < drain_end:
                    await asyncio.sleep(0.1)
                    if time.monotonic() - self.last_frame > self.plan.quiet:
                        break
                self.pipe.send(("result", self.report()))
        self.stopping = True
        for sock in self.socks:
            if sock.ws is not None:
                sock.ws.abort()
        for task in self.tasks:
            task.cancel()

    def report(self) -> dict[str, Any]:
        return {
            "latency": self.latency,
            "sent": self.sent,
            "odd_sent": self.odd_sent,
            "acks": self.acks,
            "errors": self.errors,
            "unacked": sum(len(s.unacked) for s in self.socks),
            "write_failures": self.write_failures,
            "skipped_unsynced": self.skipped,
            "closed_by_server": [
                f"{s.ws.close_code} {s.ws.close_reason}"
                for s in self.socks
                if s.ws is not None and s.ws.close_code
            ],
            "socks": [
                (s.member.room, s.received, s.duplicates, s.gaps, s.last_seq, s.reconnects)
                for s in self.socks
            ],
        }


def run(plan: Plan, pipe: Connection) -> None:
    uvloop.run(Worker(plan, pipe).main())
