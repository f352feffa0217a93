"""Every error a route can give is in the reader's language, not only the pages linked.

The crawl (test_pseudo_locale.py) follows links and never posts. Here, in the
pseudo-language, every route of the app is called as a visitor and as a signed-in
member with what people get wrong: an unknown id in the path, an empty form, a form of
nonsense, an empty JSON body. Whatever answers, an HTML page must have no English left
(:func:`untranslated`) and a JSON ``error`` must have come through a catalogue.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from starlette.applications import Starlette

from peerhub import i18n
from peerhub.i18n import PSEUDO_OPEN
from tests.conftest import BASE, FakeClock, csrf_token
from tests.i18n.test_pseudo_locale import PSEUDO_TAG, _content, pseudo_app  # noqa: F401
from tests.i18n.untranslated import untranslated
from tests.security.support import PARAM_RE, endpoints
from tests.test_links import sign_in

SKIP = ("/static", "/favicon.ico", "/healthz", "/readyz", "/logout", "/openapi.json")


def _words(value: Any) -> list[str]:
    """The person-readable messages of a JSON answer (``error`` and field errors)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("error", "message", "errors") and isinstance(item, str):
                found.append(item)
            elif key == "errors" and isinstance(item, dict):
                found.extend(v for v in item.values() if isinstance(v, str))
    return found


async def test_every_error_is_translated(pseudo_app: tuple[Starlette, FakeClock]) -> None:  # noqa: F811
    app, clock = pseudo_app
    content = await _content(app)
    problems: list[str] = []
    for number, who in enumerate((None, "demo-member")):
        transport = httpx.ASGITransport(app=app, client=(f"203.0.113.{190 + number}", 50000))
        async with httpx.AsyncClient(
            transport=transport, base_url=BASE, cookies={i18n.LANG_COOKIE: PSEUDO_TAG}
        ) as client:
            if who:
                await sign_in(client, who, clock)
            token = await csrf_token(client, "/")
            for endpoint in endpoints(app):
                if endpoint.method not in ("GET", "POST") or endpoint.path.startswith(SKIP):
                    continue
                path = PARAM_RE.sub("no-such-thing", endpoint.path)
                tries: list[httpx.Response] = []
                if endpoint.method == "GET":
                    tries.append(await client.get(path))
                    tries.append(await client.get(path, params={"page": "-1", "q": "\u00a0"}))
                else:
                    headers = {"Origin": BASE}
                    tries.append(
                        await client.post(path, data={"csrf_token": token}, headers=headers)
                    )
                    tries.append(
                        await client.post(
                            path,
                            data={"csrf_token": token, "name": "x" * 5000, "id": "nonsense"},
                            headers=headers,
                        )
                    )
                    tries.append(
                        await client.post(
                            path,
                            content=b"{}",
                            headers={
                                **headers,
                                "X-CSRF-Token": token,
                                "Content-Type": "application/json",
                            },
                        )
                    )
                for answer in tries:
                    kind = answer.headers.get("content-type", "")
                    label = f"[{who or 'visitor'}] {endpoint} → {answer.status_code}"
                    if "text/html" in kind:
                        left = untranslated(answer.text, content)
                        if left:
                            problems.append(f"{label}: " + " | ".join(left[:5]))
                    elif "json" in kind and answer.status_code >= 400:
                        try:
                            body = answer.json()
                        except ValueError:
                            continue
                        for message in _words(body):
                            if PSEUDO_OPEN not in message and re.search(r"[A-Za-z]{3}", message):
                                problems.append(f"{label}: {message[:100]}")
    unique = sorted(set(problems))
    assert not unique, f"{len(unique)} answers left in English:\n" + "\n".join(unique[:80])
