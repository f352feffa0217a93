"""Every test the hazard log names must exist, so the safety case cannot drift."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOG = REPO / "docs" / "safety" / "hazard-log.md"
NAMED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_every_named_test_exists() -> None:
    text = LOG.read_text(encoding="utf-8")
    named = NAMED.findall(text)
    assert len(named) >= 10, "the hazard log should name the tests behind its controls"
    missing = [
        f"{file}::{name}"
        for file, name in named
        if not (REPO / file).is_file() or name not in _test_names(REPO / file)
    ]
    assert not missing, f"the hazard log names tests that do not exist: {missing}"


def test_required_hazards_are_logged() -> None:
    text = LOG.read_text(encoding="utf-8").lower()
    for hazard in (
        "approaching crisis is not signposted",
        "database is down",
        "crisis alert reaches no moderator",
        "still receives messages",
        "blocked person is matched",
        "referral outcome is shown without consent",
        "identified through the directory",
        "report is lost",
        "erased account still appears",
        "private data reaching an unchecked organisation",
        "message makes other people's messages fail",
    ):
        assert hazard in text, hazard
