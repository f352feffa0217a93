"""Issue 9, point 6 on the group's form: organisers choose whether a new member's first
messages wait for a moderator, and how many. Stored, shown again, audited, and a bad
number is a 422 naming the field (both databases)."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select

from peerhub.groups import newcomer_review
from peerhub.models import AuditEvent
from tests.conftest import sign_up
from tests.groups.helpers import create_group, group_form, post, register_org


def checked(html: str, name: str) -> str | None:
    found = re.search(rf'name="{name}" value="([a-z]+)" checked', html)
    return found.group(1) if found else None


async def test_organisers_choose_how_new_members_first_messages_are_read(
    client: httpx.AsyncClient, app: Any, sessions: Any
) -> None:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    blank = await client.get(f"/organise/organisations/{org_id}/groups/new")
    assert checked(blank.text, "newcomer_review") == "auto"
    assert 'id="newcomer_messages" name="newcomer_messages" type="text" value="3"' in blank.text

    # The defaults: on for a group that welcomes people approaching crisis, off otherwise.
    crisis = await create_group(client, org_id, stages=["approaching_crisis", "recovery"])
    calm = await create_group(client, org_id, name="Calm Circle")
    async with sessions() as db:
        assert (await newcomer_review.review_of(db, crisis)).held_messages == 3
        assert (await newcomer_review.review_of(db, calm)).held_messages == 0

    # An organiser's choice is stored and shown again.
    own = await create_group(
        client, org_id, name="Careful Circle", newcomer_review="on", newcomer_messages="5"
    )
    async with sessions() as db:
        review = await newcomer_review.review_of(db, own)
    assert (review.mode, review.messages, review.held_messages) == ("on", 5, 5)
    edit = await client.get(f"/organise/groups/{own}/edit")
    assert checked(edit.text, "newcomer_review") == "on"
    assert 'name="newcomer_messages" type="text" value="5"' in edit.text

    saved = await post(
        client,
        f"/organise/groups/{crisis}/edit",
        {**group_form(), "stages": ["approaching_crisis"], "newcomer_review": "off"},
    )
    assert saved.status_code == 303, saved.text
    async with sessions() as db:
        assert (await newcomer_review.review_of(db, crisis)).held_messages == 0
        actions = list(
            await db.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.action == "group.newcomer_review_changed"
                )
            )
        )
    assert len(actions) == 2  # "Careful Circle" at creation, then this change

    for field, value in (
        ("newcomer_messages", "0"),
        ("newcomer_messages", "21"),
        ("newcomer_messages", "three"),
        ("newcomer_review", "sometimes"),
    ):
        refused = await post(client, f"/organise/groups/{own}/edit", {**group_form(), field: value})
        assert refused.status_code == 422, (field, value)
        assert f'id="{field}-error"' in refused.text, (field, value)
