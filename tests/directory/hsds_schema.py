"""Validation against the official Open Referral HSDS 3.0 schemas, made strict.

The schemas are vendored in ``tests/standards/hsds-3.0`` with their licence (see
``tests/standards/README.md``), so a plain clone has them; nothing is skipped.
Two things are added to what the official files check:

- ``additionalProperties: false`` on every object, so a misspelt or invented field
  fails (the official files allow anything extra);
- strict ``uri`` and ``date-time`` format checks (jsonschema only checks these when
  optional packages are installed, and they are not).
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

STANDARDS = Path(__file__).resolve().parents[1] / "standards" / "hsds-3.0"
BASE = "https://schemas.test/hsds/"
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")

checker = FormatChecker()


@checker.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return (
        bool(_URI.match(value))
        and bool(parts.scheme)
        and (bool(parts.netloc) or parts.scheme in ("mailto", "tel", "urn"))
    )


@checker.checks("date-time")
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value)
    return True


def strict(schema: Any) -> Any:
    """A copy with ``additionalProperties: false`` on every object that lists properties."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict):
                node.setdefault("additionalProperties", False)
                for sub in node["properties"].values():
                    walk(sub)
            for key in ("items", "allOf", "anyOf", "oneOf"):
                if key in node:
                    walk(node[key])
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schema)
    return schema


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(STANDARDS.glob("*.json")):
        if path.name == "openapi.json":
            continue
        contents = strict(json.loads(path.read_text(encoding="utf-8")))
        resources.append(
            (BASE + path.name, Resource.from_contents(contents, default_specification=DRAFT202012))
        )
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    schema = _registry().contents(BASE + name)
    return Draft202012Validator(
        {**schema, "$id": BASE + name}, registry=_registry(), format_checker=checker
    )


def errors(document: Any, name: str) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator(name).iter_errors(document)
    ]


def assert_valid(document: Any, name: str) -> None:
    found = errors(document, name)
    assert not found, f"{name}:\n" + "\n".join(found[:20])


def page_schema() -> dict[str, Any]:
    """openapi.json's Page, strict, with ``contents`` (checked item by item elsewhere)."""
    api = json.loads((STANDARDS / "openapi.json").read_text(encoding="utf-8"))
    page: dict[str, Any] = copy.deepcopy(api["components"]["schemas"]["Page"])
    page["properties"]["contents"] = {"type": "array"}
    page["required"] = sorted(page["properties"])
    page["additionalProperties"] = False
    return page


def assert_page(document: Any, item_schema: str) -> None:
    """A paged list: the wrapper per openapi.json, each item per ``item_schema``."""
    found = [e.message for e in Draft202012Validator(page_schema()).iter_errors(document)]
    assert not found, found
    for i, item in enumerate(document["contents"]):
        problems = errors(item, item_schema)
        assert not problems, f"contents[{i}] ({item_schema}):\n" + "\n".join(problems[:20])
    assert document["size"] == len(document["contents"])
    assert document["empty"] == (len(document["contents"]) == 0)
