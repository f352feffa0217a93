"""E-mails about join requests are outbox jobs (peerhub/notify/letters.py): recorded in
the answer's transaction with ids only, sent after the commit, and sent later when the
mail server was down, instead of being lost with a background task."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from peerhub.outbox.models import OutboxEntry
from tests.conftest import FakeClock, sign_up
from tests.groups.helpers import create_group, person, post, register_org, user_row, verify_org
from tests.notify.helpers import Mailbox, settled

SLUG = "tuesday-talk"


async def test_a_join_answer_email_survives_a_mail_server_that_is_down(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    app.state.sender = mailbox = Mailbox()
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    await verify_org(client, org_id)
    group_id = await create_group(client, org_id, join_policy="request")
    async with person(app, "River", email="river@example.org") as river:
        await post(river, f"/groups/{SLUG}/join", {}, json=True)
    river_id = (await user_row(app.state.ctx.sessions, "River")).id

    mailbox.failing = True
    answer = await post(
        client,
        f"/organise/groups/{group_id}/requests",
        {"user_id": river_id, "decision": "decline", "message": "Not this month, sorry."},
    )
    assert answer.status_code == 303  # the answer stands
    await settled(app)  # the loop sends letters, not the answer's request
    assert mailbox.sent == []
    async with app.state.ctx.sessions() as db:
        rows = list(await db.scalars(select(OutboxEntry).where(OutboxEntry.kind == "mail.letter")))
    assert len(rows) == 1 and rows[0].attempts == 1 and rows[0].last_error
    assert "Not this month" not in str(rows[0].payload)  # ids, never the message

    mailbox.failing = False
    clock.advance(seconds=5)  # past the first backoff
    await settled(app)
    assert [(to, subject) for to, subject, _ in mailbox.sent] == [
        ("river@example.org", "PeerHub: a group has answered your request")
    ]
    assert "Not this month, sorry." in mailbox.sent[0][2]
