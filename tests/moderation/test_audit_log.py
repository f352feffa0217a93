"""The moderation log is append-only: no code in PeerHub updates or deletes its rows."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "peerhub"


def _mutations(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        # update(ModerationEvent) / delete(ModerationEvent) statements
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("update", "delete")
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == "ModerationEvent"
        ):
            found.append(f"{node.func.id}(ModerationEvent) at line {node.lineno}")
        # db.delete(<an event>) on something named like one
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "delete"
            and node.args
            and isinstance(node.args[0], ast.Name)
            and "event" in node.args[0].id.lower()
        ):
            found.append(f"delete of {node.args[0].id} at line {node.lineno}")
    return found


def test_nothing_updates_or_deletes_moderation_events() -> None:
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        found = _mutations(ast.parse(path.read_text(encoding="utf-8")))
        if found:
            offenders[str(path.relative_to(PACKAGE))] = found
    assert not offenders, offenders


def test_the_check_finds_a_mutation() -> None:
    tree = ast.parse("stmt = delete(ModerationEvent).where(x)\nawait db.delete(event)\n")
    assert len(_mutations(tree)) == 2
