"""The core does not import the moderation toolkit: moderation plugs in through the
rooms' seam (peerhub/realtime/policy.py's Registry, filled by app.py), and depends on
the core, never the other way round (docs/architecture.md, "Layers").

Every import statement of every module under peerhub/ outside peerhub/moderation/ is
read from its syntax tree, at any depth (an import inside a function counts as much as
one at the top), relative imports resolved. The few imports the core needs are listed
in ALLOWED with the reason; an entry no longer used fails too, so the list stays true.
"""

from __future__ import annotations

import ast
from pathlib import Path

import peerhub

PACKAGE = Path(peerhub.__file__).parent
TOOLKIT = "peerhub.moderation"

_TABLES = "its tables, read by this module (no behaviour: models only)"
# (importing module, imported module) -> why the core may import it.
ALLOWED: dict[tuple[str, str], str] = {
    ("peerhub.app", "peerhub.moderation.extension"): (
        "the app factory wires the extension into the rooms' Registry"
    ),
    ("peerhub.app", "peerhub.moderation.pages"): "the app factory mounts the toolkit's page",
    ("peerhub.app", "peerhub.moderation.api"): "the app factory mounts the toolkit's routes",
    ("peerhub.schema", "peerhub.moderation.models"): (
        "every package's tables in one metadata (migrations, create_all, the export)"
    ),
    ("peerhub.privacy.export", "peerhub.moderation.models"): (
        "a person's data export covers every table that holds their data; " + _TABLES
    ),
    ("peerhub.privacy.erasure", "peerhub.moderation.models"): (
        "erasure reaches every table that holds a person's data; " + _TABLES
    ),
    ("peerhub.privacy.retention", "peerhub.moderation.models"): (
        "message retention deletes the reports and alerts that quote messages; " + _TABLES
    ),
    ("peerhub.checkins.actions", "peerhub.moderation.models"): (
        "a private check-in starts from a crisis alert or a report and is written to the "
        "group's moderation log; " + _TABLES
    ),
    ("peerhub.web.work", "peerhub.moderation.models"): (
        '"Your rooms" counts open reports and alerts; ' + _TABLES
    ),
    ("peerhub.groups.actions", "peerhub.moderation.models"): (
        "joining refuses a banned person (active_ban reads the sanctions table)"
    ),
    ("peerhub.groups.newcomer_review", "peerhub.moderation.models"): (
        "the group's setting for newcomers' first messages is stored in " + _TABLES
    ),
    ("peerhub.groups.organise", "peerhub.moderation.models"): (
        "the group form's default number of newcomers' messages (a constant)"
    ),
    ("peerhub.groups.validation", "peerhub.moderation.models"): (
        "the bounds of the group form's newcomers setting (constants)"
    ),
    ("peerhub.duty.actions", "peerhub.moderation.models"): (
        "the duty desk opens, closes and reviews crisis alerts; " + _TABLES
    ),
    ("peerhub.duty.escalation", "peerhub.moderation.models"): (
        "the duty ladder climbs for unopened alerts and unhandled reports; " + _TABLES
    ),
    ("peerhub.duty.pages", "peerhub.moderation.models"): (
        "an alert's record and the safeguarding log read the alerts and the log; " + _TABLES
    ),
    ("peerhub.duty.pages", "peerhub.moderation.pages"): (
        "an alert's record writes its moments as the moderation record does (when())"
    ),
    ("peerhub.sharing.routes", "peerhub.moderation.frames"): (
        "a changed sharing choice tells the open consoles to re-read (the mod.changed "
        "frame, built by the toolkit's wire contract)"
    ),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _module(dotted: str) -> str:
    """The longest prefix of ``dotted`` that is a module of PeerHub (``from a import b``
    names module ``a.b`` or a name in ``a``); other names are left as they are."""
    parts = dotted.split(".")
    if parts[0] != "peerhub":
        return dotted
    for end in range(len(parts), 0, -1):
        base = PACKAGE.parent.joinpath(*parts[:end])
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return ".".join(parts[:end])
    return dotted


def imported(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module ``source`` (the text of ``module``) imports, anywhere in it."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.update(_module(f"{target}.{alias.name}") for alias in node.names)
    return {_module(name) for name in found}


def toolkit_imports() -> set[tuple[str, str]]:
    """(core module, toolkit module) for every import of the toolkit by the core."""
    pairs: set[tuple[str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        if name == TOOLKIT or name.startswith(TOOLKIT + ".") or "migrations" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        for target in imported(source, name, is_package=path.name == "__init__.py"):
            if target == TOOLKIT or target.startswith(TOOLKIT + "."):
                pairs.add((name, target))
    return pairs


def test_the_core_imports_nothing_of_moderation_but_what_is_listed() -> None:
    unlisted = sorted(toolkit_imports() - set(ALLOWED))
    assert not unlisted, (
        "core modules import the moderation toolkit (plug in through the seam instead, "
        "or list it in ALLOWED with the reason):\n  "
        + "\n  ".join(f"{a} imports {b}" for a, b in unlisted)
    )


def test_every_listed_import_is_still_made() -> None:
    stale = sorted(set(ALLOWED) - toolkit_imports())
    assert not stale, f"ALLOWED lists imports nobody makes any more: {stale}"


def test_migrations_import_nothing_of_moderation() -> None:
    # The migrations are frozen history: they use their own table definitions.
    for path in (PACKAGE / "migrations").rglob("*.py"):
        targets = imported(path.read_text(encoding="utf-8"), module_name(path))
        assert not {t for t in targets if t.startswith(TOOLKIT)}, path.name


def test_the_reader_finds_every_form_of_import() -> None:
    source = (
        "import peerhub.moderation.extension as ext\n"
        "from peerhub import moderation\n"
        "def later():\n"
        "    from ..moderation import queries\n"
        "    from .. import moderation as m\n"
        "class C:\n"
        "    def m(self):\n"
        "        import peerhub.moderation.policy\n"
    )
    found = {t for t in imported(source, "peerhub.groups.actions") if t.startswith(TOOLKIT)}
    assert found == {
        "peerhub.moderation",
        "peerhub.moderation.extension",
        "peerhub.moderation.queries",
        "peerhub.moderation.policy",
    }
