"""Benchmark decoding one incoming room frame (parse, validate, the storable-text check),
and encoding the outgoing frames a room sends most.

Run:  .venv/bin/python bench/bench_frames.py [--root DIR] [--rounds 7] [--number 20000]

Every message a member sends passes ``peerhub.realtime.protocol.decode`` once, in the
server's single event loop, so its cost is paid per message at full throughput (2,000
messages/s in the real-time benchmark). This times it for the frames a room sees most:
a short ``send``, a longer ``send`` with non-ASCII text, a ``typing`` and a ``read``.
Then the way out: a ``message`` frame (encoded once per message, whatever the number
of readers), an ``ack`` and a ``history`` page of 50 messages.
``--root`` points at another checkout (for an A/B against older code: the same
frames, timed by the same script). Prints microseconds per frame: the median over
``--rounds`` rounds of ``--number`` decodes, and the fastest round.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

FRAMES = {
    "send, 74 ASCII characters": {
        "v": 1,
        "type": "send",
        "room": "r_abcdefgh12345678",
        "client_id": "c-0123456789abcdef",
        "body": "Hello everyone, how are you doing today? I had a good week at the group. ",
        "ref": "42",
    },
    "send, 400 characters of Urdu and Welsh": {
        "v": 1,
        "type": "send",
        "room": "r_abcdefgh12345678",
        "client_id": "c-0123456789abcdee",
        "body": ("آج میں بہتر محسوس کر رہا ہوں، شکریہ۔ " + "Diolch am wrando heddiw. ") * 7,
    },
    "typing": {"v": 1, "type": "typing", "room": "r_abcdefgh12345678"},
    "read": {"v": 1, "type": "read", "room": "r_abcdefgh12345678", "seq": 1234},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    sys.path.insert(0, str(args.root.resolve()))
    from peerhub.realtime import protocol

    print(f"| frame ({args.root}) | median µs | fastest µs |")
    print("|---|---:|---:|")
    for name, frame in FRAMES.items():
        raw = json.dumps(frame, ensure_ascii=False)
        try:
            protocol.decode(raw)
        except protocol.ProtocolError as exc:  # a frame this version does not take
            print(f"| {name} | refused: {exc.code} | |")
            continue
        times = timeit.repeat(partial(protocol.decode, raw), number=args.number, repeat=args.rounds)
        per = [t / args.number * 1e6 for t in times]
        print(f"| {name} | {statistics.median(per):.1f} | {min(per):.1f} |")
    at = datetime(2026, 11, 3, 18, 2, 11, 120000, tzinfo=UTC)
    view = protocol.MessageView(
        room="r_abcdefgh12345678",
        seq=1234,
        kind="text",
        sender_id="u_0123456789abcdef",
        sender_name="Ana",
        client_id="c-0123456789abcdef",
        body=str(FRAMES["send, 74 ASCII characters"]["body"]),
        status="visible",
        at=at,
    )
    page = [view] * 50
    encodes: dict[str, Callable[[], bytes]] = {
        "encode: message": partial(protocol.message, view),
        "encode: ack": partial(
            protocol.ack, view.room, view.client_id, 1234, "visible", at, duplicate=False
        ),
        "encode: history of 50": partial(protocol.history, view.room, 1235, page, True),
    }
    for name, encode in encodes.items():
        number = args.number // 10 if "history" in name else args.number
        times = timeit.repeat(encode, number=number, repeat=args.rounds)
        per = [t / number * 1e6 for t in times]
        print(f"| {name} | {statistics.median(per):.1f} | {min(per):.1f} |")


if __name__ == "__main__":
    main()
