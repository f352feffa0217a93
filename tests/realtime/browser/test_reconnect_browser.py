"""Issue 10, point 3, in Chromium: the browser client treats 1006 (a dropped
connection: what a client that had stopped reading sees) as it treats 1013 (fell
behind): it reconnects at once and resumes, missing nothing."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.conftest import run_sync
from tests.realtime.conftest import Client, RTServer, World

pytestmark = pytest.mark.browser

START = """async (room) => {
  const { RealtimeClient } = await import("/static/js/realtime.js");
  const client = new RealtimeClient();
  const seen = { statuses: [], seqs: [] };
  window.__seen = seen;
  window.__client = client;
  client.addEventListener("status", (event) => seen.statuses.push(event.detail));
  client.addEventListener("frame", (event) => {
    if (event.detail.type === "message") seen.seqs.push(event.detail.seq);
  });
  client.follow(room, null);
  await client.start();
}"""


def in_server(server: RTServer, fn: Any) -> Any:
    loop = server.rt.loop
    assert loop is not None
    return asyncio.run_coroutine_threadsafe(fn(), loop).result(10)


def opened(page: Any) -> int:
    return int(page.evaluate("window.__seen.statuses.filter((s) => s.state === 'open').length"))


def wait_until(check: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_client_reconnects_at_once_after_1006_as_after_1013_and_resumes(
    person: Any, room_server: RTServer, room_world: World
) -> None:
    page = person("ana")
    page.goto(room_server.base + "/groups/tuesday-talk/room")
    page.get_by_text("Connected.").wait_for()
    page.evaluate(START, room_world.group_id)
    wait_until(lambda: opened(page) == 1)
    user = room_world.users["ana"]
    sent = 0

    async def say(body: str, client_id: str) -> None:
        ben = await Client.open(room_server, room_world.tokens["ben"])
        await ben.join(room_world.group_id)
        await ben.say(room_world.group_id, body, client_id)
        await ben.close()

    for round_no, code in enumerate([1006, 1013] * 4):
        before = opened(page)

        async def drop(code: int = code) -> None:
            for peer in room_server.rt.hub.peers_of(user):
                if code == 1006:
                    peer.conn.transport.abort()  # no close frame: the browser sees 1006
                else:
                    peer.close(1013, "Too far behind; reconnect and resume.")

        in_server(room_server, drop)
        sent += 1
        run_sync(say, f"while away {round_no}", f"away-{round_no:08d}")
        wait_until(lambda b=before: opened(page) > b)
        waits = page.evaluate(
            "window.__seen.statuses.filter((s) => s.state === 'waiting')"
            ".map((s) => [s.code, s.retryIn])"
        )
        assert waits[-1][0] == code
        assert waits[-1][1] < 250, f"after {code} it waited {waits[-1][1]:.0f} ms, not at once"
    # Resumed each time: every message, once, in order.
    wait_until(lambda: len(page.evaluate("window.__seen.seqs")) >= sent)
    assert page.evaluate("window.__seen.seqs") == list(range(1, sent + 1))
