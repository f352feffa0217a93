"""The built package stands on its own: its wheel carries the templates, the static files
and the compiled catalogues, and once installed it serves pages with no PEERHUB_FRONTEND_DIR
and nothing from the repository.

How the test gets there, quickly and without downloading PeerHub's dependencies:

- The wheel is built once for this module by ``pip wheel --no-deps`` from a copy of the
  files the Dockerfile builds from (pyproject.toml, setup.py, README.md, LICENSE and
  peerhub/), so a stale ``build/`` folder in the checkout cannot slip files into it and
  parallel runs do not share one. setup.py compiles the catalogues during the build. The
  build backend (setuptools, Babel) comes through pip's build isolation, as for any
  ``pip install .``; nothing else is fetched.
- The fresh virtual environment is made with ``python -m venv --without-pip`` (no
  ensurepip, so it takes a fraction of a second) and this environment's pip installs the
  wheel into it (``pip --python … install --no-deps --no-index``: offline).
- The runtime dependencies are not installed again: a ``.pth`` file in the new
  environment appends this environment's site-packages to ``sys.path``. A folder named in
  a ``.pth`` file is only appended, its own ``.pth`` files are not run, so the editable
  install of the checkout that lives there stays off, and the new environment's own
  site-packages comes first: ``peerhub`` is imported from the wheel (checked below).
  ``--system-site-packages`` would not do: it reaches the base interpreter's packages,
  not this environment's.
- ``peerhub serve`` runs from that environment's ``bin/`` with a temporary SQLite
  database, in a temporary working folder, with no ``PEERHUB_*`` setting but the data
  folder and the database and no ``PYTHONPATH``; the test waits for its one start-up
  line (bounded, no sleep) and fetches the home page, the crisis route and the
  stylesheet the home page links over loopback.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from peerhub import i18n
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[1]
# What the Dockerfile copies to build the package.
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "peerhub")
START_UP_SECONDS = 60


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(
                path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
            )
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out, source],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("peerhub-*.whl")
    return built


def test_the_wheel_carries_every_template_and_static_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("templates", "static"):
        files = [
            path.relative_to(REPO).as_posix()
            for path in (REPO / "peerhub" / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        ]
        assert files, folder
        missing = sorted(set(files) - names)
        assert not missing, f"not in the wheel: {missing[:5]}"
    # The pictures' licence travels with them.
    assert "peerhub/static/easyread/LICENCE" in names
    assert "peerhub-0.1.0.dist-info/licenses/LICENSE" in names


def test_the_wheel_carries_compiled_catalogues(wheel: Path) -> None:
    """Each language's .mo is compiled at build time (setup.py), its .po shipped beside it."""
    names = set(zipfile.ZipFile(wheel).namelist())
    for identifier in i18n.SHIPPED:
        if identifier == i18n.SOURCE:
            continue
        for domain in i18n.DOMAINS:
            assert f"peerhub/locale/{identifier}/LC_MESSAGES/{domain}.mo" in names, identifier
            assert f"peerhub/locale/{identifier}/LC_MESSAGES/{domain}.po" in names, identifier


def _environment(**settings: str) -> dict[str, str]:
    """This process's environment without PeerHub's settings or Python's search paths."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PEERHUB_", "PYTHON", "VIRTUAL_ENV"))
    }
    return {**kept, **settings}


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its bin/ folder."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            wheel,
        ],
        check=True,
        capture_output=True,
        # Without PYTHONPATH: a checkout on it would count as PeerHub already installed.
        env=_environment(),
        timeout=300,
    )
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=60,
    ).stdout.strip()
    ours = dict.fromkeys((sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]))
    (Path(site) / "peerhub-test-runtime.pth").write_text("".join(f"{p}\n" for p in ours))
    return venv / "bin"


def test_the_installed_package_is_the_wheel_not_the_checkout(
    installed: Path, tmp_path: Path
) -> None:
    found = subprocess.run(
        [
            installed / "python",
            "-c",
            "import peerhub.config; print(peerhub.config.PACKAGE_DIR)",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=_environment(),
        cwd=tmp_path,
        timeout=60,
    ).stdout.strip()
    package_dir = Path(found)
    assert package_dir.is_relative_to(installed.parent), package_dir
    assert not package_dir.is_relative_to(REPO)
    assert (package_dir / "templates" / "crisis.html").is_file()


def _get(url: str) -> tuple[int, str, str]:
    assert url.startswith("http://127.0.0.1:")  # loopback only
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (checked above)
        return answer.status, answer.headers.get("Content-Type", ""), answer.read().decode()


@pytest.fixture
def served(installed: Path, tmp_path: Path) -> Iterator[str]:
    """`peerhub serve` from the fresh environment; yields its base URL."""
    port, ws_port = free_port(), free_port()
    environment = _environment(
        PEERHUB_DATA_DIR=str(tmp_path / "data"),
        PEERHUB_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'peerhub.sqlite'}",
    )
    process = subprocess.Popen(
        [installed / "peerhub", "serve", "--port", str(port), "--ws-port", str(ws_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        # The one start-up line is printed once pages and the WebSocket both listen.
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + START_UP_SECONDS
        line = ""
        while not line and time.monotonic() < deadline and process.poll() is None:
            if selector.select(timeout=deadline - time.monotonic()):
                line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}" in line, f"did not start: {line!r}"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert "Traceback" not in err, err


def test_the_installed_package_serves_pages_the_crisis_route_and_static_files(
    served: str,
) -> None:
    status, kind, home = _get(served + "/")
    assert status == 200 and kind.startswith("text/html")
    assert 'href="/crisis"' in home  # "Need help now?" in the header
    status, kind, crisis = _get(served + "/crisis")
    assert status == 200 and kind.startswith("text/html")
    assert "Samaritans" in crisis and "116 123" in crisis and 'href="tel:116123"' in crisis
    stylesheets = re.findall(r'<link rel="stylesheet" href="(/static/[^"]+\.css)"', home)
    assert stylesheets
    status, kind, css = _get(served + stylesheets[0])
    assert status == 200 and kind.startswith("text/css")
    assert css == (REPO / "peerhub" / stylesheets[0].lstrip("/")).read_text(encoding="utf-8")
