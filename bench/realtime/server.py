"""Run PeerHub for the real-time benchmarks: the same app and the same uvicorn call as
``peerhub serve`` (the WebSocket server in uvicorn's event loop), with the bench's
limits (rate limits raised so the load generator is not refused).

    python bench/realtime/server.py --port 8100 --ws-port 8101

Settings come from the usual PEERHUB_* variables (database, Redis, secret key).
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import uvicorn

from peerhub.app import create_app
from peerhub.config import load_settings
from peerhub.realtime.config import RealtimeConfig


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ws-port", type=int, required=True)
    parser.add_argument("--send-rate", type=float, default=1000.0)
    parser.add_argument("--write-batch", type=int, default=256)
    parser.add_argument("--pg-writers", type=int, default=RealtimeConfig().pg_writers)
    parser.add_argument(
        "--no-gc-tuning", action="store_true", help="keep Python's default collector settings"
    )
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    logging.basicConfig(level=logging.WARNING)
    config = RealtimeConfig(
        send_rate=args.send_rate,
        send_burst=int(args.send_rate * 2) + 10,
        frame_rate=args.send_rate * 4,
        frame_burst=int(args.send_rate * 8) + 100,
        max_sockets=50_000,
        sockets_per_user=20,
        write_batch=args.write_batch,
        pg_writers=args.pg_writers,
        freeze_gc=not args.no_gc_tuning,
        # Idle connections: the library's keepalive pings stay on (20 s).
    )
    settings = load_settings()
    settings = settings.with_overrides(
        base_url=f"http://127.0.0.1:{args.port}",
        allowed_origins=(f"http://127.0.0.1:{args.port}", "http://bench.peerhub.test"),
        extra={"realtime": config, "ws_port": args.ws_port, "ws_host": "127.0.0.1"},
    )
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=args.port,
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
