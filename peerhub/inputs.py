"""The rules every value from outside follows before PeerHub uses it (pure: no web, no SQL).

One place for the checks that used to be repeated, and sometimes missed, in each
route (docs/security.md, "Bad input"):

- :func:`unstorable` — text that no database can take: a NUL character (PostgreSQL
  refuses it in text and the connection's statement fails) or an unpaired surrogate
  (it cannot be encoded as UTF-8 at all). Path, query, form and JSON are checked
  against it before a route runs, and the database layer refuses it as a backstop
  (:func:`check_parameter`, called for every statement by :mod:`peerhub.db`).
- :func:`number` — a number from a form, a query string or JSON: never NaN or
  infinite ("nan", "inf", ``1e400``), never a bool, whole when asked, within bounds.
- :func:`parse_json` — the one JSON reader of every JSON API: bounded size and
  nesting, no ``NaN``/``Infinity`` literals, no number too large for a float, no
  unstorable text in any key or string.

Each problem is a :class:`ValueError` subclass whose message is safe to show and
quotes none of the input.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final

from peerhub.errors import BadInput, FieldError

# NUL, and the surrogate code points (only ever unpaired in a Python str).
_UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")
# The largest and smallest integers both databases store (SQLite and PostgreSQL BIGINT).
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

MAX_JSON_BYTES: Final = 32 * 1024
MAX_JSON_DEPTH: Final = 20
# A JSON string as a whole (so brackets inside strings are not counted), or a bracket.
_JSON_TOKEN: Final = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def unstorable(text: str) -> str | None:
    """What makes ``text`` impossible to store, in plain words; None when it is fine."""
    if text.isascii():
        return "a NUL character" if "\x00" in text else None
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return "a NUL character" if found.group() == "\x00" else "an unpaired surrogate character"


def check_text(value: str, field: str) -> str:
    """``value`` unchanged, or a :class:`FieldError` naming ``field`` and the problem."""
    problem = unstorable(value)
    if problem is not None:
        raise FieldError(field, f"contains {problem}, which PeerHub cannot store.")
    return value


# --- numbers -------------------------------------------------------------------------


def number(
    value: object,
    field: str,
    *,
    whole: bool = False,
    low: float | None = None,
    high: float | None = None,
) -> float | int | None:
    """A finite number from JSON or a form/query field; None when absent or empty.

    Strings are stripped and read as Python floats would read them, except that NaN and
    infinity in every spelling ("nan", "inf", "Infinity", "1e400") are refused, as are
    bools and anything that is not a number. ``whole`` returns an ``int`` and refuses
    fractions; ``low``/``high`` are inclusive bounds named in the message.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError(field, "must be a number")
    if isinstance(value, int):
        # An int of any size is exact: compare it with the bounds before any float.
        if (low is not None and value < low) or (high is not None and value > high):
            raise FieldError(field, _range_message(whole, low, high))
        if whole:
            return value
        try:
            return float(value)
        except OverflowError:
            raise FieldError(field, "must be a number, like 30") from None
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 40:
            raise FieldError(field, "must be a number")
        try:
            result = float(text)
        except ValueError:
            raise FieldError(field, "must be a number") from None
    else:
        result = value
    if not math.isfinite(result):
        # Plain words for people: "nan" and "infinity" are not numbers anyone means here.
        raise FieldError(field, "must be a number, like 30")
    if whole and not result.is_integer():
        raise FieldError(field, "must be a whole number")
    if (low is not None and result < low) or (high is not None and result > high):
        raise FieldError(field, _range_message(whole, low, high))
    return int(result) if whole else result


def _range_message(whole: bool, low: float | None, high: float | None) -> str:
    kind = "a whole number" if whole else "a number"

    def show(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else str(x)

    if low is not None and high is not None:
        return f"must be {kind} from {show(low)} to {show(high)}"
    if low is not None:
        return f"must be {kind} of at least {show(low)}"
    assert high is not None  # noqa: S101 - only called when a bound was broken
    return f"must be {kind} of at most {show(high)}"


def ascii_digits(text: str, *, max_digits: int = 18) -> int | None:
    """``text`` as a non-negative int when it is 1..max_digits ASCII digits, else None.

    ``str.isdigit`` is true for "²" and "٣", which ``int`` then refuses or reads
    as a number nobody typed; this is what a query string's or cookie's digits mean.
    """
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


# --- JSON ----------------------------------------------------------------------------


class JSONProblem(ValueError):
    """A JSON document PeerHub will not read: ``status`` is 413 (too large), 415 (not
    sent as JSON) or 422; ``syntax`` is true when it is not JSON at all."""

    def __init__(self, message: str, status: int = 422, *, syntax: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.syntax = syntax


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in ``raw`` (strings are skipped)."""
    depth = deepest = 0
    for token in _JSON_TOKEN.finditer(raw):
        mark = token.group()
        if mark in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif mark in (b"]", b"}"):
            depth -= 1
    return deepest


class _Number(ValueError):
    """Raised by the decoder's number hooks; :func:`parse_json` words it."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _refuse_constant(name: str) -> Any:
    raise _Number(f"holds {name}, which is not a number JSON allows.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Number("holds a number too large to use.")
    return value


def _bounded_int(text: str) -> int:
    value = int(text) if len(text) <= 40 else None
    if value is None or not INT64_MIN <= value <= INT64_MAX:
        raise _Number("holds a whole number too large to use.")
    return value


# One decoder for every document (json.loads with hooks would build a new one per call,
# which cost about a fifth of a WebSocket frame's decoding; docs/performance.md).
_DECODER: Final = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int
)


def parse_json(
    raw: bytes | str,
    *,
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
    what: str = "The body",
    check_text: bool = True,
) -> Any:
    """A JSON document from outside, or :class:`JSONProblem` saying what is wrong.

    Refused: more than ``max_bytes``; not UTF-8; not JSON; nested deeper than
    ``max_depth`` (checked before parsing, so the parser never recurses far); the
    ``NaN``, ``Infinity`` and ``-Infinity`` literals; numbers that overflow a float
    (``1e400``) or a 64-bit integer; keys or strings with a NUL or an unpaired
    surrogate (``"\ud800"``), unless ``check_text`` is false: the WebSocket protocol
    checks each text field itself, so that its refusal can name the frame's room and
    ``client_id``. ``what`` names the document in messages.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > max_bytes:
        raise JSONProblem(f"{what} is larger than {max_bytes // 1024} KiB.", 413)
    # Counting brackets is cheap; only a document with more of them than the limit
    # can be nested past it, and only then is it scanned token by token.
    if data.count(b"[") + data.count(b"{") > max_depth and json_depth(data) > max_depth:
        raise JSONProblem(f"{what} is nested more than {max_depth} levels deep.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise JSONProblem(f"{what} is not UTF-8 text.", syntax=True) from None
    try:
        value = _DECODER.decode(text)
    except _Number as exc:
        raise JSONProblem(f"{what} {exc.kind}") from None
    except (ValueError, RecursionError):
        raise JSONProblem(f"{what} is not valid JSON.", syntax=True) from None
    problem = _unstorable_in(value) if check_text else None
    if problem is not None:
        raise JSONProblem(f"{what} contains {problem}, which PeerHub cannot store.")
    return value


def _unstorable_in(value: Any) -> str | None:
    if isinstance(value, str):
        return unstorable(value)
    if isinstance(value, Mapping):
        for key, item in value.items():
            problem = unstorable(key) or _unstorable_in(item)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = _unstorable_in(item)
            if problem:
                return problem
    return None


# --- the database backstop -----------------------------------------------------------


def check_parameter(value: object, *, low: int = INT64_MIN, high: int = INT64_MAX) -> None:
    """Raise :class:`BadInput` for a bound SQL parameter no database can take as meant.

    Text with a NUL or an unpaired surrogate; an integer outside ``low``..``high``
    (the column's range: PostgreSQL's INTEGER is 32 bits); a float that is NaN or
    infinite (SQLite stores NaN as NULL). Lists, tuples and dicts (JSON values,
    PostgreSQL arrays, ``executemany`` rows) are looked into, keys included.
    """
    if isinstance(value, str):
        problem = unstorable(value)
        if problem is not None:
            raise BadInput(f"The request contains {problem}, which PeerHub cannot store.")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not low <= value <= high:
            raise BadInput("The request holds a whole number too large to use.")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadInput("The request holds a number that is not finite.")
    elif isinstance(value, list | tuple):
        for item in value:
            check_parameter(item, low=low, high=high)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_parameter(key)
            check_parameter(item, low=low, high=high)
