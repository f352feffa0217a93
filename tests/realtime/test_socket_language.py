"""Words on the socket in its person's language (docs/protocol.md, "Language"): the
handshake chooses it as a page's is chosen, and each socket reads its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import i18n
from peerhub.config import Settings
from peerhub.models import User
from peerhub.moderation.models import ModerationEvent
from peerhub.realtime.protocol import MessageView
from tests.conftest import make_settings
from tests.realtime.conftest import Client, RTServer, World, in_server

PSEUDO = "en-XA"


@pytest.fixture
def rt_settings(db_url: str, tmp_path: Path) -> Iterator[Settings]:
    yield make_settings(db_url, tmp_path, pseudo_locale=True)
    i18n.enable_pseudo(False)


async def open_with(server: RTServer, token: str, query: str = "") -> Client:
    url = server.ws_url
    server.ws_url = url + query
    try:
        return await Client.open(server, token)
    finally:
        server.ws_url = url


async def not_subscribed(client: Client, room: str, client_id: str) -> str:
    await client.send("send", room=room, client_id=client_id, body="hello")
    error = await client.expect("error", client_id=client_id)
    assert error["code"] == "not_subscribed"  # codes stay as they are
    message: str = error["message"]
    return message


async def test_each_socket_reads_its_own_language(server: RTServer, world: World) -> None:
    pseudo = await open_with(server, world.tokens["ana"], f"?lang={PSEUDO}")
    english = await open_with(server, world.tokens["ben"])
    try:
        text = "Subscribe to the room first."
        assert await not_subscribed(pseudo, world.group_id, "lang-000001") == i18n.pseudo(text)
        assert await not_subscribed(english, world.group_id, "lang-000002") == text
    finally:
        pseudo.abort()
        english.abort()


async def test_the_accounts_language_unless_the_page_says_otherwise(
    server: RTServer, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as db, db.begin():
        await db.execute(update(User).where(User.id == world.users["ana"]).values(language=PSEUDO))
    text = "Subscribe to the room first."
    account = await open_with(server, world.tokens["ana"])
    page = await open_with(server, world.tokens["ana"], "?lang=en-GB")
    try:
        assert await not_subscribed(account, world.group_id, "lang-000003") == i18n.pseudo(text)
        assert await not_subscribed(page, world.group_id, "lang-000004") == text
    finally:
        account.abort()
        page.abort()


async def test_a_close_reason_from_elsewhere_is_in_the_sockets_language(
    server: RTServer, world: World
) -> None:
    ana = await open_with(server, world.tokens["ana"], f"?lang={PSEUDO}")
    await ana.join(world.group_id)
    reason = "You have been banned from this group."

    async def ban() -> None:
        await server.rt.revoke_membership(world.group_id, world.users["ana"], reason=reason)

    await in_server(server, ban)
    code, said = await ana.closed()
    assert code == 1008 and said == i18n.pseudo(reason)


async def test_a_name_that_is_gone_is_someone_in_the_readers_language(
    server: RTServer, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The console's audit log names a person whose account is gone "Someone" in the
    moderator's language; a message whose writer's name is gone goes out with no
    sender, for each page to say "Someone" in its own language (room.js)."""
    gone = "00000000-0000-4000-8000-000000000000"  # no such account
    async with sessions() as db, db.begin():
        db.add(
            ModerationEvent(group_id=world.group_id, actor_id=gone, action="lock", subject_id=gone)
        )
    mo = await open_with(server, world.tokens["mo"], f"?lang={PSEUDO}")
    english = await open_with(server, world.tokens["olga"])
    try:
        for client in (mo, english):
            await client.join(world.group_id)
            await client.send("mod.queue", room=world.group_id)
        pseudo_row = (await mo.expect("mod.queue"))["audit"][0]
        english_row = (await english.expect("mod.queue"))["audit"][0]
    finally:
        mo.abort()
        english.abort()
    assert pseudo_row["actor"] == {"id": gone, "name": i18n.pseudo("Someone")}
    assert pseudo_row["subject"] == {"id": gone, "name": i18n.pseudo("Someone")}
    assert english_row["actor"] == {"id": gone, "name": "Someone"}
    nameless = MessageView(
        room=world.group_id,
        seq=1,
        kind="text",
        sender_id=gone,
        sender_name=None,
        client_id="c-1",
        body="hello",
        status="visible",
        at=datetime.now(UTC),
    )
    assert nameless.as_dict()["sender"] is None
    named = replace(nameless, sender_name="Ana")
    assert named.as_dict()["sender"] == {"id": gone, "name": "Ana"}
