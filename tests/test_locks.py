"""The two locks (``make lock``): compiled from pyproject.toml with hashes, the runtime
lock inside the development lock, and the environment the tests run in exactly the
development lock (what is tested is what is locked, and what ``make audit`` audits)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tools import audit

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "requirements.lock"
DEV = ROOT / "requirements-dev.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked(lock: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes); fails on any line that is not part of a hashed pin."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    current: str | None = None
    for number, raw in enumerate(lock.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash=sha256:"):
            assert current is not None, f"{lock.name}:{number}: a hash before any pin"
            version, hashes = found[current]
            found[current] = (version, hashes | {line.removesuffix(" \\")})
            continue
        match = PIN.match(line)
        assert match, f"{lock.name}:{number} is not 'name==version \\' ({line!r})"
        current = _norm(match.group(1))
        found[current] = (match.group(2), frozenset())
    return found


def _declared(extra: str | None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return {_norm(Requirement(spec).name) for spec in specs}


@pytest.mark.parametrize("lock", [RUNTIME, DEV], ids=lambda p: p.name)
def test_every_pin_is_exact_and_hashed(lock: Path) -> None:
    pins = _locked(lock)
    assert pins, f"{lock.name} pins nothing"
    assert not [name for name, (_v, hashes) in pins.items() if not hashes]


def test_the_runtime_lock_is_inside_the_development_lock() -> None:
    runtime, dev = _locked(RUNTIME), _locked(DEV)
    assert {n: v for n, (v, _h) in runtime.items() if dev.get(n, ("",))[0] != v} == {}


def test_every_declared_dependency_is_locked() -> None:
    """pyproject.toml changed without `make lock`: a dependency no lock pins."""
    assert _declared(None) - _locked(RUNTIME).keys() == set()
    assert (_declared(None) | _declared("dev")) - _locked(DEV).keys() == set()
    assert not {"pytest", "mypy", "ruff"} & _locked(RUNTIME).keys()  # runtime is lean


def test_the_environment_is_exactly_the_development_lock() -> None:
    """`make` installs requirements-dev.lock; run it again when the lock has changed."""
    assert audit.drift(audit.pins(DEV)) == []


def test_the_audit_reads_a_hashed_lock() -> None:
    read = {_norm(name): version for name, version in audit.pins(RUNTIME)}
    assert read == {name: version for name, (version, _h) in _locked(RUNTIME).items()}
