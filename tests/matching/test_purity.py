"""The matching engine is pure: no web framework, database, cache or network."""

from __future__ import annotations

import ast
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import peerhub.matching

# Top-level packages the engine must not pull in (urllib.parse is plain string
# handling that the standard library itself imports, so only urllib.request counts).
FORBIDDEN = (
    "starlette",
    "sqlalchemy",
    "redis",
    "httpx",
    "requests",
    "urllib.request",
    "http",
    "socket",
    "ssl",
    "asyncio",
    "aiosqlite",
    "asyncpg",
    "jinja2",
    "uvicorn",
    "websockets",
)
PACKAGE = Path(peerhub.matching.__file__).parent


def _modules() -> list[str]:
    return [f"peerhub.matching.{m.name}" for m in pkgutil.iter_modules([str(PACKAGE)])] + [
        "peerhub.matching"
    ]


def test_importing_every_module_loads_nothing_forbidden() -> None:
    # In a fresh interpreter: this test process has already imported the web app.
    code = (
        "import importlib, json, sys\n"
        f"for name in {_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    # Without coverage's start-up in the child (`make coverage` measures subprocesses),
    # which imports modules of its own: what counts is what the engine imports.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    loaded = json.loads(out.stdout)
    bad = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert bad == []


def test_the_language_module_imports_only_the_stdlib_and_langcodes() -> None:
    path = Path(peerhub.matching.__file__).parent.parent / "languages.py"
    allowed = set(sys.stdlib_module_names) - {"urllib", *FORBIDDEN}
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            root = name.split(".")[0]
            assert root in allowed or root in ("langcodes", "language_data"), name


def test_source_imports_only_the_stdlib_taxonomy_and_itself() -> None:
    # peerhub.languages is pure too (langcodes and its CLDR data, read once, cached).
    allowed_roots = (set(sys.stdlib_module_names) | {"dateutil"}) - {"urllib"}
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level > 0:
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                ok = name.split(".")[0] in allowed_roots - set(FORBIDDEN) or name in (
                    "peerhub.taxonomy",
                    "peerhub.languages",
                )
                assert ok, f"{path.name} imports {name}"
