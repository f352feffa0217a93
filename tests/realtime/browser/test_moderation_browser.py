"""The moderation toolkit in Chromium: two members and a moderator in one room.

A moderator redacts a message and times a member out from the message menu; both
members see the notice in place of the text and the time-out line, and the timed-out
member's composer refuses with the time. A member reports a message; the moderator's
console shows it live; resolving it tells the reporter. Mutes, blocks, held messages
and the room's settings; axe (WCAG 2.2 AA) as a member and as a moderator with the
console full, and the 360 px check. No sleeps: Playwright's expect and wait_for."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.realtime.conftest import RTServer, World

pytestmark = pytest.mark.browser
ROOM = "/groups/tuesday-talk/room"
HHMM = re.compile(r"^\d{2}:\d{2}$")


def enter_room(page: Any, base: str, *, accept_rules: bool = True) -> None:
    page.goto(base + ROOM)
    page.get_by_text("Connected.").wait_for()
    if accept_rules:
        page.get_by_role("button", name="I accept the ground rules").click()
        page.get_by_role("button", name="I accept the ground rules").wait_for(state="hidden")


def say(page: Any, text: str) -> None:
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")


def message(page: Any, text: str) -> Any:
    return page.locator("#messages li.message", has_text=text)


def sees(page: Any, text: str) -> Any:
    item = message(page, text)
    item.wait_for()
    return item


def menu_action(page: Any, text: str, action: str) -> None:
    """Open the menu (⋯) of the message with this text and choose an action."""
    item = sees(page, text)
    item.locator("summary").click()
    item.get_by_role("button", name=action).click()


def test_a_moderator_redacts_and_times_out_and_both_members_see_it(
    person: Any, room_server: RTServer, room_world: World
) -> None:
    base = room_server.base
    ana, ben, mo = person("ana"), person("ben"), person("mo")
    enter_room(ana, base)
    enter_room(ben, base)
    enter_room(mo, base, accept_rules=False)
    say(ana, "Hello everyone")
    say(ben, "Call me on 07700 900123")
    for page in (ana, ben, mo):
        sees(page, "Hello everyone")
        sees(page, "07700 900123")
    seq = sees(mo, "07700 900123").get_attribute("data-seq")
    assert seq

    # Redact, from the message's menu, with a reason.
    menu_action(mo, "07700 900123", "Redact this message")
    dialog = mo.get_by_role("dialog", name="Redact this message")
    dialog.get_by_label("Reason (members see it)").fill("Phone numbers stay private")
    dialog.get_by_role("button", name="Redact", exact=True).click()
    expect(dialog).to_have_count(0)
    for page in (ana, ben, mo):
        in_place = page.locator(f'#messages li[data-seq="{seq}"]')
        expect(in_place).to_contain_text("Removed by a moderator: Phone numbers stay private")
        expect(page.locator("#messages")).not_to_contain_text("07700")
        expect(page.locator("#messages")).to_contain_text("Mo removed a message from Ben.")
    expect(mo.locator("#room-announcer")).to_have_text("The message was redacted.")

    # Time out, from the menu of Ben's next message.
    say(ben, "Sorry, I forgot")
    sees(mo, "Sorry, I forgot")
    menu_action(mo, "Sorry, I forgot", "Time out Ben")
    dialog = mo.get_by_role("dialog", name="Time out Ben")
    expect(dialog.get_by_label("15 minutes")).to_be_checked()
    dialog.get_by_label("Reason (only Ben and the moderators see it)").fill("A short break")
    dialog.get_by_role("button", name="Time out", exact=True).click()
    expect(dialog).to_have_count(0)
    line = re.compile(r"Mo timed out Ben until \d{2}:\d{2}\.")
    for page in (ana, ben, mo):
        expect(page.locator("#messages li.message-system", has_text=line)).to_have_count(1)

    # Ben's own notice, with the time and the reason.
    notice = ben.locator("#timeout-notice")
    expect(notice).to_contain_text("A moderator has paused your messages until")
    expect(notice).to_contain_text("Reason: A short break")
    until = notice.locator("time").inner_text()
    assert HHMM.match(until), until
    assert until in ben.locator("#messages li.message-system", has_text="timed out").inner_text()
    # Ana is not timed out: no notice for her.
    expect(ana.locator("#timeout-notice")).to_be_hidden()

    # The composer refuses, says until when, and keeps what was typed.
    say(ben, "Can I still talk?")
    error = ben.locator("#composer-error")
    expect(error).to_have_text(f"Not sent. A moderator has paused your messages until {until}.")
    expect(ben.get_by_label("Your message")).to_have_value("Can I still talk?")
    assert message(ben, "Can I still talk?").count() == 0

    # The console's people list shows the time-out; lifting it lets Ben write again.
    row = mo.locator("#mod-members li", has_text="Ben")
    expect(row).to_contain_text(f"Timed out until {until}")
    row.get_by_role("button", name="Lift time-out").click()
    expect(ben.locator("#timeout-notice")).to_be_hidden()
    expect(ben.locator("#messages")).to_contain_text("Mo lifted Ben’s time-out.")
    ben.get_by_label("Your message").press("Enter")
    sees(ana, "Can I still talk?")
    expect(mo.locator("#mod-audit")).to_contain_text("Timed out for 15 minutes")
    expect(mo.locator("#mod-audit")).to_contain_text("Redacted a message")


def test_a_report_reaches_the_console_live_and_the_reporter_hears_back(
    person: Any, room_server: RTServer, room_world: World
) -> None:
    base = room_server.base
    mo = person("mo")
    enter_room(mo, base, accept_rules=False)
    expect(mo.locator("#reports-empty")).to_be_visible()
    ana, ben = person("ana"), person("ben")
    enter_room(ana, base)
    enter_room(ben, base)
    say(ben, "You are all useless")
    sees(ana, "You are all useless")

    menu_action(ana, "You are all useless", "Report this message")
    dialog = ana.get_by_role("dialog", name="Report this message")
    categories = dialog.get_by_role("group", name="What is the problem?").get_by_role("radio")
    expect(categories).to_have_count(6)
    assert_accessible(ana, "room with the report dialog open")
    # Nothing chosen yet: the dialog says so and stays open.
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("alert")).to_have_text("Choose what the problem is.")
    dialog.get_by_label("Unkind, bullying or harassing").check()
    dialog.get_by_label("Anything you want to add (optional)").fill("It felt like a dig at me")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog).to_have_count(0)
    announced = ana.locator("#room-announcer")
    expect(announced).to_have_text("Your report reached the group's moderators.")

    # Live in the console: reporter, subject, category, the message and the words.
    report = mo.locator("#mod-reports li", has_text="Ana reported Ben.")
    expect(report).to_contain_text("Unkind, bullying or harassing")
    expect(report).to_contain_text("You are all useless")
    expect(report).to_contain_text("It felt like a dig at me")
    expect(mo.locator("#queue-summary")).to_have_text(
        "Waiting: 1 report, 0 held messages, 0 crisis alerts."
    )
    assert_accessible(mo, "moderator console with a report")

    report.get_by_label("Note (optional, for the audit log)").fill("Spoke to Ben")
    report.get_by_role("button", name="Took action").click()
    expect(mo.locator("#mod-reports li")).to_have_count(0)
    expect(mo.locator("#reports-empty")).to_be_visible()
    handled = ana.locator("#report-notices")
    expect(handled).to_contain_text(
        "Your report was handled: a moderator looked at it and took action."
    )
    audit = mo.locator("#mod-audit tr", has_text="Resolved a report: took action")
    expect(audit).to_contain_text("Mo")

    assert_accessible(ana, "member's room after a report was handled")
    ana.set_viewport_size({"width": 360, "height": 800})
    assert_accessible(ana, "member's room at 360 px")
    assert_fits_narrow_screen(ana)
    mo.set_viewport_size({"width": 360, "height": 800})
    assert_accessible(mo, "moderator console at 360 px")
    assert_fits_narrow_screen(mo)


def test_a_report_handled_while_away_is_told_on_the_next_visit(
    person: Any, room_server: RTServer, room_world: World
) -> None:
    base = room_server.base
    ana, ben, mo = person("ana"), person("ben"), person("mo")
    enter_room(ana, base)
    enter_room(ben, base)
    say(ben, "Buy my vitamins")
    menu_action(ana, "Buy my vitamins", "Report this message")
    dialog = ana.get_by_role("dialog", name="Report this message")
    dialog.get_by_label("Advertising, spam or selling").check()
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog).to_have_count(0)
    ana.close()

    enter_room(mo, base, accept_rules=False)
    report = mo.locator("#mod-reports li", has_text="Ana reported Ben.")
    report.get_by_role("button", name="No action needed").click()
    expect(mo.locator("#mod-reports li")).to_have_count(0)

    again = person("ana")
    again.goto(base + ROOM)
    expect(again.locator("#report-notices")).to_contain_text(
        "Your report was handled: a moderator looked at it and decided no action was needed."
    )


def test_mutes_blocks_and_held_messages(
    person: Any, room_server: RTServer, room_world: World
) -> None:
    base = room_server.base
    ana, ben, mo = person("ana"), person("ben"), person("mo")
    enter_room(ana, base)
    enter_room(ben, base)
    enter_room(mo, base, accept_rules=False)

    # A muted word hides whole-word matches, in any case; each can be shown.
    ana.get_by_text("Muted words").click()
    ana.get_by_label("Word or phrase to mute").fill("pineapple")
    ana.get_by_role("button", name="Mute", exact=True).click()
    expect(ana.locator("#muted-words")).to_contain_text("pineapple")
    say(ben, "I love Pineapple on pizza")
    say(ben, "pineapples are fine")
    say(ben, "and olives")
    sees(ana, "and olives")
    hidden = message(ana, "Hidden: it has a word you muted.")
    expect(hidden).to_have_count(1)
    expect(message(ana, "pineapples are fine")).to_be_visible()
    expect(ana.locator("#hidden-count")).to_contain_text("1 hidden message")
    assert not ana.get_by_text("I love Pineapple on pizza").is_visible()
    hidden.get_by_role("button", name="Show it").click()
    expect(ana.get_by_text("I love Pineapple on pizza")).to_be_visible()
    expect(ana.locator("#hidden-count")).to_be_hidden()
    # Ben and Mo are not affected.
    expect(message(mo, "I love Pineapple on pizza").locator(".message-body")).to_be_visible()

    # Held for review: only the writer (waiting) and the moderators see it until approved.
    mo.get_by_label("Hold for review: words and phrases, one a line").fill("casino\nbet now")
    mo.get_by_role("button", name="Save the list").click()
    expect(mo.locator("#room-announcer")).to_contain_text("Saved: 2 words or phrases")
    say(ben, "Try my casino link")
    expect(message(ben, "Try my casino link")).to_contain_text("Waiting for a moderator")
    held = mo.locator("#mod-held li", has_text="Try my casino link")
    expect(held).to_contain_text("Ben")
    expect(message(mo, "Try my casino link")).to_contain_text("Held for review")
    say(ben, "after the held one")
    sees(ana, "after the held one")
    assert message(ana, "Try my casino link").count() == 0
    held.get_by_role("button", name="Approve").click()
    expect(mo.locator("#mod-held li")).to_have_count(0)
    approved = sees(ana, "Try my casino link")
    expect(approved.locator(".message-body")).to_have_text("Try my casino link")
    bodies = ana.locator("#messages li.message:not(.message-system) .message-body")
    texts = bodies.all_inner_texts()
    assert texts.index("Try my casino link") < texts.index("after the held one")
    expect(message(ben, "Try my casino link").locator(".message-state")).to_have_text("Sent")

    # Block, with its explanation; Ben's messages go and never come back.
    menu_action(ana, "and olives", "Block Ben")
    dialog = ana.get_by_role("dialog", name="Block Ben?")
    expect(dialog).to_contain_text("matching will never put you in a group together")
    dialog.get_by_role("button", name="Block Ben").click()
    expect(dialog).to_have_count(0)
    expect(message(ana, "and olives")).to_be_hidden()
    expect(ana.locator("#muted-people")).to_contain_text("Ben (blocked)")
    say(ben, "are you there")
    say(mo, "Mo is here")
    sees(ana, "Mo is here")
    sees(mo, "are you there")
    assert message(ana, "are you there").count() == 0
    assert ana.locator("#messages li.message-muted").count() == 0  # nothing to reveal


def test_pinned_slow_mode_and_lock_reach_members(
    person: Any, room_server: RTServer, room_world: World
) -> None:
    base = room_server.base
    ana, mo = person("ana"), person("mo")
    enter_room(ana, base)
    enter_room(mo, base, accept_rules=False)

    mo.get_by_label("Announcement to pin at the top of the room").fill("Tonight: sleep and stress.")
    mo.get_by_role("button", name="Pin the announcement").click()
    expect(ana.locator("#pinned")).to_contain_text("Tonight: sleep and stress.")
    expect(mo.locator("#pin-current")).to_contain_text("Tonight: sleep and stress.")

    mo.get_by_label("Slow mode for members").select_option("30")
    mo.get_by_role("button", name="Set slow mode").click()
    expect(ana.locator("#slow-notice")).to_have_text(
        "Slow mode is on: you can send one message every 30 seconds."
    )
    say(ana, "my first message")
    sees(mo, "my first message")
    say(ana, "my second message")
    expect(ana.locator("#composer-error")).to_contain_text("Slow mode is on: you can send again in")
    mo.get_by_label("Slow mode for members").select_option("0")
    mo.get_by_role("button", name="Set slow mode").click()
    expect(ana.locator("#slow-notice")).to_be_hidden()

    mo.get_by_role("button", name="Lock the room").click()
    expect(ana.locator("#lock-notice")).to_have_text(
        "A moderator has locked the room for now: you can read but not write."
    )
    ana.get_by_label("Your message").press("Enter")
    expect(ana.locator("#composer-error")).to_contain_text("locked the room")
    mo.get_by_role("button", name="Unlock the room").click()
    expect(ana.locator("#lock-notice")).to_be_hidden()
    ana.get_by_label("Your message").press("Enter")
    sees(mo, "my second message")

    # A page opened now gets the same state from the server.
    mo.get_by_role("button", name="Unpin").click()
    expect(ana.locator("#pinned")).to_be_hidden()
    expect(ana.locator("#messages")).to_contain_text("Mo took down the pinned announcement.")
