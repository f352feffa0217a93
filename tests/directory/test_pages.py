"""The public directory pages: search, group and organisation pages, with no login."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.directory import pages
from peerhub.directory.jsonld import script_json
from tests.conftest import FakeClock
from tests.directory import builders as b

LDJSON = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


async def page(client: httpx.AsyncClient, path: str, status: int = 200) -> str:
    response = await client.get(path)
    assert response.status_code == status, (path, response.status_code, response.text[:400])
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert 'id="need-help-now"' in html  # the crisis panel, on every page
    assert "<script src" not in html  # nothing here needs JavaScript
    return html


def cards(html: str) -> list[str]:
    """The group names listed, in order."""
    return [
        unescape(m) for m in re.findall(r'<h3 id="group-[^"]+"><a href="[^"]+">(.*?)</a>', html)
    ]


async def seed(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    led = b.org("roshni", name="Roshni Circle")
    other = b.org("razem", name="Razem Together", led=False)
    hidden = b.org("hidden", verified=False)
    rows = {
        "urdu": b.group(
            led,
            "urdu-leeds",
            name="Urdu Talking Space",
            fmt="hybrid",
            languages=("ur", "en"),
            interpretation=("bfi",),
            communities=("south_asian",),
            stages=("approaching_crisis", "recovery"),
            topics=("depression",),
            access=("step_free",),
            rrule="FREQ=WEEKLY;BYDAY=TH",
            capacity=2,
            join_policy="request",
            ground_rules="Be kind.\n\nWhat is said here stays here.",
        ),
        "polish": b.group(
            other,
            "polish-online",
            name="Polish Wellbeing Online",
            languages=("pl",),
            communities=("eastern_european",),
            stages=("staying_well",),
            rrule="FREQ=WEEKLY;BYDAY=MO",
        ),
        "cardiff": b.group(
            other,
            "cardiff-circle",
            name="Cardiff Circle",
            fmt="in_person",
            languages=("cy", "en"),
            place={
                "address": "Ystafell Derw, 21 Example Street, Cardiff",
                "postcode": "CF10 3ND",
                "latitude": 51.4861,
                "longitude": -3.1788,
            },
            rrule="FREQ=MONTHLY;BYDAY=1WE",
        ),
        "paused": b.group(led, "resting", name="Resting Group", status="paused"),
        "hidden": b.group(hidden, "unlisted", name="Unlisted"),
    }
    people = [b.user("Member One"), b.user("Member Two")]
    await b.save(
        sessions,
        led,
        other,
        hidden,
        *rows.values(),
        *people,
        *(b.member(rows["urdu"], p) for p in people),
    )
    return {"led": led, "other": other, **rows}


async def test_the_search_page_lists_active_public_groups(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed(sessions)
    html = await page(client, "/groups")
    assert '<form method="get" action="/groups"' in html
    assert cards(html) == ["Cardiff Circle", "Polish Wellbeing Online", "Urdu Talking Space"]
    assert "3 groups" in html
    # A card: organisation, languages by name, communities, stages, where, when, places.
    card = html[html.index('id="group-urdu-leeds"') :].split("</article>")[0]
    for text in (
        "Run by Roshni Circle, led by people with lived experience",
        "Urdu, English; interpretation into British Sign Language",
        "South Asian",
        "Approaching crisis, Recovery",
        "In person in Leeds, or online",
        "Thursday 5 November 2026 at 18:00</time> (UK time)",
        "Full: waiting list",
    ):
        assert text in card, text
    assert '<time datetime="2026-11-05T18:00:00+00:00">' in card
    assert "Razem Together</p>" in html  # not declared as led by lived experience
    assert 'href="/groups.ics"' in html


async def test_filters_narrow_the_list_and_keep_a_shareable_url(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed(sessions)
    cases = {
        "/groups?language=ur": ["Urdu Talking Space"],
        "/groups?language=bfi": ["Urdu Talking Space"],
        "/groups?language=cy&language=pl": ["Cardiff Circle", "Polish Wellbeing Online"],
        "/groups?community=eastern_european": ["Polish Wellbeing Online"],
        "/groups?stage=recovery&stage=staying_well": [
            "Polish Wellbeing Online",
            "Urdu Talking Space",
        ],
        "/groups?topic=depression": ["Urdu Talking Space"],
        "/groups?format=in_person": ["Cardiff Circle", "Urdu Talking Space"],
        "/groups?format=online": ["Polish Wellbeing Online", "Urdu Talking Space"],
        "/groups?format=hybrid": ["Urdu Talking Space"],
        "/groups?day=monday": ["Polish Wellbeing Online"],
        "/groups?day=wednesday&day=thursday": ["Cardiff Circle", "Urdu Talking Space"],
        "/groups?access=step_free": ["Urdu Talking Space"],
        "/groups?q=circle": ["Cardiff Circle"],
        "/groups?organisation=razem": ["Cardiff Circle", "Polish Wellbeing Online"],
        "/groups?language=&community=&format=&q=": [
            "Cardiff Circle",
            "Polish Wellbeing Online",
            "Urdu Talking Space",
        ],
    }
    for path, expected in cases.items():
        assert cards(await page(client, path)) == expected, path
    html = await page(client, "/groups?format=in_person&language=ur&day=thursday")
    assert (
        '<input type="radio" id="format-in_person" name="format" value="in_person" checked>' in html
    )
    assert '<option value="ur" selected>Urdu (اردو)</option>' in html
    assert 'id="day-thursday" name="day" value="thursday" checked' in html
    assert 'href="/groups.ics?language=ur&amp;format=in_person&amp;day=thursday"' in html


async def test_near_a_postcode_orders_by_distance_and_leaves_out_online_groups(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed(sessions)
    html = await page(client, "/groups?postcode=ls6+1aa&within=5")
    assert cards(html) == ["Urdu Talking Space"]
    assert "within 5 miles of LS6 1AA" in html
    assert "about 2 miles away" in html
    assert 'value="LS6 1AA"' in html
    far = await page(client, "/groups?postcode=LS6&within=50")
    assert cards(far) == ["Urdu Talking Space"]
    # From Wolverhampton, Leeds is about 87 miles away and Cardiff 88.5: nearest first.
    wide = await page(client, "/groups?postcode=WV1&within=100")
    assert cards(wide) == ["Urdu Talking Space", "Cardiff Circle"]
    assert "about 87 miles away" in wide and "about 88 miles away" in wide


async def test_bad_search_parameters_are_a_422_with_an_accessible_summary(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed(sessions)
    html = await page(
        client,
        "/groups?postcode=NOT<b>CODE&language=!!&community=martians&day=someday&within=x",
        422,
    )
    assert 'class="error-summary" role="alert"' in html
    for field in ("postcode", "language", "community", "day", "within"):
        assert f'<a href="#{field}">' in html, field
        assert f'id="{field}-error"' in html, field
    assert 'id="postcode" name="postcode" value="NOT&lt;b&gt;CODE"' in html
    assert 'aria-invalid="true"' in html
    assert "<b>" not in html
    assert "<title>Error: " in html
    for path, field in (
        ("/groups?organisation=nobody-here", "organisation"),
        ("/groups?page=0", "page"),
        ("/groups?format=teleport", "format"),
        ("/groups?stage=fine", "stage"),
    ):
        response = await client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 422, path
        assert 'class="error-summary"' in response.text, path
        if field in ("format", "stage"):
            assert f'<a href="#{field}">' in response.text, path
    json_answer = await client.get("/groups?postcode=ZZ", headers={"Accept": "application/json"})
    assert json_answer.status_code == 422


async def test_paging_links_keep_the_filters(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    o = b.org()
    await b.save(sessions, o, *(b.group(o, f"g{i:02d}", name=f"Group {i:02d}") for i in range(45)))
    first = await page(client, "/groups?language=en")
    assert len(cards(first)) == 20 and cards(first)[0] == "Group 00"
    assert 'href="/groups?language=en&amp;page=2" rel="next"' in first
    assert 'rel="prev"' not in first
    third = await page(client, "/groups?language=en&page=3")
    assert cards(third) == [f"Group {i}" for i in range(40, 45)]
    assert 'href="/groups?language=en&amp;page=2" rel="prev"' in third
    assert 'rel="next"' not in third
    assert '<ol class="group-list" start="41">' in third
    assert "the first 50 of" not in third
    assert "45 groups" in third


async def test_many_results_are_counted_only_so_far(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pages, "WEB_COUNT_LIMIT", 30)
    o = b.org()
    await b.save(sessions, o, *(b.group(o, f"g{i:02d}", name=f"Group {i:02d}") for i in range(45)))
    first = await page(client, "/groups")
    assert "30 or more groups" in first and "filters above can narrow" in first
    second = await page(client, "/groups?page=2")
    assert cards(second)[0] == "Group 20" and 'rel="next"' in second
    third = await page(client, "/groups?page=3")
    assert cards(third) == [f"Group {i}" for i in range(40, 45)]
    assert 'rel="next"' not in third and "This is page 3." in third


async def test_the_group_page_tells_people_everything_they_need(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed(sessions)
    html = await page(client, "/groups/urdu-leeds")
    for text in (
        "<h1>Urdu Talking Space</h1>",
        'Run by <a href="/organisations/roshni">Roshni Circle</a>, led by people with lived',
        "Urdu, English",
        "Into British Sign Language, on request",
        "South Asian",
        "Approaching crisis, Recovery",
        "Depression",
        "Step-free access",
        "In person or online (hybrid)",
        "Hollybank Centre, 12 Example Street, Leeds, LS1 3AD",
        "Every Thursday at 18:00 (UK time), for 90 minutes",
        "Thursday 5 November 2026, 18:00 to 19:30",
        "Thursday 3 December 2026, 18:00 to 19:30",
        "Full: waiting list",
        "The group has 2 places.",
        "Be kind.",
        "What is said here stays here.",
        'href="/groups/urdu-leeds/join">Join the waiting list</a>',
        'href="/groups/urdu-leeds/refer">Refer someone</a>',
        "Roshni Circle declares that it is led by people with lived experience.",
        'href="/groups/urdu-leeds.ics"',
    ):
        assert text in html, text
    assert html.count("<time datetime=") == 5
    # Nothing about the people in it.
    assert "Member One" not in html and "Member Two" not in html


async def test_join_wording_follows_the_policy_and_status(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed(sessions)
    polish = await page(client, "/groups/polish-online")
    assert ">Join this group</a>" in polish and "Anyone can join." in polish
    assert "Razem Together has not declared" in polish
    resting = await page(client, "/groups/resting")
    assert "This group is paused for now" in resting
    assert "/groups/resting/join" not in resting and "Next sessions" not in resting


async def test_json_ld_describes_the_meetings_as_events(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed(sessions)
    html = await page(client, "/groups/urdu-leeds")
    blocks = LDJSON.findall(html)
    assert len(blocks) == 1
    events = json.loads(blocks[0])
    assert len(events) == 5
    first = events[0]
    assert first["@context"] == "https://schema.org" and first["@type"] == "Event"
    assert first["startDate"] == "2026-11-05T18:00:00+00:00"
    assert first["endDate"] == "2026-11-05T19:30:00+00:00"
    assert first["eventAttendanceMode"] == "https://schema.org/MixedEventAttendanceMode"
    place, virtual = first["location"]
    assert place["@type"] == "Place" and place["address"]["postalCode"] == "LS1 3AD"
    assert place["address"]["addressLocality"] == "Leeds"
    assert virtual == {"@type": "VirtualLocation", "url": "http://testserver/groups/urdu-leeds"}
    assert first["organizer"]["name"] == "Roshni Circle"
    assert first["inLanguage"] == ["ur", "en"]
    assert first["remainingAttendeeCapacity"] == 0
    online = json.loads(LDJSON.findall(await page(client, "/groups/polish-online"))[0])
    assert online[0]["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert online[0]["location"]["@type"] == "VirtualLocation"
    assert online[0]["inLanguage"] == "pl"
    venue = json.loads(LDJSON.findall(await page(client, "/groups/cardiff-circle"))[0])
    assert venue[0]["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    assert venue[0]["location"]["geo"]["latitude"] == 51.4861
    assert LDJSON.findall(await page(client, "/groups/resting")) == []


async def test_user_text_cannot_break_out_of_the_page_or_the_json_ld(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    nasty = '</script><script>alert("x")</script><!-- & \u2028'
    o = b.org("evil", name=nasty)
    await b.save(
        sessions,
        o,
        b.group(o, "evil-group", name=nasty, description=nasty, ground_rules=nasty),
    )
    html = await page(client, "/groups/evil-group")
    assert html.count("</script>") == 1  # only the end of the JSON-LD block
    assert "<script>alert" not in html and "<!--" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(&#34;x&#34;)" in html
    events = json.loads(LDJSON.findall(html)[0])
    assert events[0]["name"] == nasty and events[0]["organizer"]["name"] == nasty
    listing = await page(client, "/groups?q=alert")
    assert "<script>alert" not in listing
    organisation = await page(client, "/organisations/evil")
    assert "<script>alert" not in organisation


def test_script_json_escapes_what_html_parsers_care_about() -> None:
    text = str(script_json({"a": "</script>&<!--\u2028\u2029"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == {"a": "</script>&<!--\u2028\u2029"}


async def test_unknown_and_hidden_pages_are_404s(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rows = await seed(sessions)
    for path in (
        "/groups/no-such-group",
        "/groups/unlisted",
        "/organisations/nobody",
        "/organisations/hidden",
        f"/organisations/{rows['hidden'].organisation_id}",
    ):
        html = await page(client, path, 404)
        assert "<h1>Page not found</h1>" in html, path


async def test_the_organisation_page_lists_its_active_groups(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rows = await seed(sessions)
    html = await page(client, "/organisations/roshni")
    assert "<h1>Roshni Circle</h1>" in html
    assert "Led by people with lived experience" in html
    assert cards(html) == ["Urdu Talking Space"]  # the paused group is not listed
    assert 'href="https://roshni.example.org"' in html
    assert 'href="mailto:hello@roshni.example.org"' in html
    assert "0113 496 0000" in html
    assert 'href="/groups?organisation=roshni"' in html
    moved = await client.get(f"/organisations/{rows['led'].id}", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (301, "/organisations/roshni")


async def test_an_unsafe_website_is_not_linked(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    o = b.org("sly", website="javascript:alert(1)", email=None, phone=None)
    await b.save(sessions, o)
    html = await page(client, "/organisations/sly")
    assert "javascript:" not in html
    assert "has no groups meeting at the moment" in html


async def test_next_meetings_follow_the_clock(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await seed(sessions)
    clock.advance(days=7)
    html = await page(client, "/groups/polish-online")
    assert "Monday 9 November 2026, 18:00 to 19:30" in html
    assert "Monday 2 November 2026" not in html
