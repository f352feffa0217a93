"""The moderation frames over HTTP (``POST /api/moderation/{type}``) do what the same
frame does over a socket: the same rows, audit lines, events and private frames, and
the same refusals (the same code and words), with an HTTP status for each."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import SignIn
from peerhub.moderation.models import ModerationEvent, Sanction
from tests.realtime.conftest import Client, RTServer, World, check_frame

Sessions = async_sessionmaker[AsyncSession]
Post = Callable[..., Awaitable[httpx.Response]]
_refs = itertools.count(1)


async def act(client: Client, frame_type: str, **fields: Any) -> dict[str, Any]:
    ref = f"h{next(_refs)}"
    await client.send(frame_type, ref=ref, **fields)
    return await client.expect(("done", "error"), ref=ref)


@pytest.fixture
async def post_as(
    server: RTServer, world: World, sessions: Sessions
) -> AsyncIterator[Callable[[str], Awaitable[Post]]]:
    clients: list[httpx.AsyncClient] = []

    async def open_as(name: str) -> Post:
        async with sessions() as db:
            csrf = await db.scalar(
                select(SignIn.csrf_token).where(SignIn.id == world.sign_in_ids[name])
            )
        http = httpx.AsyncClient(base_url=server.base)
        http.cookies.set(server.settings.sign_in_cookie_name, world.tokens[name])
        clients.append(http)

        async def post(frame_type: str, **fields: Any) -> httpx.Response:
            return await http.post(
                f"/api/moderation/{frame_type}",
                json=fields,
                headers={"X-CSRF-Token": str(csrf), "Origin": server.base},
            )

        return post

    yield open_as
    for http in clients:
        await http.aclose()


async def timeouts(sessions: Sessions, room: str) -> dict[str, tuple[str, str | None]]:
    async with sessions() as db:
        rows = await db.execute(
            select(Sanction.user_id, Sanction.reason, Sanction.created_by).where(
                Sanction.group_id == room, Sanction.kind == "timeout"
            )
        )
        return {user: (reason, by) for user, reason, by in rows}


async def audit(sessions: Sessions, room: str) -> list[tuple[str, str | None, str | None]]:
    async with sessions() as db:
        rows = await db.execute(
            select(ModerationEvent.action, ModerationEvent.actor_id, ModerationEvent.subject_id)
            .where(ModerationEvent.group_id == room)
            .order_by(ModerationEvent.id)
        )
        return [(a, actor, subject) for a, actor, subject in rows]


async def test_a_time_out_over_http_has_the_effect_of_the_frame(
    connect_as: Any, post_as: Any, world: World, sessions: Sessions
) -> None:
    room, users = world.group_id, world.users
    ana, ben, mo = [await connect_as(name) for name in ("ana", "ben", "mo")]
    for client in (ana, ben, mo):
        await client.join(room)
    post = await post_as("mo")

    # Ana over HTTP, Ben over the socket: the same action, the same reason.
    answer = await post("mod.timeout", room=room, user=users["ana"], minutes=5, reason="Calm")
    assert answer.status_code == 200, answer.text
    by_http = answer.json()
    check_frame(by_http)
    by_socket = await act(mo, "mod.timeout", room=room, user=users["ben"], minutes=5, reason="Calm")
    del by_socket["ref"]
    assert by_http == {**by_socket, "user": users["ana"]}

    # The same rows and audit lines...
    assert await timeouts(sessions, room) == {
        users["ana"]: ("Calm", users["mo"]),
        users["ben"]: ("Calm", users["mo"]),
    }
    assert await audit(sessions, room) == [
        ("timeout", users["mo"], users["ana"]),
        ("timeout", users["mo"], users["ben"]),
    ]
    # ...the same private frame to the person, the same event in the room's log...
    for client in (ana, ben):
        sanction = await client.expect("sanction")
        assert (sanction["kind"], sanction["reason"]) == ("timeout", "Calm")
    for who in ("ana", "ben"):
        await mo.expect(
            "message", where=lambda f, w=who: f["data"].get("user", {}).get("id") == users[w]
        )
    # ...the consoles told, and the rules applied at once in this process.
    await mo.expect("mod.changed", what="mod.timeout")
    for client in (ana, ben):
        await client.send("send", room=room, client_id=f"c-{id(client)}", body="Hello")
        assert (await client.expect("error"))["code"] == "timed_out"


async def test_refusals_over_http_are_the_frames_refusals(
    connect_as: Any, post_as: Any, world: World
) -> None:
    room, users = world.group_id, world.users
    sockets = {name: await connect_as(name) for name in ("ana", "mo")}
    posts = {name: await post_as(name) for name in ("ana", "mo")}
    cases: list[tuple[str, str, dict[str, Any], str, int]] = [
        # who, frame, fields, the refusal's code, its HTTP status
        (
            "ana",
            "mod.timeout",
            {"room": room, "user": users["ben"], "minutes": 5},
            "forbidden",
            403,
        ),
        (
            "mo",
            "mod.timeout",
            {"room": room, "user": users["olga"], "minutes": 5},
            "forbidden",
            403,
        ),
        ("mo", "mod.ban", {"room": room, "user": users["mo"]}, "forbidden", 403),
        (
            "mo",
            "mod.timeout",
            {"room": world.other_group_id, "user": users["out"], "minutes": 5},
            "not_found",
            404,
        ),
        ("mo", "mod.unban", {"room": room, "user": users["ana"]}, "not_banned", 409),
        ("mo", "mod.untimeout", {"room": room, "user": users["ana"]}, "not_timed_out", 409),
        ("mo", "mod.unpin", {"room": room}, "unchanged", 409),
        ("mo", "mod.redact", {"room": room, "seq": 999}, "not_found", 404),
        (
            "mo",
            "mod.resolve",
            {"room": room, "report": "x1", "outcome": "maybe"},
            "bad_outcome",
            422,
        ),
        ("ana", "report.create", {"room": room, "category": "nope"}, "bad_category", 422),
        ("ana", "me.block", {"user": users["ana"]}, "forbidden", 403),
        ("ana", "me.mute", {"kind": "colour", "value": "red"}, "bad_frame", 422),
        # Refused by the frame's struct: the same words as the socket's.
        ("mo", "mod.timeout", {"room": room, "user": users["ana"], "minutes": 0}, "bad_frame", 422),
        ("mo", "mod.slow", {"room": room}, "bad_frame", 422),
    ]
    for who, frame_type, fields, code, status in cases:
        by_socket = await act(sockets[who], frame_type, **fields)
        answer = await posts[who](frame_type, **fields)
        assert (by_socket["type"], by_socket["code"]) == ("error", code), (frame_type, by_socket)
        assert answer.status_code == status, (frame_type, answer.text)
        assert answer.json() == {"error": by_socket["message"], "code": code}, frame_type


async def test_the_routes_are_guarded_as_every_route(
    server: RTServer, post_as: Any, world: World
) -> None:
    fields = {"room": world.group_id, "user": world.users["ana"], "minutes": 5}
    async with httpx.AsyncClient(base_url=server.base) as anonymous:
        nobody = await anonymous.post(
            "/api/moderation/mod.timeout", json=fields, headers={"Origin": server.base}
        )
        # The CSRF check answers first: no token, no entry (signed in or not).
        assert nobody.status_code == 403
        anonymous.cookies.set(server.settings.sign_in_cookie_name, world.tokens["mo"])
        no_token = await anonymous.post(
            "/api/moderation/mod.timeout", json=fields, headers={"Origin": server.base}
        )
        assert no_token.status_code == 403
    post = await post_as("mo")
    not_json = await post("mod.queue")
    assert not_json.status_code == 422  # {} has no room: the frame's struct refuses it
    queue = await post("mod.queue", room=world.group_id)
    assert queue.status_code == 200
    check_frame(queue.json())
    assert {m["name"] for m in queue.json()["members"]} >= {"Ana", "Mo"}
