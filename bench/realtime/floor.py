"""The floor: the bare ``websockets`` library relaying every frame it receives, as the
same bytes, to every connected client with ``broadcast`` (uvloop, no compression).
No authentication, no parsing, no database: what PeerHub's fan-out is compared with.

    python bench/realtime/floor.py --port 8200
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource

import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve


async def run(port: int) -> None:
    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            while True:
                frame = await ws.recv(decode=False)
                broadcast(clients, frame, text=True)
        except Exception:  # noqa: S110 - a closed client just leaves
            pass
        finally:
            clients.discard(ws)

    async with serve(
        handler, "127.0.0.1", port, compression=None, max_size=64 * 1024, server_header=None
    ):
        await asyncio.Future()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(run(args.port))


if __name__ == "__main__":
    main()
