"""The export: everything PeerHub holds about a person, as a JSON download."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select, update

from peerhub.config import Settings
from peerhub.models import AuditEvent, Base, Referral, SignIn, User
from peerhub.privacy.export import COVERED, EXCLUDED, SECRET_COLUMNS, person_columns
from peerhub.security.tokens import digest
from tests.conftest import BASE, TEST_TOTP_SECRET, sign_up
from tests.privacy.helpers import EMAIL, FIRST_NAME, NAME, SAM_WORDS, Seeded, signed_in


def test_every_column_holding_a_person_is_exported_or_excluded_with_a_reason() -> None:
    """Walk the whole schema: a new table with a person's id cannot escape the export."""
    found = {f"{c.table.name}.{c.name}" for c in person_columns()}
    unaccounted = sorted(found - COVERED.keys() - EXCLUDED.keys())
    assert not unaccounted, (
        "columns that hold a person's id but are neither exported nor excluded with a reason "
        f"(peerhub/privacy/export.py COVERED / EXCLUDED): {unaccounted}"
    )
    assert not COVERED.keys() & EXCLUDED.keys()
    # The lists name only real columns, and every reason says something.
    real = {f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns}
    assert not (COVERED.keys() | EXCLUDED.keys() | SECRET_COLUMNS) - real
    assert all(len(reason) > 30 for reason in EXCLUDED.values())
    # Every foreign key to users.id is among them.
    to_users = {
        f"{t.name}.{c.name}"
        for t in Base.metadata.sorted_tables
        for c in t.columns
        if any(fk.column.table.name == "users" for fk in c.foreign_keys)
    }
    assert to_users <= found


async def _export(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/account/export")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_the_export_downloads_as_a_dated_json_file_never_cached(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "River")
    account = await client.get("/account")
    assert 'href="/account/export"' in account.text and 'href="/account/erase"' in account.text
    response = await client.get("/account/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    # The test clock says 2 November 2026.
    assert response.headers["content-disposition"] == (
        "attachment; filename=peerhub-export-2026-11-02.json"
    )
    assert "no-store" in response.headers["cache-control"]
    data = response.json()
    assert data["account"]["pseudonym"] == "River"
    assert data["about"]["exported_at"].startswith("2026-11-02T09:00")
    assert {n["what"] for n in data["about"]["not_included"]} == set(EXCLUDED)
    async with app.state.ctx.sessions() as db:
        actions = set(await db.scalars(select(AuditEvent.action)))
    assert "account.exported" in actions


async def test_the_export_needs_sign_in_and_is_not_started_by_another_site(
    client: httpx.AsyncClient,
) -> None:
    anonymous = await client.get("/account/export")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    await sign_up(client, "River")
    cross = await client.get("/account/export", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    same = await client.get("/account/export", headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200


async def test_every_section_is_filled_for_a_person_with_data_everywhere(
    app: Any, settings: Settings, seeded: Seeded
) -> None:
    async with signed_in(app, settings, seeded.token) as sam:
        data = await _export(sam)
    sections = {s for value in COVERED.values() for s in value.split(", ")}
    # Sam is not a professional: the professional's export is checked below.
    empty = [s for s in sorted(sections - {"referrals_you_made"}) if not data.get(s)]
    assert not empty, f"sections with nothing in them: {empty}"
    assert data["account"]["email"] == EMAIL
    assert data["profile"]["first_name"] == FIRST_NAME
    assert data["crisis_plan"]["what_helps"] == "Quiet music"
    assert data["two_step_sign_in"]["enabled"] is True
    assert data["two_step_sign_in"]["recovery_codes"]["issued"] == 2
    assert [g["group"]["slug"] for g in data["group_memberships"]] == ["tuesday-talk"]
    assert data["join_requests"][0]["group"]["slug"] == "ask-first"
    assert data["join_answers"][0]["message"] == "Not this month, sorry."
    assert data["waiting_lists"][0]["group"]["slug"] == "full-circle"
    assert data["blocks"][0]["person"]["name"] == "Ben"
    assert {"word": "weather", "at": data["personal_mutes"][0]["at"]} in data["personal_mutes"]
    assert data["reports_you_made"][0]["about_person"] == "Ben"
    assert data["crisis_alerts"][0] == {
        "group": {
            "id": seeded.groups["tuesday-talk"],
            "name": "Tuesday Talk",
            "slug": "tuesday-talk",
        },
        "message_seq": 6,
        "raised_at": data["crisis_alerts"][0]["raised_at"],
        "seen_by_a_moderator": False,
        "seen_at": None,
    }
    assert data["sanctions"][0]["reason_given"] == "Please take a breather."
    assert data["referrals_about_you"][0]["referred_by"] == {
        "role": "GP",
        "organisation": "Calder Surgery",
    }
    assert data["security_events"][0]["address"] == "198.51.100.23"
    assert data["sign_in_sessions"][0]["device"]


async def test_the_export_holds_no_secret_and_nobody_elses_words(
    app: Any, settings: Settings, seeded: Seeded
) -> None:
    async with signed_in(app, settings, seeded.token) as sam:
        response = await sam.get("/account/export")
    text = response.text
    async with app.state.ctx.sessions() as db:
        user = await db.get(User, seeded.sam)
        assert user is not None
        sign_in_rows = list(await db.scalars(select(SignIn).where(SignIn.user_id == seeded.sam)))
    assert user.password_hash not in text and "$argon2" not in text
    for row in sign_in_rows:
        assert row.token_hash not in text and row.csrf_token not in text
    assert digest(seeded.token) not in text and seeded.token not in text
    assert TEST_TOTP_SECRET not in text
    assert digest("code-one") not in text and digest("REFERRAL-CODE") not in text
    data = response.json()
    # Only Sam's own messages, never the rest of the conversation.
    assert [m["seq"] for m in data["room_messages"]] == [1, 3, 6]
    assert [m["body"] for m in data["room_messages"]] == list(SAM_WORDS)
    assert "Sorry to hear that." not in text
    # Not who reported Sam, and not moderators' names.
    assert "Worried about them." not in text
    assert "Ana" not in text and "Mo" not in json.dumps(data["sanctions"])


async def test_a_professionals_export_shows_progress_only_with_the_persons_consent(
    app: Any, settings: Settings, seeded: Seeded
) -> None:
    async with signed_in(app, settings, seeded.tokens["gp"]) as gp:
        made = (await _export(gp))["referrals_you_made"]
    assert len(made) == 1
    # The referral has reached "joined", but Sam has not chosen to share progress: it
    # reads exactly as an accepted one, and nothing says that anything is hidden.
    assert made[0]["state"] == "accepted"
    assert [e["state"] for e in made[0]["history"]] == ["sent", "accepted"]
    assert not [k for k in made[0] if "hidden" in k or "progress" in k]
    async with app.state.ctx.sessions() as db, db.begin():
        await db.execute(update(Referral).values(share_progress=True))
    async with signed_in(app, settings, seeded.tokens["gp"]) as gp:
        made = (await _export(gp))["referrals_you_made"]
    assert made[0]["state"] == "joined"
    assert [e["state"] for e in made[0]["history"]] == ["sent", "joined"]


async def test_someone_elses_sign_in_cannot_export_sams_data(
    app: Any, settings: Settings, seeded: Seeded
) -> None:
    async with signed_in(app, settings, seeded.tokens["ana"]) as ana:
        data = await _export(ana)
    assert data["account"]["pseudonym"] == "Ana"
    text = json.dumps(data, ensure_ascii=False)
    assert not any(words in text for words in SAM_WORDS)
    assert [m["seq"] for m in data["room_messages"]] == [2]
    # Ana's own choices about Sam are Ana's data: her block and her mute.
    assert data["blocks"][0]["person"]["name"] == NAME


async def test_export_from_the_account_page_link_works_end_to_end(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client, "Lake")
    response = await client.get("/account/export", headers={"Referer": BASE + "/account"})
    assert response.status_code == 200
    assert response.json()["account"]["pseudonym"] == "Lake"
