"""A plain clone must pass its own tests: nothing in the code or the tests reads outside it.

The schemas the tests validate against are vendored in tests/standards with their
licences (tests/standards/README.md); this keeps anyone from pointing a test back at a
folder beside the repository again.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A path built from above the repository's root, or into the shared folder beside it.
OUTSIDE = re.compile(r"""REPO\.parent|parents\[\d+\]\.parent|["']\.\./shared|["']shared["']\s*/""")


def test_no_code_or_test_reads_a_path_outside_the_repository() -> None:
    offenders = []
    for folder in ("peerhub", "tests", "bench", "tools"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if path == Path(__file__).resolve():
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if OUTSIDE.search(line):
                    offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not offenders, "reads outside the repository:\n" + "\n".join(offenders)


def test_vendored_standards_carry_their_licences() -> None:
    standards = REPO / "tests" / "standards"
    for folder in ("hsds-3.0", "compose"):
        assert (standards / folder / "LICENSE").is_file(), folder
    assert (standards / "hsds-3.0" / "openapi.json").is_file()
    assert (standards / "compose" / "compose-spec.json").is_file()
