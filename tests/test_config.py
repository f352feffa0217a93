"""Settings are validated at start-up; a bad value names its variable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peerhub.config import DEFAULT_CRISIS_CONTACTS, PACKAGE_DIR, ConfigError, load_settings


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    base = {"PEERHUB_DATA_DIR": str(tmp_path / "data")}
    base.update(values)
    return base


def test_defaults_use_embedded_sqlite_and_uk_crisis_contacts(tmp_path: Path) -> None:
    s = load_settings(env(tmp_path))
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'peerhub.sqlite3'}"
    assert s.redis_url is None
    assert s.crisis_contacts == DEFAULT_CRISIS_CONTACTS
    hows = " ".join(c.how for c in s.crisis_contacts)
    for number in ("116 123", "111", "85258", "999"):
        assert number in hows
    assert s.base_url == "http://127.0.0.1:8000"
    assert "http://127.0.0.1:8000" in s.allowed_origins


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_settings(env(tmp_path)).secret_key
    second = load_settings(env(tmp_path)).secret_key
    assert first == second and len(first) >= 32
    key_file = tmp_path / "data" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_postgres_urls_are_normalised(tmp_path: Path) -> None:
    s = load_settings(env(tmp_path, PEERHUB_DATABASE_URL="postgresql://u@h/db"))
    assert s.database_url == "postgresql+asyncpg://u@h/db"


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"PEERHUB_DATABASE_URL": "mysql://root@localhost/x"}, "PEERHUB_DATABASE_URL"),
        ({"PEERHUB_DATABASE_URL": "not a url"}, "PEERHUB_DATABASE_URL"),
        ({"PEERHUB_REDIS_URL": "http://localhost:6379"}, "PEERHUB_REDIS_URL"),
        ({"PEERHUB_SECRET_KEY": "short"}, "PEERHUB_SECRET_KEY"),
        ({"PEERHUB_BASE_URL": "ftp://example.org"}, "PEERHUB_BASE_URL"),
        ({"PEERHUB_BASE_URL": "https://example.org/path"}, "PEERHUB_BASE_URL"),
        (
            {"PEERHUB_ALLOWED_ORIGINS": "https://ok.example,javascript:alert(1)"},
            "PEERHUB_ALLOWED_ORIGINS",
        ),
        ({"PEERHUB_CRISIS_CONTACTS": "/no/such/file.json"}, "PEERHUB_CRISIS_CONTACTS"),
        ({"PEERHUB_FRONTEND_DIR": "/nonexistent"}, "PEERHUB_FRONTEND_DIR"),
        ({"PEERHUB_WEB_DIR": "/nonexistent"}, "PEERHUB_WEB_DIR"),
        ({"PEERHUB_SESSION_IDLE_SECONDS": "soon"}, "PEERHUB_SESSION_IDLE_SECONDS"),
    ],
)
def test_bad_values_name_the_variable(
    tmp_path: Path, values: dict[str, str], variable: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env(tmp_path, **values))
    assert str(err.value).startswith(variable + ":")


def test_the_frontend_folder_is_read_under_its_name_and_its_older_one(tmp_path: Path) -> None:
    """PEERHUB_FRONTEND_DIR was PEERHUB_WEB_DIR: the older name is still read, and the
    new one wins when both are set."""
    new, old = tmp_path / "new", tmp_path / "old"
    for folder in (new, old):
        (folder / "templates").mkdir(parents=True)
    assert load_settings(env(tmp_path)).frontend_dir == PACKAGE_DIR
    assert load_settings(env(tmp_path, PEERHUB_WEB_DIR=str(old))).frontend_dir == old
    both = env(tmp_path, PEERHUB_WEB_DIR=str(old), PEERHUB_FRONTEND_DIR=str(new))
    assert load_settings(both).frontend_dir == new


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"name": "x"}',
        '[{"how": "Call 1"}]',
        '[{"name": "A", "how": "B", "href": "javascript:alert(1)"}]',
    ],
)
def test_bad_crisis_contact_files_are_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "contacts.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=r"^PEERHUB_CRISIS_CONTACTS:"):
        load_settings(env(tmp_path, PEERHUB_CRISIS_CONTACTS=str(path)))


def test_custom_crisis_contacts_are_loaded(tmp_path: Path) -> None:
    path = tmp_path / "contacts.json"
    path.write_text(
        json.dumps([{"name": "Lifeline", "how": "Call 13 11 14", "href": "tel:131114"}])
    )
    s = load_settings(env(tmp_path, PEERHUB_CRISIS_CONTACTS=str(path)))
    assert [c.name for c in s.crisis_contacts] == ["Lifeline"]


def test_listening_on_sets_the_public_origin(tmp_path: Path) -> None:
    s = load_settings(env(tmp_path)).listening_on("0.0.0.0", 9001)
    assert s.base_url == "http://127.0.0.1:9001"
    assert "http://localhost:9001" in s.allowed_origins
    assert "http://127.0.0.1:8000" not in s.allowed_origins
