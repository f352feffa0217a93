"""The organiser's "In other languages" forms over HTTP, on both databases."""

from __future__ import annotations

from typing import Any

import httpx

from peerhub.groups import texts
from tests.conftest import sign_up
from tests.groups.helpers import (
    anonymous,
    create_group,
    group_form,
    person,
    post,
    register_org,
    verify_org,
)
from tests.groups.test_organise_routes import errors_in, main_of


async def test_an_organiser_gives_a_group_in_welsh_and_urdu(
    client: httpx.AsyncClient, app: Any, sessions: Any
) -> None:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    await verify_org(client, org_id)
    group_id = await create_group(client, org_id, joining="Come ten minutes early.")
    base = f"/organise/groups/{group_id}"
    page = main_of(await client.get(base))
    assert 'id="texts-title">In other languages' in page
    assert 'value="English"' in page and "No versions in other languages yet." in page

    added = await post(
        client,
        f"{base}/texts",
        {
            "action": "add",
            "new-language": "Cymraeg",
            "new-name": "Sgwrs Dydd Mawrth",
            "new-description": "Lle tawel i siarad.",
        },
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"{base}?done=text_added#texts-title"
    page = main_of(await client.get(added.headers["location"]))
    assert "The version is added." in page
    # The organiser's own name for the language is kept, with its name in the page's.
    assert "Cymraeg (Welsh)" in page
    assert '<dd lang="cy">Sgwrs Dydd Mawrth</dd>' in page

    # Mistakes name each field, keep what was typed, and change nothing.
    bad = await post(
        client,
        f"{base}/texts",
        {"action": "add", "new-language": "Chinese", "new-name": "x" * 200},
    )
    assert bad.status_code == 422
    assert errors_in(bad) == ["new-language", "new-name"]
    assert 'value="Chinese"' in bad.text

    urdu = await post(
        client,
        f"{base}/texts",
        {"action": "add", "new-language": "ur", "new-description": "بات کرنے کی پرسکون جگہ۔"},
    )
    assert urdu.status_code == 303
    changed = await post(
        client,
        f"{base}/texts",
        {
            "action": "save",
            "replacing": "cy",
            "v-cy-language": "Welsh",
            "v-cy-name": "Sgwrs ar ddydd Mawrth",
        },
    )
    assert changed.headers["location"].endswith("done=text_saved#texts-title")
    again = await post(
        client,
        f"{base}/texts",
        {"action": "save", "replacing": "cy", "v-cy-language": "Urdu", "v-cy-name": "x"},
    )
    assert again.status_code == 422 and errors_in(again) == ["v-cy-language"]
    assert "<details open>" in again.text
    async with sessions() as db:
        rows = await texts.group_versions(db, group_id)
    assert [(r.language, r.language_label, r.name) for r in rows] == [
        ("cy", "Welsh", "Sgwrs ar ddydd Mawrth"),
        ("ur", "", ""),
    ]

    gone = await post(client, f"{base}/texts", {"action": "remove", "replacing": "ur"})
    assert gone.headers["location"].endswith("done=text_removed#texts-title")
    lang = await post(client, f"{base}/texts", {"action": "language", "text_language": "Saesneg"})
    assert lang.status_code == 303
    page = main_of(await client.get(base))
    assert 'value="Saesneg (English)"' in page


async def test_the_language_of_an_organisations_own_text_and_its_versions(
    client: httpx.AsyncClient, app: Any, sessions: Any
) -> None:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    base = f"/organise/organisations/{org_id}"
    r = await post(client, f"{base}/texts", {"action": "language", "text_language": "Klingon"})
    assert r.status_code == 303  # a real language, with a code of its own
    r = await post(client, f"{base}/texts", {"action": "language", "text_language": "Qwzxv"})
    assert r.status_code == 422 and errors_in(r) == ["text_language"]
    r = await post(
        client,
        f"{base}/texts",
        {"action": "add", "new-language": "Polski", "new-description": "Grupy wsparcia."},
    )
    assert r.status_code == 303
    page = main_of(await client.get(base))
    assert "Polski (Polish)" in page and 'lang="pl"' in page
    # An organisation's form has no ground rules or joining text.
    assert 'id="new-ground_rules"' not in page


async def test_only_organisers_use_the_forms(
    client: httpx.AsyncClient, app: Any, sessions: Any
) -> None:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    await verify_org(client, org_id)
    group_id = await create_group(client, org_id)
    data = {"action": "add", "new-language": "cy", "new-name": "Sgwrs"}
    async with person(app, "Out") as outsider:
        for path in (
            f"/organise/groups/{group_id}/texts",
            f"/organise/organisations/{org_id}/texts",
        ):
            r = await post(outsider, path, data)
            assert r.status_code == 404, path
            # Not even a mistake is told to an outsider.
            r = await post(outsider, path, {"action": "add", "new-language": "nope"})
            assert r.status_code == 404
    async with anonymous(app) as anon:
        r = await post(anon, f"/organise/groups/{group_id}/texts", data)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    async with sessions() as db:
        assert await texts.group_versions(db, group_id) == []


async def test_the_own_joining_text_and_typed_language_names_are_kept(
    client: httpx.AsyncClient, app: Any, sessions: Any
) -> None:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    group_id = await create_group(
        client, org_id, languages="Cymraeg, ur, Punjabi (Gurmukhi)", joining="Bring a cup."
    )
    form = (await client.get(f"/organise/groups/{group_id}/edit")).text
    for typed in ("Cymraeg", "Urdu", "Punjabi (Gurmukhi)"):
        assert f'value="{typed}"' in form, typed
    assert "Bring a cup." in form
    r = await post(client, f"/organise/groups/{group_id}/edit", group_form(joining="x" * 4001))
    assert r.status_code == 422 and "joining" in errors_in(r)
