"""`make audit`: pip-audit of what is installed, honest about what it could check.

The environment must be exactly the lock it is given (``make`` installs
requirements-dev.lock); any difference fails, so the audit covers what is tested.

pip-audit asks a vulnerability service about each pinned package: PyPI's JSON API
(``/pypi/NAME/VERSION/json``, its default) or OSV. On a machine that reaches PyPI
only through a mirror, the mirror may not serve that API; pip-audit then reports
every package as "not found on PyPI", skips it, and still says "No known
vulnerabilities found" with exit status 0 — a pass that checked nothing.

So this script first asks each service about one locked package. It runs pip-audit
against the first service that answers properly and fails on any vulnerability *or*
any package the service could not audit. Only when no service answers at all does it
print one line saying the audit was skipped, and why, and exit 0 — unless
``PEERHUB_AUDIT_REQUIRED=1``, which makes that a failure too.

Usage: python tools/audit.py [requirements-dev.lock]
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path

TIMEOUT = 10
PYPI = "https://pypi.org/pypi/{name}/{version}/json"
OSV = "https://api.osv.dev/v1/query"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def pins(lock: Path) -> list[tuple[str, str]]:
    """Each ``name==version`` of a lock compiled with hashes (continuation lines of
    ``--hash=`` and ``# via`` comments skipped)."""
    found = []
    for number, raw in enumerate(lock.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "--hash=")):
            continue
        match = PIN.match(line)
        if match is None:
            sys.exit(f"audit: {lock}:{number} is not pinned with == ({line!r})")
        found.append((match.group(1), match.group(2)))
    if not found:
        sys.exit(f"audit: {lock} pins nothing")
    return found


def _get(request: urllib.request.Request) -> tuple[int, bytes]:
    # Fixed https URLs of the two vulnerability services only.
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        return response.status, response.read()


def pypi_answers(name: str, version: str) -> str | None:
    """None when PyPI's per-version JSON (with its vulnerabilities) is served, else why not."""
    request = urllib.request.Request(PYPI.format(name=name, version=version))  # noqa: S310
    try:
        status, body = _get(request)
        if "vulnerabilities" not in json.loads(body):
            return f"HTTP {status} without vulnerability data"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} for {request.full_url}"
    except (OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    return None


def osv_answers(name: str, version: str) -> str | None:
    query = {"package": {"name": name, "ecosystem": "PyPI"}, "version": version}
    request = urllib.request.Request(
        OSV, data=json.dumps(query).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        _get(request)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} from {OSV}"
    except (OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    return None


# Installed but never locked: PeerHub itself (from the work tree) and what `python -m
# venv` puts in every environment before anything is installed.
UNLOCKED = frozenset({"peerhub", "pip", "setuptools", "wheel"})


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def drift(locked: list[tuple[str, str]]) -> list[str]:
    """How the running environment differs from the lock: a locked package missing or at
    another version, or a package installed that the lock does not pin (``UNLOCKED``
    excepted)."""
    norm = {_norm(n): v for n, v in locked}
    installed = {
        _norm(d.metadata["Name"] or ""): d.version
        for d in metadata.distributions()
        if d.metadata["Name"]
    }
    out = []
    for name, version in sorted(norm.items()):
        if name not in installed:
            out.append(f"{name} missing (lock: {version})")
        elif installed[name] != version:
            out.append(f"{name} {installed[name]} (lock: {version})")
    extra = sorted(n for n in installed if n not in norm and n not in UNLOCKED)
    return out + [f"{n} {installed[n]} (not in the lock)" for n in extra]


def main() -> int:
    lock = Path(sys.argv[1] if len(sys.argv) > 1 else "requirements-dev.lock")
    locked = pins(lock)
    changed = drift(locked)
    if changed:
        # What is audited must be what is installed (and tested): run `make` again
        # after the lock changed, or `make lock` after pyproject.toml did.
        print(f"audit: FAILED, this environment differs from {lock}: {', '.join(changed)}")
        return 1
    name, version = locked[0]
    reasons = {}
    service = None
    for candidate, probe in (("pypi", pypi_answers), ("osv", osv_answers)):
        reason = probe(name, version)
        if reason is None:
            service = candidate
            break
        reasons[candidate] = reason
    if service is None:
        why = "; ".join(f"{k}: {v}" for k, v in reasons.items())
        message = (
            f"audit: SKIPPED, no vulnerability service reachable ({why}); "
            f"{lock} ({len(locked)} packages) was NOT checked for known vulnerabilities"
        )
        print(message)
        return 1 if os.environ.get("PEERHUB_AUDIT_REQUIRED") == "1" else 0

    pip_audit = Path(sys.executable).with_name("pip-audit")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [
            str(pip_audit),
            "--requirement",
            str(lock),
            "--no-deps",  # the lock is complete: every package is pinned in it
            "--disable-pip",
            "--progress-spinner",
            "off",
            "--vulnerability-service",
            service,
            "--format",
            "json",
            "--output",
            str(report),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if not report.exists():
            print(done.stdout + done.stderr, file=sys.stderr)
            print(f"audit: FAILED, pip-audit stopped with status {done.returncode}")
            return 1
        results = json.loads(report.read_text(encoding="utf-8"))["dependencies"]
    vulnerable = [d for d in results if d.get("vulns")]
    skipped = [d for d in results if d.get("skip_reason")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            print(f"audit: {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    for dep in skipped:
        print(f"audit: {dep['name']} could not be audited: {dep['skip_reason']}")
    if vulnerable or skipped:
        print(
            f"audit: FAILED ({service}): {len(vulnerable)} vulnerable, "
            f"{len(skipped)} not audited, of {len(results)} packages in {lock}"
        )
        return 1
    print(f"audit: {len(results)} packages in {lock}: no known vulnerabilities ({service})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
