"""The sharing pages and the crisis plan name each group in the page's language: the
version its organisers gave for that language, else its own name marked with its own
``lang`` and ``dir`` (peerhub/sharing/names.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from peerhub import i18n
from peerhub.models import GroupText, SavedNeeds, User
from peerhub.sharing.models import GroupSharingChoice
from peerhub.sharing.rules import view_for
from tests.conftest import sign_up
from tests.finding.conftest import add_group

URDU_NAME = "روشنی حلقہ"
WELSH_NAME = "Cylch Roshni"
NOW = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)


async def test_a_groups_name_in_the_pages_language_or_marked_as_its_own(
    client: httpx.AsyncClient, sessions: Any
) -> None:
    await sign_up(client, "Name Reader", "correct horse battery staple")
    async with sessions() as db:
        me = await db.scalar(select(User).where(User.pseudonym == "Name Reader"))
        assert me is not None
    group = await add_group(
        sessions, URDU_NAME, join_policy="open", text_language="ur", members=(me.id,)
    )
    async with sessions() as db, db.begin():
        db.add(GroupText(group_id=group.id, language="cy", name=WELSH_NAME))

    for path in (
        "/account/sharing",
        "/account/crisis-plan",
        f"/account/sharing/groups/{group.slug}",
    ):
        english = await client.get(path)
        assert english.status_code == 200
        assert f'<span lang="ur" dir="rtl">{URDU_NAME}</span>' in english.text, path

        client.cookies.set(i18n.LANG_COOKIE, "cy")
        welsh = await client.get(path)
        assert '<html lang="cy"' in welsh.text
        assert WELSH_NAME in welsh.text and URDU_NAME not in welsh.text.split("<main")[1]

        client.cookies.set(i18n.LANG_COOKIE, "ur")
        urdu = await client.get(path)
        assert 'dir="rtl"' in urdu.text.split(">", 2)[1]
        assert URDU_NAME in urdu.text and '<span lang="ur"' not in urdu.text
        client.cookies.delete(i18n.LANG_COOKIE)

    # A <title> holds text only: the name, never markup.
    page = await client.get(f"/account/sharing/groups/{group.slug}")
    title = page.text.split("<title>")[1].split("</title>")[0]
    assert URDU_NAME in title and "&lt;span" not in title and "<span" not in title


async def test_what_a_card_shows_is_named_in_the_pages_language(
    client: httpx.AsyncClient, sessions: Any
) -> None:
    """Languages, communities and stage on a person's card: CLDR's names and the
    catalogue's labels in the page's language (the saved search keeps codes)."""
    await sign_up(client, "Card Holder", "correct horse battery staple")
    async with sessions() as db:
        me = await db.scalar(select(User).where(User.pseudonym == "Card Holder"))
        assert me is not None
    group = await add_group(sessions, "Card Circle", join_policy="open", members=(me.id,))
    async with sessions() as db, db.begin():
        db.add(
            SavedNeeds(
                user_id=me.id,
                needs={"languages": ["cy"], "communities": ["deaf"], "stage": "recovery"},
            )
        )
        for item in ("languages", "stage"):
            db.add(
                GroupSharingChoice(
                    group_id=group.id, user_id=me.id, audience="members", item=item, at=NOW
                )
            )
    async with sessions() as db:
        english = await view_for(db, me, "members", group.id)
        with i18n.using("cy"):
            welsh = await view_for(db, me, "members", group.id)
    assert (english["languages"], english["communities"], english["stage"]) == (
        ["Welsh"],
        ["Deaf"],
        "Recovery",
    )
    assert welsh["languages"] == ["Cymraeg"]
    i18n.enable_pseudo(True)
    try:
        async with sessions() as db:
            with i18n.using("en-XA"):
                pseudo = await view_for(db, me, "members", group.id)
    finally:
        i18n.enable_pseudo(False)
    assert pseudo["stage"] == i18n.pseudo("Recovery")
    assert pseudo["communities"] == [i18n.pseudo("Deaf")]
