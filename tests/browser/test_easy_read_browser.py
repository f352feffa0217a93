"""Easy Read in Chromium: the switch, the pages at 360 and 1280 px (screenshots in
/tmp/easyread-*.png), axe, the layout mirrored right to left, and "Read aloud" through
the browser's own speech synthesis (stubbed here, so the test hears what it is asked to
say; nothing goes to a server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from peerhub import i18n
from tests.browser.conftest import assert_accessible
from tests.browser.test_find_browser import _demo
from tests.conftest import LiveServer, make_settings, run_sync
from tests.realtime.conftest import RTServer

# A stand-in for the browser's speech: records what it is asked to say. Voices are given
# by the test through window.__voices before the page's scripts run.
SPEECH_STUB = """
(() => {
  window.__spoken = [];
  window.__cancelled = 0;
  const voices = (window.__voices || []).map((lang) => ({
    lang, name: "Test " + lang, voiceURI: "test-" + lang, default: false, localService: true,
  }));
  Object.defineProperty(window, "speechSynthesis", {
    configurable: true,
    value: {
      getVoices: () => voices,
      speak: (u) => { window.__spoken.push({ text: u.text, lang: u.lang }); },
      cancel: () => { window.__cancelled += 1; },
      addEventListener: () => {},
      speaking: false, pending: false, paused: false,
    },
  });
})();
"""


def _voices(page: Any, *langs: str) -> None:
    page.add_init_script(f"window.__voices = {list(langs)!r};")
    page.add_init_script(SPEECH_STUB)


def _easy_on(page: Any, base: str) -> None:
    page.goto(base + "/")
    with page.expect_navigation():
        page.locator("form.easy-switch [type=submit]").click()
    assert page.evaluate("document.documentElement.classList.contains('easy-read')")


def _shots(page: Any, name: str) -> None:
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{page.url} is {wide}px wide at {width}px"
        assert_accessible(page, f"Easy Read {name} at {width} px")
        page.screenshot(path=f"/tmp/easyread-{name}-{width}.png", full_page=True)
        page.screenshot(path=f"/tmp/easyread-{name}-{width}-top.png")  # the first screen
    page.set_viewport_size({"width": 1024, "height": 800})


def test_easy_read_home_and_crisis_look_right_and_read_aloud(
    live_server: LiveServer, page: Any
) -> None:
    base = live_server.url
    _voices(page, "en-GB", "cy-GB")
    _easy_on(page, base)
    assert page.locator(".easy-content .easy-line img.easy-picture").count() >= 5
    body = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body >= 20  # at least 1.25rem
    _shots(page, "home")

    page.goto(base + "/crisis")
    assert page.locator(".easy-content").count() == 1
    _shots(page, "crisis")

    # Read aloud: the button is offered (a voice exists for en-GB) and reads the page.
    start = page.locator(".read-aloud-start")
    assert start.is_visible()
    start.click()
    spoken = page.evaluate("window.__spoken")
    assert spoken, "speechSynthesis.speak was not called"
    assert all(s["lang"] == "en-GB" for s in spoken)
    texts = [s["text"] for s in spoken]
    assert texts[0] == page.locator("h1").inner_text()
    assert not any("OpenMoji" in t for t in texts)  # the credit is not read out
    assert not any("Read aloud" in t for t in texts)
    stop = page.locator(".read-aloud-stop")
    assert stop.is_visible() and not start.is_visible()
    stop.click()
    assert page.evaluate("window.__cancelled") >= 2  # before reading, and to stop
    assert start.is_visible()


def test_read_aloud_in_welsh_uses_a_welsh_voice(live_server: LiveServer, page: Any) -> None:
    base = live_server.url
    _voices(page, "en-GB", "cy-GB")
    page.context.add_cookies([{"name": i18n.LANG_COOKIE, "value": "cy", "url": base}])
    _easy_on(page, base)
    page.goto(base + "/crisis")
    page.locator(".read-aloud-start").click()
    spoken = page.evaluate("window.__spoken")
    assert spoken and all(s["lang"] == "cy-GB" for s in spoken)


def test_no_voice_for_the_language_means_no_button(live_server: LiveServer, page: Any) -> None:
    base = live_server.url
    _voices(page, "fr-FR")
    _easy_on(page, base)
    assert not page.locator(".read-aloud-start").is_visible()
    assert page.locator(".read-aloud-status").inner_text().strip()  # it says why


def test_no_speech_at_all_means_no_button(live_server: LiveServer, page: Any) -> None:
    base = live_server.url
    page.add_init_script("delete Window.prototype.speechSynthesis; delete window.speechSynthesis;")
    _easy_on(page, base)
    assert not page.locator(".read-aloud-start").is_visible()


@pytest.mark.parametrize("tag", ["ur", "ar"])
def test_easy_read_mirrors_right_to_left(live_server: LiveServer, page: Any, tag: str) -> None:
    base = live_server.url
    page.context.add_cookies([{"name": i18n.LANG_COOKIE, "value": tag, "url": base}])
    _easy_on(page, base)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    line = page.locator(".easy-content .easy-line").first
    picture = line.locator("img").bounding_box()
    text = line.locator("p").bounding_box()
    assert picture and text and picture["x"] > text["x"]  # the picture is at the start: right
    page.goto(base + "/crisis")
    _shots(page, f"crisis-{tag}")


# The other Easy Read pages a person reaches before signing in, with the demo's groups.
PAGES = {
    "find": "/find",
    "results": "/find?search=1&languages=ur&place=Leeds",
    "group": "/groups/roshni-leeds-talking-space",
    "join": "/groups/roshni-punjabi-carers-online/join",
    "room": "/groups/roshni-leeds-talking-space/room",
    "signup": "/signup",
    "login": "/login",
    "recover": "/recover",
}


@pytest.mark.parametrize("tag", ["en-GB", "ur"])
def test_the_other_easy_read_pages_at_both_widths(
    live_server: LiveServer, db_url: str, page: Any, tag: str
) -> None:
    run_sync(_demo, db_url)
    base = live_server.url
    page.context.add_cookies([{"name": i18n.LANG_COOKIE, "value": tag, "url": base}])
    _easy_on(page, base)
    for name, path in PAGES.items():
        page.goto(base + path)
        assert page.locator(".easy-content img.easy-picture").count() >= 3, path
        _shots(page, f"{name}-{tag}")


@pytest.fixture(scope="module")
def rt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RTServer]:
    """PeerHub with its WebSocket server, for the room (SQLite, the demo's groups)."""
    folder = tmp_path_factory.mktemp("easyroom")
    url = f"sqlite+aiosqlite:///{folder}/easyroom.db"
    from peerhub import migrate

    run_sync(migrate.upgrade, url)
    run_sync(_demo, url)
    with RTServer(make_settings(url, folder)) as running:
        yield running


def test_the_room_in_easy_read_shows_its_notices_with_pictures(
    rt_server: RTServer, page: Any
) -> None:
    base = rt_server.base
    slug = "roshni-punjabi-carers-online"  # open, and its room opens without a moderator
    _easy_on(page, base)
    page.goto(base + "/signup")
    page.locator("input[name=pseudonym]").fill("easy-roomer")
    page.locator("input[name=password]").fill("a calm walk by the river")
    with page.expect_navigation():
        page.locator('main form[action="/signup"] [type=submit]').click()
    page.goto(base + f"/groups/{slug}/join")
    with page.expect_navigation():
        page.locator(f'main form[action="/groups/{slug}/join"] [type=submit]').click()
    page.goto(base + f"/groups/{slug}/room")
    assert page.evaluate("document.documentElement.classList.contains('easy-read')")
    rules = page.locator("#rules")
    rules.wait_for(state="visible")
    picture = page.evaluate(
        "getComputedStyle(document.querySelector('#rules'), '::before').backgroundImage"
    )
    assert "/static/easyread/rules.svg" in picture
    _shots(page, "room")
    page.locator("#rules-accept").click()
    page.locator("#message-input").fill("hello in Easy Read")
    page.locator("#message-input").press("Enter")
    page.locator("#messages li", has_text="hello in Easy Read").first.wait_for()
