"""schemathesis against /openapi.json, in-process: no 5xx, every answer as documented.

The description is fetched from the running app (peerhub/openapi.py serves it). Its
HSDS responses point at the Open Referral schemas on the web; they are replaced by
the same files vendored in ``tests/standards/hsds-3.0`` (as tests/directory uses), so
nothing leaves this process. Each operation gets a bounded, derandomised run of
valid and of invalid inputs (``EXAMPLES`` each), against a small seeded directory.
"""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.app import create_app
from peerhub.db import make_engine, make_sessionmaker
from peerhub.directory.hsds import _SCHEMA_BASE
from peerhub.openapi import document
from peerhub.security.ratelimit import TokenBuckets
from tests.conftest import make_settings, run_sync
from tests.directory.hsds_schema import STANDARDS
from tests.finding.conftest import add_group

EXAMPLES = 25
# Path parameter values that no id is, sent to every operation that takes one (on top
# of schemathesis's own valid and invalid values): control characters (NUL above all),
# dots and slashes, very long, numbers that are not finite, empty.
NASTY_PATH_VALUES = (
    "\x00",
    "a\x00b",
    "\x1f",
    "\n",
    ".",
    "..",
    "a/b",
    "/",
    "x" * 5000,
    "1e400",
    "NaN",
    "-1",
    "",
    " ",
    "💥",
    "00000000-0000-0000-0000-000000000000",
    "%00",
)
PATH_TEMPLATE = re.compile(r"\{(\w+)\}")
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


def local_schema(ref: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """The HSDS schema a remote ``$ref`` names, from the local copy, refs inlined."""
    name = ref.removeprefix(_SCHEMA_BASE + "/").replace("/", "-")
    assert name not in seen, f"cyclic HSDS reference: {(*seen, name)}"
    text = (STANDARDS / name).read_text(encoding="utf-8")
    schema: dict[str, Any] = inline(json.loads(text), (*seen, name))
    return schema


def inline(node: Any, seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            if not ref.startswith("http"):
                ref = f"{_SCHEMA_BASE}/{ref}"  # relative to the file it is in
            return local_schema(ref, seen)
        return {k: inline(v, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [inline(v, seen) for v in node]
    return node


async def seed(db: str) -> None:
    engine = make_engine(db)
    sessions: async_sessionmaker[AsyncSession] = make_sessionmaker(engine)
    try:
        await add_group(
            sessions,
            "Fuzz Welsh Circle",
            languages=("cy", "en"),
            communities=("lgbtq",),
            topics=("anxiety",),
        )
        await add_group(
            sessions,
            "Fuzz Leeds Walk",
            format="in_person",
            postcode="LS6 3HN",
            stages=("recovery",),
        )
    finally:
        await engine.dispose()


NASTY_EXAMPLES = 2  # per value: the query parameters still vary


def fuzzer(
    label: str, strategy: Any, answered: dict[tuple[str, int], int], examples: int = EXAMPLES
) -> Any:
    """A bounded, derandomised Hypothesis test of one operation."""

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call_and_validate(checks=CHECKS)
        key = (label, response.status_code)
        answered[key] = answered.get(key, 0) + 1

    return run


def known_ids(app: Any) -> dict[str, str]:
    """An existing id for each HSDS operation that takes one."""
    found = {}
    with asgi.get_client(app) as client:
        for collection in (
            "services",
            "organizations",
            "service_at_locations",
            "taxonomies",
            "taxonomy_terms",
        ):
            page = client.get(f"/hsds/{collection}").json()
            assert page["contents"], f"/hsds/{collection} is empty: seed more"
            found[f"/hsds/{collection}/{{id}}"] = page["contents"][0]["id"]
    return found


def test_the_public_api_answers_as_documented_whatever_it_is_sent(
    db_url: str, tmp_path: Path
) -> None:
    run_sync(seed, db_url)
    app = create_app(make_settings(db_url, tmp_path))
    # The fuzzer is one client sending hundreds of searches: lift the per-address limit
    # (its 429 is documented, but a run of 429s would test nothing else).
    app.state.match_limits = TokenBuckets(rate=1e6, burst=1_000_000, clock=time.monotonic)
    failures: list[str] = []
    answered: dict[tuple[str, int], int] = {}
    started = time.monotonic()
    try:
        # schemathesis types an ASGI app's messages as dict, Starlette as MutableMapping.
        with asgi.get_client(app) as client:  # type: ignore[arg-type]  # starts the lifespan
            served = client.get("/openapi.json")
        assert served.status_code == 200
        document = inline(copy.deepcopy(served.json()))
        assert "raw.githubusercontent" not in json.dumps(document)
        schema = schemathesis.openapi.from_dict(document)
        schema.app = app
        operations = []
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result.err()
            operations.append(result.ok())
        assert len(operations) >= 10, [op.label for op in operations]
        known = known_ids(app)
        for operation in operations:
            runs: list[tuple[GenerationMode, dict[str, str] | None, str]] = [
                (GenerationMode.POSITIVE, None, operation.label),
                (GenerationMode.NEGATIVE, None, operation.label),
            ]
            if operation.path in known:
                # Random ids only ever find nothing: also ask for one that exists.
                runs.append(
                    (GenerationMode.POSITIVE, {"id": known[operation.path]}, operation.label)
                )
            # And values no id is: each must still be answered as documented (a 404).
            names = PATH_TEMPLATE.findall(operation.path)
            for value in NASTY_PATH_VALUES if names else ():
                nasty = f"{operation.label} with {{{names[0]}}}={value[:20]!r}"
                runs.append((GenerationMode.POSITIVE, dict.fromkeys(names, value), nasty))
            for mode, path_parameters, label in runs:
                strategy = operation.as_strategy(
                    generation_mode=mode, path_parameters=path_parameters
                )
                examples = EXAMPLES if label == operation.label else NASTY_EXAMPLES
                run = fuzzer(label, strategy, answered, examples)
                try:
                    run()
                except Unsatisfiable:
                    # Nothing invalid can be sent to an operation without inputs.
                    assert mode is GenerationMode.NEGATIVE, operation.label
                except Exception as exc:
                    failures.append(f"{operation.label} ({mode.value}):\n{exc}")
    finally:
        asgi.shutdown_lifespans()
    elapsed = time.monotonic() - started
    assert not failures, "\n\n".join(failures)
    # The runs reached real data, not only refusals.
    found = {label for (label, status) in answered if status == 200}
    assert {f"GET {path}" for path in known} <= found, sorted(answered)
    assert "POST /api/match" in found
    # Every operation with path parameters was sent each nasty value, and found nothing.
    nasty_runs = {label for (label, _) in answered if " with {" in label}
    assert len(nasty_runs) == len(NASTY_PATH_VALUES) * len(
        [op for op in operations if PATH_TEMPLATE.search(op.path)]
    ), sorted(nasty_runs)
    assert all(status == 404 for (label, status) in answered if label in nasty_runs), sorted(
        (label, status) for (label, status) in answered if label in nasty_runs and status != 404
    )
    assert elapsed < 90, f"the fuzzing took {elapsed:.0f} s; keep it under 90 s"


def test_every_path_parameter_is_described_and_every_api_route_documented() -> None:
    """/openapi.json declares each {parameter} of each path (in: path, required, with a
    schema), and documents every route of the public JSON API that takes one, so that
    the fuzzing above reaches them."""
    described = document("http://testserver")["paths"]
    for path, item in described.items():
        names = set(PATH_TEMPLATE.findall(path))
        for method, operation in item.items():
            if method == "parameters":
                continue
            declared = {
                p["name"]: p
                for p in [*item.get("parameters", []), *operation.get("parameters", [])]
                if p["in"] == "path"
            }
            assert set(declared) == names, (path, method, sorted(declared), sorted(names))
            for name in names:
                assert declared[name]["required"] is True, (path, name)
                assert declared[name]["schema"].get("type") == "string", (path, name)
            assert "404" in operation["responses"] or not names, (path, method)
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:", Path("/nonexistent")))
    from tests.security.support import endpoints

    public = {
        e.path
        for e in endpoints(app)
        if e.path.startswith(("/hsds/", "/api/match")) and "{rest:path}" not in e.path
    }
    assert public <= set(described), sorted(public - set(described))
