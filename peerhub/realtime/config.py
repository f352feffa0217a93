"""Real-time settings: where the WebSocket server listens, and every bound.

peerhub/config.py belongs to the whole application; the real-time server reads
its own few variables here, and ``peerhub serve`` passes what it knows (the
address it listens on, ``--ws-port``) through ``Settings.extra``:

- ``PEERHUB_WS_PORT`` (or ``peerhub serve --ws-port``): the WebSocket port;
  default the HTTP port + 1. Without a port (a test app, a tool) no server listens,
  but the hub and the bus still run, so control events still reach other processes.
- ``PEERHUB_WS_PUBLIC_URL``: the URL browsers connect to when a reverse proxy
  routes ``/ws`` on the public host (``wss://peerhub.example.org/ws``). Default:
  the scheme and host of ``PEERHUB_BASE_URL`` (ws/wss) with the WebSocket port.
- ``PEERHUB_REDIS_NAMESPACE``: the prefix of this deployment's Redis channels
  (default: one of its own, see :mod:`peerhub.realtime.deployment`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from peerhub.config import ConfigError, Settings
from peerhub.realtime.deployment import configured_namespace


@dataclass(frozen=True, slots=True)
class RealtimeConfig:
    host: str = "127.0.0.1"
    port: int | None = None  # None: no WebSocket server in this process
    public_url: str | None = None
    # The prefix of this deployment's channels on the bus (PEERHUB_REDIS_NAMESPACE);
    # None: made from the deployment id and the database (peerhub/realtime/deployment.py).
    namespace: str | None = None
    # Transport limits (bytes, seconds).
    max_frame: int = 64 * 1024
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    write_limit: int = 64 * 1024
    # Per-socket send queue: frames and bytes waiting behind a full TCP buffer.
    queue_frames: int = 512
    queue_bytes: int = 1024 * 1024
    # A coalesced "batch" frame carries at most this many bytes of frames.
    batch_bytes: int = 48 * 1024
    # Sockets per person (per process), and per process in all.
    sockets_per_user: int = 10
    max_sockets: int = 20_000
    rooms_per_socket: int = 50
    # Messages: a token bucket per person per room.
    send_rate: float = 1.0
    send_burst: int = 10
    # Typing notices and read positions: a bucket per person per room each.
    typing_rate: float = 0.5
    typing_burst: int = 3
    read_rate: float = 2.0
    read_burst: int = 10
    # Frames of any kind per socket (errors included), before the socket is closed.
    frame_rate: float = 30.0
    frame_burst: int = 120
    error_burst: int = 30
    # Resume and history. A catch-up is read from the log this many events at a time
    # and sent at the pace the socket drains (hub.Feed.catch_up).
    resume_max: int = 500
    page_size: int = 50
    ring_size: int = 128
    catch_up_page: int = 100
    # A socket whose send has not left for this long has stopped reading: 1013. (Its
    # pings cannot pass a full buffer either, so the library's ping timeout never fires.)
    stall_timeout: float = 20.0
    # How long a closing socket has to take its close frame (after a 1013: to read what
    # was before it) before its TCP connection is dropped; the client then sees 1006.
    close_grace: float = 5.0
    # Shutdown (docs/realtime.md, "Stopping"): at most this long to commit what is
    # queued and send its acks, then this long for sockets to take their 1001.
    stop_flush: float = 2.0
    stop_close: float = 1.5
    # Writes: commands waiting for the writer, and how many go in one transaction.
    write_queue: int = 10_000
    write_batch: int = 256
    # Transactions in flight at once on PostgreSQL (SQLite: always one).
    pg_writers: int = 1
    # Periodic work (seconds): sign-in and membership re-checks, the log tail
    # check that recovers events the bus lost, presence refresh and expiry.
    revalidate_every: float = 20.0
    tail_check_every: float = 2.0
    presence_every: float = 20.0
    presence_ttl: float = 60.0
    presence_flush: float = 0.25
    # In-flight sends per socket (awaiting commit).
    inflight_per_socket: int = 32
    # Move start-up objects out of the garbage collector's full passes (a serving
    # process; tests that start many servers in one process turn it off).
    freeze_gc: bool = True
    gc_thresholds: tuple[int, int, int] = (50_000, 20, 100)

    def with_overrides(self, **changes: Any) -> RealtimeConfig:
        return replace(self, **changes)


def _port(value: Any, source: str) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {value!r} is not a port number") from exc
    if not 0 <= port <= 65535:
        raise ConfigError(f"{source}: {port} is not a port number")
    return port


def _public_url(value: str, source: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ConfigError(f"{source}: {value!r} must be a ws:// or wss:// URL")
    return value


def load(settings: Settings, env: Mapping[str, str] | None = None) -> RealtimeConfig:
    """The real-time config for these settings (``Settings.extra`` wins over the env)."""
    env = os.environ if env is None else env
    extra = settings.extra
    given = extra.get("realtime")
    config = given if isinstance(given, RealtimeConfig) else RealtimeConfig()
    port: int | None = config.port
    if extra.get("ws_port") is not None:
        port = _port(extra["ws_port"], "--ws-port")
    elif port is None and env.get("PEERHUB_WS_PORT"):
        port = _port(env["PEERHUB_WS_PORT"], "PEERHUB_WS_PORT")
    elif port is None and extra.get("ws_default_port") is not None:
        port = _port(extra["ws_default_port"], "--port")
    host = str(extra.get("ws_host", config.host))
    public = extra.get("ws_public_url") or env.get("PEERHUB_WS_PUBLIC_URL") or config.public_url
    if public:
        public = _public_url(str(public), "PEERHUB_WS_PUBLIC_URL")
    namespace = configured_namespace(env) or config.namespace
    return replace(config, port=port, host=host, public_url=public, namespace=namespace)


def public_url(settings: Settings, config: RealtimeConfig, bound_port: int | None) -> str | None:
    """The absolute ws(s):// URL browsers should open, or None when no server runs."""
    if config.public_url:
        return config.public_url
    if bound_port is None:
        return None
    base = urlsplit(settings.base_url)
    scheme = "wss" if base.scheme == "https" else "ws"
    host = base.hostname or "127.0.0.1"
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return f"{scheme}://{host}:{bound_port}/ws"
