"""The crisis route is served even when the database is down; health and readiness."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from peerhub.config import load_crisis_contacts
from tests.conftest import app_client, free_port, make_settings


@pytest.fixture
async def dead_db_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    # Nothing listens on this port: every database call fails fast.
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    contacts = tmp_path / "contacts.json"
    contacts.write_text(
        json.dumps(
            [
                {
                    "name": "Local Crisis Line",
                    "how": "Call 0800 000 0000",
                    "description": "Any time.",
                    "href": "tel:08000000000",
                },
                {"name": "Emergency", "how": "Call 999"},
            ]
        )
    )
    settings = make_settings(dead, tmp_path, crisis_contacts=load_crisis_contacts(contacts))
    async with app_client(settings) as client:
        client.cookies.set("peerhub_session", "some-old-session-token")
        yield client


async def test_crisis_page_works_with_the_database_down(dead_db_client: httpx.AsyncClient) -> None:
    r = await dead_db_client.get("/crisis")
    assert r.status_code == 200
    assert "Need help now?" in r.text and "Local Crisis Line" in r.text
    assert "0800 000 0000" in r.text
    api = await dead_db_client.get("/api/crisis-contacts")
    assert api.json()["crisis_contacts"][0]["name"] == "Local Crisis Line"


async def test_pages_degrade_with_crisis_contacts_when_database_down(
    dead_db_client: httpx.AsyncClient,
) -> None:
    home = await dead_db_client.get("/")
    assert home.status_code == 200
    assert "trouble reaching its data" in home.text
    assert "Local Crisis Line" in home.text
    account = await dead_db_client.get("/account")
    assert account.status_code == 303  # treated as signed out, not a crash
    token_page = await dead_db_client.get("/login")
    token = token_page.text.split('name="csrf-token" content="')[1].split('"')[0]
    r = await dead_db_client.post(
        "/login",
        headers={"Origin": "http://testserver"},
        data={"pseudonym": "x y z", "password": "whatever at all", "csrf_token": token},
    )
    assert r.status_code == 503
    assert "Local Crisis Line" in r.text and "Need help now?" in r.text


async def test_readyz_reports_an_unreachable_database(dead_db_client: httpx.AsyncClient) -> None:
    assert (await dead_db_client.get("/healthz")).status_code == 200
    r = await dead_db_client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"].startswith("unavailable")


async def test_readyz_ok_with_database_and_redis(
    db_url: str, redis_url: str, tmp_path: Path
) -> None:
    settings = make_settings(db_url, tmp_path, redis_url=redis_url)
    async with app_client(settings) as client:
        r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_readyz_fails_when_redis_is_unreachable(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    async with app_client(settings) as client:
        r = await client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"] == "ok"
    assert r.json()["checks"]["redis"].startswith("unavailable")
