"""A plain clone must pass its own tests: nothing in the repository points outside it.

The schemas the tests validate against are vendored in tests/standards with their
licences (tests/standards/README.md). These tests keep any tracked file from pointing
back at the folder that used to sit beside the repository, keep code from building
paths above the repository's root, and keep the vendored copy exactly what is used.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
STANDARDS = REPO / "tests" / "standards"
HSDS = STANDARDS / "hsds-3.0"
# The folder beside the repository, spelt in pieces so that this file can be scanned too.
_SHARED = "sha" + "red"
OUTSIDE_ANY_FILE = re.compile(
    rb"\.\./"
    + _SHARED.encode()
    + rb"|/work/"
    + _SHARED.encode()
    + rb"|"
    + _SHARED.encode()
    + rb"/(standards|DESIGN\.md|hooks|reference|seeds)\b"
)
# In Python, a path built from above the repository's root.
OUTSIDE_PYTHON = re.compile(
    r"""REPO\.parent\b|parents\[\d+\]\.parent\b|["']""" + _SHARED + r"""["']\s*/"""
)
# A JSON file named in code: "taxonomy.json", "compiled/service_list.json", ...
JSON_NAME = re.compile(r"""["']((?:compiled/)?[a-z_]+\.json)["']""")


def tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    files = [name for name in out.split("\0") if name]
    assert "tests/test_standalone.py" in files, "git ls-files did not list this repository"
    return files


def test_no_tracked_file_points_at_the_folder_beside_the_repository() -> None:
    offenders = []
    for name in tracked_files():
        path = REPO / name
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        for number, line in enumerate(path.read_bytes().splitlines(), 1):
            if OUTSIDE_ANY_FILE.search(line):
                offenders.append(f"{name}:{number}: {line.strip()[:160]!r}")
    assert not offenders, "points outside the repository:\n" + "\n".join(offenders)


def test_no_python_builds_a_path_above_the_repository() -> None:
    offenders = []
    for name in tracked_files():
        if not name.endswith(".py"):
            continue
        for number, line in enumerate((REPO / name).read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE_PYTHON.search(line):
                offenders.append(f"{name}:{number}: {line.strip()}")
    assert not offenders, "builds a path outside the repository:\n" + "\n".join(offenders)


def test_the_scans_catch_what_they_are_for() -> None:
    up = ".pa" + "rent"  # spelt in pieces so that this file passes its own scan
    for line in (
        b"see ../" + _SHARED.encode() + b"/DESIGN.md",
        b"cp -r /work/" + _SHARED.encode() + b"/standards/compose tests/",
        b"schemas in " + _SHARED.encode() + b"/standards/hsds-3.0",
    ):
        assert OUTSIDE_ANY_FILE.search(line), line
    for code in (
        f'STANDARDS = REPO{up} / "{_SHARED}" / "standards"',
        f'ROOT = Path(__file__).parents[1]{up} / "x"',
        f'folder = here / "{_SHARED}" / "standards"',
    ):
        assert OUTSIDE_PYTHON.search(code), code
    assert not OUTSIDE_ANY_FILE.search(b"a shared device; shared links keep working")
    assert not OUTSIDE_PYTHON.search(f"path{up} / 'x'")


def _refs(node: Any) -> set[str]:
    """The file names a schema ``$ref``s (not its own ``#/...`` pointers)."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            found.add(ref.split("#")[0].rsplit("/", 1)[-1])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def test_vendored_hsds_schemas_are_exactly_the_ones_used() -> None:
    """Every HSDS file that code or tests name, and what those ``$ref``, is here; no other."""
    named = {"openapi.json"}  # the page wrapper, read by tests/directory/hsds_schema.py
    for name in tracked_files():
        if name.endswith(".py") and name.startswith(("peerhub/", "tests/")):
            text = (REPO / name).read_text(encoding="utf-8")
            for found in JSON_NAME.findall(text):
                local = found.replace("/", "-")
                if (HSDS / local).is_file() or found.startswith("compiled/"):
                    named.add(local)
    needed: set[str] = set()
    todo = sorted(named)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        assert (HSDS / name).is_file(), f"{name} is used but not vendored in {HSDS}"
        if name != "openapi.json":
            todo.extend(_refs(json.loads((HSDS / name).read_text(encoding="utf-8"))))
    vendored = {path.name for path in HSDS.glob("*.json")}
    assert vendored == needed, f"vendored but unused: {sorted(vendored - needed)}"
    assert {"compiled-service.json", "taxonomy_term.json", "metadata.json"} <= needed


def test_vendored_standards_carry_their_licences() -> None:
    hsds_licence = (HSDS / "LICENSE").read_text(encoding="utf-8")
    assert "Attribution-ShareAlike 4.0 International Public License" in hsds_licence
    compose_licence = (STANDARDS / "compose" / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in compose_licence and "Version 2.0" in compose_licence
    assert (STANDARDS / "compose" / "compose-spec.json").is_file()
    readme = (STANDARDS / "README.md").read_text(encoding="utf-8")
    for needle in ("HSDS) **3.0**", "CC BY-SA 4.0", "compose-spec/compose-spec", "Apache-2.0"):
        assert needle in readme, needle
