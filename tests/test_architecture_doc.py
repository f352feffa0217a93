"""docs/architecture.md names every part of the package and every ``peerhub`` subcommand.

The "Layout" section's first code block is a tree: an entry starts a line, indented two
spaces per level under its folder (``peerhub/``, then ``  security/``, then
``    passwords.py``), and its description follows after the name. These tests read
that tree and fail when a file or folder directly inside peerhub/, or a Python package
at any depth, is missing from it; when the tree opens a folder (names anything in it)
but leaves out one of its modules (security/ratelimit.py was left out that way); or
when the tree names something under peerhub/ that is not there. The section
"The `peerhub` command" must name each subcommand of ``peerhub.cli.build_parser()`` as
`` `peerhub NAME` ``, and the whole page may name no other. Nothing here touches a
database or starts a process.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from peerhub import cli

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "architecture.md"
PACKAGE = REPO / "peerhub"

# An entry's indentation is below this; a description's continuation line is indented
# to the description column (24) and is not an entry.
ENTRY_INDENT_LIMIT = 20
# "name", or "name, name, name" (several entries on one line), at the start of a line.
ENTRY = re.compile(r"^( *)((?:[^\s,]+, )*[^\s,]+)")
COMMAND = re.compile(r"`peerhub ([a-z][a-z0-9-]*)")


def _section(text: str, title: str) -> str:
    """The text of the ``## title`` section, up to the next heading of level 2."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match is not None, f"docs/architecture.md has no section '## {title}'"
    return match.group(1)


def layout_paths(text: str) -> set[str]:
    """Every path the Layout tree names: folders end with '/'."""
    section = _section(text, "Layout")
    block = re.search(r"^```\n(.*?)^```", section, re.M | re.S)
    assert block is not None, "the Layout section has no code block"
    paths: set[str] = set()
    folders: list[tuple[int, str]] = []  # (indentation, path) of the enclosing folders
    for line in block.group(1).splitlines():
        match = ENTRY.match(line)
        if match is None or len(match.group(1)) >= ENTRY_INDENT_LIMIT:
            continue
        indent = len(match.group(1))
        while folders and folders[-1][0] >= indent:
            folders.pop()
        parent = folders[-1][1] if folders else ""
        names = match.group(2).split(", ")
        for name in names:
            paths.add(parent + name)
        if len(names) == 1 and names[0].endswith("/"):
            folders.append((indent, parent + names[0]))
    return paths


def package_parts() -> set[str]:
    """What the tree must name: each file and folder directly in peerhub/ (but
    ``__init__.py`` and caches), and every package (a folder with ``__init__.py``)."""
    wanted: set[str] = set()
    for child in PACKAGE.iterdir():
        if child.name.startswith((".", "__pycache__")) or child.name == "__init__.py":
            continue
        if child.is_dir():
            wanted.add(f"peerhub/{child.name}/")
        elif child.suffix == ".py":
            wanted.add(f"peerhub/{child.name}")
    for init in PACKAGE.rglob("__init__.py"):
        folder = init.parent
        if folder != PACKAGE and "__pycache__" not in folder.parts:
            wanted.add(folder.relative_to(REPO).as_posix() + "/")
    return wanted


def unnamed_in_opened_folders(named: set[str]) -> list[str]:
    """Modules of a folder under peerhub/ that the tree opens, but does not name."""
    opened = {path.rsplit("/", 1)[0] + "/" for path in named if not path.endswith("/")}
    opened |= {path.rstrip("/").rsplit("/", 1)[0] + "/" for path in named if path.endswith("/")}
    missing = []
    for folder in sorted(f for f in opened if f.startswith("peerhub/") and f != "peerhub/"):
        for module in sorted((REPO / folder).glob("*.py")):
            path = module.relative_to(REPO).as_posix()
            if module.name != "__init__.py" and path not in named:
                missing.append(path)
    return missing


def subcommands() -> set[str]:
    """The subcommands ``peerhub`` accepts, from its own argument parser."""
    for action in cli.build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("peerhub.cli.build_parser() has no subcommands")


def test_the_layout_names_every_module_and_package() -> None:
    named = layout_paths(DOC.read_text(encoding="utf-8"))
    missing = sorted(package_parts() - named)
    assert not missing, (
        "docs/architecture.md's Layout tree does not name (add a line with what it is "
        "for, and its layer under 'Layers'):\n  " + "\n  ".join(missing)
    )


def test_a_folder_the_layout_opens_has_every_module_named() -> None:
    missing = unnamed_in_opened_folders(layout_paths(DOC.read_text(encoding="utf-8")))
    assert not missing, (
        "docs/architecture.md's Layout tree lists some modules of these folders but "
        "not these:\n  " + "\n  ".join(missing)
    )


def test_the_layout_names_nothing_that_is_gone() -> None:
    named = layout_paths(DOC.read_text(encoding="utf-8"))
    gone = sorted(
        path
        for path in named
        if path.startswith("peerhub/") and not (REPO / path.rstrip("/")).exists()
    )
    assert not gone, "docs/architecture.md's Layout tree names what is not in peerhub/:\n  " + (
        "\n  ".join(gone)
    )


def test_every_subcommand_is_described() -> None:
    section = _section(DOC.read_text(encoding="utf-8"), "The `peerhub` command")
    described = set(COMMAND.findall(section))
    missing = sorted(subcommands() - described)
    assert not missing, (
        "docs/architecture.md, 'The `peerhub` command', does not describe: "
        + ", ".join(f"peerhub {name}" for name in missing)
    )


def test_the_page_names_no_subcommand_that_does_not_exist() -> None:
    named = set(COMMAND.findall(DOC.read_text(encoding="utf-8")))
    unknown = sorted(named - subcommands())
    assert not unknown, "docs/architecture.md names subcommands peerhub does not have: " + (
        ", ".join(unknown)
    )


def test_the_tree_reader_follows_indentation() -> None:
    """The reader itself, on a small tree: nesting, several names on a line, and
    description lines that are not entries."""
    text = (
        "## Layout\n\n```\n"
        "top.toml                a file\n"
        "pkg/\n"
        "  a.py                  a module\n"
        "                        its description, continued\n"
        "  sub/\n"
        "    b.py                in sub\n"
        "  c.py, d.py            two on one line\n"
        "tests/                  back at the top\n"
        "```\n\n## Next\n"
    )
    assert layout_paths(text) == {
        "top.toml",
        "pkg/",
        "pkg/a.py",
        "pkg/sub/",
        "pkg/sub/b.py",
        "pkg/c.py",
        "pkg/d.py",
        "tests/",
    }
