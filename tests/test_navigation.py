"""Finding your way (issue 9, points 7 to 10): where each role lands after sign-in,
its menu entry, the way into a group's room, "Your groups", "Your rooms", and the
links that used to lead to a refusal. The crawl of every link is tests/test_links.py.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from peerhub.models import Group, GroupMember, Organisation, OrganisationOrganiser, User
from peerhub.moderation.models import CrisisAlert, Report
from peerhub.realtime.models import Room, RoomMessage
from peerhub.realtime.protocol import Person
from peerhub.web import questions
from tests.conftest import (
    BASE,
    FakeClock,
    csrf_token,
    enrol_2fa,
    post_form,
    sign_up,
    totp_code,
)
from tests.finding.conftest import add_group

PASSWORD = "a long test password"


@pytest.fixture
def settings(db_url: str, tmp_path: Any) -> Any:
    """The app with its WebSocket listener, so room pages answer as in production."""
    from tests.conftest import make_settings

    return make_settings(db_url, tmp_path, extra={"ws_port": 0, "ws_host": "127.0.0.1"})


async def _new_client(app: Any, number: int) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(f"203.0.113.{60 + number}", 50000))
    return httpx.AsyncClient(transport=transport, base_url=BASE)


async def _user_id(app: Any, pseudonym: str) -> str:
    async with app.state.ctx.sessions() as db:
        found = await db.scalar(select(User.id).where(User.pseudonym == pseudonym))
    assert found is not None
    return str(found)


class World:
    """One person per role, signed up (signed out again), around two groups."""

    def __init__(self, app: Any, clock: FakeClock) -> None:
        self.app = app
        self.clock = clock
        self.ids: dict[str, str] = {}
        self.groups: dict[str, Group] = {}

    async def build(self) -> World:
        sessions = self.app.state.ctx.sessions
        for number, role in enumerate(("member", "moderator", "organiser", "pro", "admin")):
            async with await _new_client(self.app, number) as c:
                await sign_up(c, f"Nav {role}", PASSWORD)
            self.ids[role] = await _user_id(self.app, f"Nav {role}")
        ids = self.ids
        self.groups["open"] = await add_group(
            sessions, "Open Circle", members=(ids["member"],), moderators=(ids["moderator"],)
        )
        self.groups["gated"] = await add_group(
            sessions, "Gated Circle", members=(ids["member"],), moderators=(ids["moderator"],)
        )
        async with sessions() as db, db.begin():
            for role in ("moderator", "organiser", "pro", "admin"):
                await enrol_2fa(sessions, ids[role])
            pro = await db.get(User, ids["pro"])
            admin = await db.get(User, ids["admin"])
            assert pro is not None and admin is not None
            pro.professional_status, pro.professional_role = "verified", "GP"
            admin.is_admin = True
            db.add(
                OrganisationOrganiser(
                    organisation_id=self.groups["open"].organisation_id, user_id=ids["organiser"]
                )
            )
            # The gated room takes members' messages only in a session, with a moderator.
            db.add(Room(id=self.groups["gated"].id, moderator_only=True, is_open=False))
        return self

    async def sign_in(
        self, client: httpx.AsyncClient, role: str, nxt: str | None = None
    ) -> httpx.Response:
        """Sign in through the pages (and the two-step code where the role needs it)."""
        data = {"pseudonym": f"Nav {role}", "password": PASSWORD}
        if nxt is not None:
            data["next"] = nxt
        response = await post_form(client, "/login", data, token=await csrf_token(client, "/login"))
        assert response.status_code == 303, response.text[:300]
        if response.headers["location"].startswith("/login/2fa"):
            page = await client.get(response.headers["location"])
            hidden = re.search(
                r'action="/login/2fa".*?name="next" value="([^"]*)"', page.text, re.S
            )
            self.clock.advance(seconds=30)  # each code works once
            response = await post_form(
                client,
                "/login/2fa",
                {"code": totp_code(self.clock()), "next": hidden.group(1) if hidden else ""},
                token=await csrf_token(client, response.headers["location"]),
            )
            assert response.status_code == 303, response.text[:300]
        return response


@pytest.fixture
async def world(app: Any, clock: FakeClock) -> World:
    return await World(app, clock).build()


@pytest.fixture
async def fresh(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with await _new_client(app, 20) as c:
        yield c


LANDINGS = {
    "member": "/account/groups",
    "moderator": "/moderate",
    "organiser": "/organise",
    "pro": "/referrals",
    "admin": "/admin",
}


@pytest.mark.parametrize("role", list(LANDINGS))
async def test_each_role_lands_on_its_own_work_after_sign_in(
    world: World, app: Any, role: str
) -> None:
    async with await _new_client(app, 30) as c:
        landed = await world.sign_in(c, role)
        assert landed.headers["location"] == LANDINGS[role]
        assert (await c.get(LANDINGS[role])).status_code == 200
        # Signed in already: the sign-in page sends them to their work too.
        again = await c.get("/login")
        assert again.status_code == 303 and again.headers["location"] == LANDINGS[role]
        going = await c.get("/login?next=/find")
        assert going.headers["location"] == "/find"
        elsewhere = await c.get("/login?next=https://evil.example/")
        assert elsewhere.headers["location"] == LANDINGS[role]


@pytest.mark.parametrize("role", ["member", "admin"])
async def test_a_safe_next_still_wins_and_an_unsafe_one_is_ignored(
    world: World, app: Any, role: str
) -> None:
    slug = world.groups["open"].slug
    async with await _new_client(app, 31) as c:
        landed = await world.sign_in(c, role, nxt=f"/groups/{slug}/join")
        assert landed.headers["location"] == f"/groups/{slug}/join"
    for unsafe in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        async with await _new_client(app, 32) as c:
            landed = await world.sign_in(c, role, nxt=unsafe)
            assert landed.headers["location"] == LANDINGS[role], unsafe


class NavLinks(HTMLParser):
    """The links of the main menu (the nav labelled "Main")."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "nav" and a.get("aria-label") == "Main":
            self.depth = 1
        elif tag == "nav" and self.depth:
            self.depth += 1
        elif tag == "a" and self.depth and a.get("href"):
            self.links.append(str(a["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self.depth:
            self.depth -= 1


def menu_of(html: str) -> list[str]:
    parser = NavLinks()
    parser.feed(html)
    return parser.links


async def test_the_menu_gives_each_role_its_own_work_and_nothing_else(
    world: World, app: Any, fresh: httpx.AsyncClient
) -> None:
    site = ["/", "/find", "/groups"]
    assert menu_of((await fresh.get("/")).text) == [*site, "/signup", "/login"]
    expected = {
        "member": ["/account/groups"],
        "moderator": ["/account/groups", "/moderate", "/duty"],
        "organiser": ["/account/groups", "/moderate", "/duty", "/organise"],
        "pro": ["/account/groups", "/referrals"],
        "admin": ["/account/groups", "/duty", "/admin"],
    }
    for number, (role, work) in enumerate(expected.items()):
        async with await _new_client(app, 40 + number) as c:
            await world.sign_in(c, role)
            links = menu_of((await c.get("/")).text)
            assert links == [*site, *work, "/account"], role
            for href in links:
                assert (await c.get(href)).status_code == 200, (role, href)


async def test_your_groups_links_each_room_with_its_next_meeting_and_whether_it_is_open(
    world: World, app: Any
) -> None:
    moderator = world.ids["moderator"]
    gated = world.groups["gated"]
    async with await _new_client(app, 50) as c:
        await world.sign_in(c, "member")
        page = (await c.get("/account/groups")).text
        for key in ("open", "gated"):
            assert f'href="/groups/{world.groups[key].slug}/room"' in page
        # The clock says Monday 2 November 2026, 09:00 UTC; both meet on Tuesdays at 18:00.
        assert page.count("Next session: <time") == 2
        assert "tomorrow, 18:00 to 19:30 GMT" in page
        # An ordinary room is open at any time; the gated one is closed outside sessions.
        assert "You can read and write in the room at any time." in page
        assert "Closed now" in page and "You can write during sessions" in page

        # A moderator opens the room, but is not in it: read only, said kindly.
        async with app.state.ctx.sessions() as db, db.begin():
            room = await db.get(Room, gated.id)
            assert room is not None
            room.is_open = True
        page = (await c.get("/account/groups")).text
        assert "Read only now" in page and "write once a moderator joins" in page
        # A moderator joins the room (presence, as the real-time service knows it).
        app.state.realtime.presence.add(gated.id, Person(moderator, "Nav moderator", "moderator"))
        page = (await c.get("/account/groups")).text
        assert "A session is on now, with a moderator." in page
        assert "Read only now" not in page and "Closed now" not in page
        # The account page lists the same groups with the same ways in.
        account = (await c.get("/account")).text
        assert f'href="/groups/{gated.slug}/room"' in account
        assert (await c.get(f"/groups/{gated.slug}/room")).status_code == 200


async def test_no_room_link_without_a_place_or_before_the_organisation_is_checked(
    world: World, app: Any
) -> None:
    sessions = app.state.ctx.sessions
    asked = await add_group(sessions, "Asking Circle")
    unchecked = await add_group(sessions, "Unchecked Circle")
    async with sessions() as db, db.begin():
        db.add(
            GroupMember(
                group_id=asked.id, user_id=world.ids["member"], role="member", status="requested"
            )
        )
        org = await db.get(Organisation, unchecked.organisation_id)
        assert org is not None
        org.verified_at = None
        db.add(OrganisationOrganiser(organisation_id=org.id, user_id=world.ids["organiser"]))
    async with await _new_client(app, 51) as c:
        await world.sign_in(c, "member")
        page = (await c.get("/account/groups")).text
        assert "Asked to join" in page
        assert f'href="/groups/{asked.slug}/room"' not in page
    async with await _new_client(app, 52) as c:
        await world.sign_in(c, "organiser")
        for path in ("/account/groups", "/moderate"):
            page = (await c.get(path)).text
            assert "Unchecked Circle" in page, path
            assert f'href="/groups/{unchecked.slug}/room"' not in page, path
            assert "once PeerHub has checked the organisation" in page, path
            assert f'href="/groups/{world.groups["open"].slug}/room"' in page, path


async def test_the_group_page_and_the_join_confirmation_lead_members_to_the_room(
    world: World, app: Any, fresh: httpx.AsyncClient
) -> None:
    group = world.groups["open"]
    room = f'href="/groups/{group.slug}/room"'
    assert room not in (await fresh.get(f"/groups/{group.slug}")).text
    async with await _new_client(app, 53) as c:
        await sign_up(c, "Nav newcomer", PASSWORD)
        assert room not in (await c.get(f"/groups/{group.slug}")).text
        joined = await post_form(c, f"/groups/{group.slug}/join", {})
        assert joined.headers["location"] == f"/groups/{group.slug}/join?done=joined"
        confirmation = (await c.get(joined.headers["location"])).text
        assert "Welcome. You are now a member of this group." in confirmation
        assert room in confirmation and 'href="/account/groups"' in confirmation
        page = (await c.get(f"/groups/{group.slug}")).text
        assert "Your place in this group" in page and room in page
        # An accepted offer from a waiting list lands on the group page, welcomed.
        welcomed = (await c.get(f"/groups/{group.slug}?joined=1")).text
        assert "Welcome. You are now a member of this group." in welcomed
        assert (await c.get(f"/groups/{group.slug}/room")).status_code == 200


async def test_your_rooms_puts_open_rooms_first_and_counts_what_waits(
    world: World, app: Any
) -> None:
    sessions = app.state.ctx.sessions
    open_group, gated = world.groups["open"], world.groups["gated"]
    member = world.ids["member"]
    async with await _new_client(app, 56) as c:
        await sign_up(c, "Nav asking", PASSWORD)
    asking = await _user_id(app, "Nav asking")
    async with sessions() as db, db.begin():
        room = await db.get(Room, gated.id)
        assert room is not None
        room.is_open = True
        db.add(Room(id=open_group.id, next_seq=2))
        await db.flush()
        for category in ("other", "spam"):
            db.add(
                Report(
                    group_id=open_group.id,
                    reporter_id=member,
                    subject_id=member,
                    category=category,
                )
            )
        db.add(
            RoomMessage(
                room_id=open_group.id,
                seq=1,
                sender_id=member,
                client_id="c1",
                body="hello",
                status="held",
            )
        )
        db.add(CrisisAlert(group_id=open_group.id, user_id=member, message_seq=1))
        db.add(
            GroupMember(group_id=open_group.id, user_id=asking, role="member", status="requested")
        )
    async with await _new_client(app, 54) as c:
        await world.sign_in(c, "moderator")
        page = (await c.get("/moderate")).text
        assert page.index("Gated Circle") < page.index("Open Circle")  # session on first
        assert "1 room has a session on now." in page
        assert "5 things are waiting for a moderator." in page
        for words in (
            "1 crisis alert",
            "2 reports",
            "1 message held for review",
            "1 request to join",
        ):
            assert words in page, words
        for group in (open_group, gated):
            assert f'href="/groups/{group.slug}/room"' in page
            assert f'href="/organise/groups/{group.id}/moderation"' in page
            assert (await c.get(f"/organise/groups/{group.id}/moderation")).status_code == 200
    async with await _new_client(app, 55) as c:
        await world.sign_in(c, "pro")
        answer = await c.get("/moderate")
        assert answer.status_code == 200
        assert "You do not moderate or organise a group yet." in answer.text


async def test_use_a_referral_code_is_a_page_that_works(fresh: httpx.AsyncClient) -> None:
    form = await fresh.get("/r")
    assert form.status_code == 200
    assert 'action="/r"' in form.text and "We could not find that code" not in form.text
    assert (await fresh.get("/r?code=")).status_code == 200
    wrong = await fresh.get("/r?code=ABCD-EFGH-JKLM")
    assert wrong.status_code == 404 and "We could not find that code" in wrong.text


async def test_organiser_tools_are_linked_only_for_those_they_answer(
    world: World, app: Any
) -> None:
    expected = {
        "member": set(),
        "moderator": {"/organise/referrals"},
        "organiser": {"/organise/referrals", "/organise/demand"},
        "admin": {"/organise/demand"},
    }
    for number, (role, tools) in enumerate(expected.items()):
        async with await _new_client(app, 60 + number) as c:
            await world.sign_in(c, role)
            page = (await c.get("/organise")).text
            found = {
                t for t in ("/organise/referrals", "/organise/demand") if f'href="{t}"' in page
            }
            assert found == tools, role
            for tool in tools:
                assert (await c.get(tool)).status_code == 200, (role, tool)


async def test_find_and_the_directory_ask_the_same_questions_in_the_same_words(
    fresh: httpx.AsyncClient,
) -> None:
    find = (await fresh.get("/find")).text
    directory = (await fresh.get("/groups")).text
    shared = (
        "language",
        "stage",
        "community",
        "topic",
        "format",
        "postcode",
        "distance",
        "days",
        "access",
    )
    for key in shared:
        question = questions.ASK[key]
        for name, page in (("/find", find), ("/groups", directory)):
            assert f">{question.label}<" in page, (name, question.label)
            if question.hint:  # (a LazyProxy: translated where shown)
                assert str(question.hint) in page, (name, question.hint)
    options: list[questions.Words] = [
        label for _, label in questions.STAGE_OPTIONS + questions.FORMAT_OPTIONS
    ]
    options += [label for _, label in questions.DAY_OPTIONS + questions.MILE_OPTIONS]
    options.append(questions.ASK["format"].any)
    for label in options:
        assert f">{label}<" in find and f">{label}<" in directory, label


async def test_the_home_page_and_the_menu_lead_to_the_directory(fresh: httpx.AsyncClient) -> None:
    home = (await fresh.get("/")).text
    assert "/groups" in menu_of(home)
    main = home.split("<main", 1)[1]
    assert 'href="/groups"' in main
