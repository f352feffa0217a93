"""The `peerhub` command, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(
    args: list[str], tmp_path: Path, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PEERHUB_")}
    environment.update({"PEERHUB_DATA_DIR": str(tmp_path / "data"), "PEERHUB_LOG_LEVEL": "WARNING"})
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "peerhub", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "command", [[], ["serve"], ["migrate"], ["demo"], ["create-admin"], ["allocate"]]
)
def test_help(command: list[str], tmp_path: Path) -> None:
    result = run([*command, "--help"], tmp_path)
    assert result.returncode == 0
    assert "usage: peerhub" in result.stdout


def test_unknown_command_is_a_clear_error(tmp_path: Path) -> None:
    result = run(["frobnicate"], tmp_path)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_bad_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = run(["migrate"], tmp_path, PEERHUB_DATABASE_URL="mysql://x/y")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("peerhub: error: PEERHUB_DATABASE_URL:")
    result = run(["serve"], tmp_path, PEERHUB_CRISIS_CONTACTS=str(tmp_path / "missing.json"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("peerhub: error: PEERHUB_CRISIS_CONTACTS:")


def test_migrate_reports_an_unreachable_database(tmp_path: Path) -> None:
    result = run(
        ["migrate"], tmp_path, PEERHUB_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:1/none"
    )
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr


def test_migrate_and_create_admin_on_sqlite(tmp_path: Path) -> None:
    result = run(["migrate"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    again = run(["migrate"], tmp_path)
    assert again.returncode == 0
    created = run(
        ["create-admin", "Site Admin", "--password-stdin"],
        tmp_path,
        stdin="a long admin password\n",
    )
    assert created.returncode == 0, created.stderr
    assert "Site Admin" in created.stdout
    duplicate = run(
        ["create-admin", "site admin", "--password-stdin"],
        tmp_path,
        stdin="a long admin password\n",
    )
    assert duplicate.returncode == 1
    assert "pseudonym" in duplicate.stderr
    weak = run(["create-admin", "Another", "--password-stdin"], tmp_path, stdin="password1\n")
    assert weak.returncode == 1 and "password" in weak.stderr
    nothing = run(["create-admin", "Another"], tmp_path, stdin="")
    assert nothing.returncode == 1 and "password" in nothing.stderr


def test_allocate_on_an_empty_database(tmp_path: Path) -> None:
    assert run(["migrate"], tmp_path).returncode == 0
    result = run(["allocate"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "0 places offered" in result.stdout


def test_bad_smtp_settings_stop_start_up(tmp_path: Path) -> None:
    result = run(
        ["serve", "--port", "1"],
        tmp_path,
        PEERHUB_SMTP_HOST="mail.example.org",
        PEERHUB_SMTP_FROM="nobody",
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("peerhub: error: PEERHUB_SMTP_FROM:")


def test_demo_code_prints_the_demo_accounts_current_code(tmp_path: Path) -> None:
    import time

    from peerhub.demo_data import DEMO_TOTP_SECRET
    from peerhub.security import totp

    before = time.time()
    result = run(["demo-code"], tmp_path)
    after = time.time()
    assert result.returncode == 0, result.stderr
    key = totp.decode_secret(DEMO_TOTP_SECRET)
    assert result.stdout.strip() in {totp.totp(key, before), totp.totp(key, after)}
    assert "changes in" in result.stderr


def test_serve_says_in_one_line_where_pages_and_the_websocket_listen(tmp_path: Path) -> None:
    """At the default log level, start-up prints one line, not uvicorn's and Alembic's chatter."""
    import selectors
    import time
    import urllib.request

    from tests.conftest import free_port

    port, ws_port = free_port(), free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PEERHUB_")}
    environment["PEERHUB_DATA_DIR"] = str(tmp_path / "data")
    process = subprocess.Popen(
        [sys.executable, "-m", "peerhub", "serve", "--port", str(port), "--ws-port", str(ws_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 60
        line = ""
        while not line and time.monotonic() < deadline and process.poll() is None:
            if selector.select(timeout=0.5):
                line = process.stdout.readline()
        assert line.strip() == (
            f"PeerHub serves pages at http://127.0.0.1:{port} and its WebSocket at "
            f"ws://127.0.0.1:{ws_port}/ws  (Ctrl+C to stop)"
        )
        # Printed once both listen: the page answers at once.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert out == "", "nothing after the one line"
    assert err == "", f"start-up and shut-down print nothing more at INFO: {err!r}"


def test_demo_prints_its_summary_without_log_noise(tmp_path: Path) -> None:
    result = run(["demo"], tmp_path, PEERHUB_LOG_LEVEL="INFO")
    assert result.returncode == 0, result.stderr
    assert "Demo data loaded." in result.stdout
    assert result.stderr == "", "no audit or migration lines at the default level"
