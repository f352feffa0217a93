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

from babel.support import LazyProxy

from peerhub.errors import BadInput, FieldError
from peerhub.i18n import _, lazy_gettext

# NUL, and the surrogate code points (only ever unpaired in a Python str).
_UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")
# The largest and smallest integers both databases store (SQLite and PostgreSQL BIGINT).
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

MAX_JSON_BYTES: Final = 32 * 1024
MAX_JSON_DEPTH: Final = 20
# A JSON string as a whole (so brackets inside strings are not counted), or a bracket.
_JSON_TOKEN: Final = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


# What :func:`unstorable` finds (in English: a key, not shown; :func:`cannot_store`
# words it in the page's language).
NUL: Final = "a NUL character"
SURROGATE: Final = "an unpaired surrogate character"


def unstorable(text: str) -> str | None:
    """What makes ``text`` impossible to store, :data:`NUL` or :data:`SURROGATE`; None
    when it is fine. :func:`cannot_store` says it in a sentence in the page's language."""
    if text.isascii():
        return NUL if "\x00" in text else None
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return NUL if found.group() == "\x00" else SURROGATE


def cannot_store(problem: str, subject: str = "field") -> str:
    """The sentence for a :func:`unstorable` problem, in the page's language.
    ``subject``: "field" ("contains a NUL character, …", after a field's name),
    "request", "body" or "frame"."""
    nul = problem == NUL
    if subject == "request":
        if nul:
            return _("The request contains a NUL character, which PeerHub cannot store.")
        return _(
            "The request contains an unpaired surrogate character, which PeerHub cannot store."
        )
    if subject == "body":
        if nul:
            return _("The body contains a NUL character, which PeerHub cannot store.")
        return _("The body contains an unpaired surrogate character, which PeerHub cannot store.")
    if subject == "frame":
        if nul:
            return _("the frame contains a NUL character, which PeerHub cannot store.")
        return _("the frame contains an unpaired surrogate character, which PeerHub cannot store.")
    if nul:
        return _("contains a NUL character, which PeerHub cannot store.")
    return _("contains an unpaired surrogate character, which PeerHub cannot store.")


def check_text(value: str, field: str) -> str:
    """``value`` unchanged, or a :class:`FieldError` naming ``field`` and the problem."""
    problem = unstorable(value)
    if problem is not None:
        raise FieldError(field, cannot_store(problem))
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
        raise FieldError(field, _("must be a number"))
    if isinstance(value, int):
        # An int of any size is exact: compare it with the bounds before any float.
        if (low is not None and value < low) or (high is not None and value > high):
            raise FieldError(field, _range_message(whole, low, high))
        if whole:
            return value
        try:
            return float(value)
        except OverflowError:
            raise FieldError(field, _("must be a number, like 30")) from None
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 40:
            raise FieldError(field, _("must be a number"))
        try:
            result = float(text)
        except ValueError:
            raise FieldError(field, _("must be a number")) from None
    else:
        result = value
    if not math.isfinite(result):
        # Plain words for people: "nan" and "infinity" are not numbers anyone means here.
        raise FieldError(field, _("must be a number, like 30"))
    if whole and not result.is_integer():
        raise FieldError(field, _("must be a whole number"))
    if (low is not None and result < low) or (high is not None and result > high):
        raise FieldError(field, _range_message(whole, low, high))
    return int(result) if whole else result


def _range_message(whole: bool, low: float | None, high: float | None) -> str:
    def show(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else str(x)

    if low is not None and high is not None:
        if whole:
            return _(
                "must be a whole number from %(low)s to %(high)s", low=show(low), high=show(high)
            )
        return _("must be a number from %(low)s to %(high)s", low=show(low), high=show(high))
    if low is not None:
        if whole:
            return _("must be a whole number of at least %(low)s", low=show(low))
        return _("must be a number of at least %(low)s", low=show(low))
    assert high is not None  # noqa: S101 - only called when a bound was broken
    if whole:
        return _("must be a whole number of at most %(high)s", high=show(high))
    return _("must be a number of at most %(high)s", high=show(high))


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

    def __init__(self, kind: str, literal: str = "") -> None:
        super().__init__(kind)
        self.kind = kind  # "constant", "float" or "int"
        self.literal = literal


def _refuse_constant(name: str) -> Any:
    raise _Number("constant", name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Number("float")
    return value


def _bounded_int(text: str) -> int:
    value = int(text) if len(text) <= 40 else None
    if value is None or not INT64_MIN <= value <= INT64_MAX:
        raise _Number("int")
    return value


# One decoder for every document (json.loads with hooks would build a new one per call,
# which cost about a fifth of a WebSocket frame's decoding; docs/performance.md).
_DECODER: Final = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int
)

# What parse_json says, whole sentences for each document it reads (``what``), so that
# each is translated as one message.
_SAYS: Final[dict[str, dict[str, LazyProxy]]] = {
    "The body": {
        "large": lazy_gettext("The body is larger than %(kib)s KiB."),
        "deep": lazy_gettext("The body is nested more than %(depth)s levels deep."),
        "utf8": lazy_gettext("The body is not UTF-8 text."),
        "json": lazy_gettext("The body is not valid JSON."),
        "constant": lazy_gettext("The body holds %(literal)s, which is not a number JSON allows."),
        "float": lazy_gettext("The body holds a number too large to use."),
        "int": lazy_gettext("The body holds a whole number too large to use."),
    },
    "the frame": {
        "large": lazy_gettext("the frame is larger than %(kib)s KiB."),
        "deep": lazy_gettext("the frame is nested more than %(depth)s levels deep."),
        "utf8": lazy_gettext("the frame is not UTF-8 text."),
        "json": lazy_gettext("the frame is not valid JSON."),
        "constant": lazy_gettext("the frame holds %(literal)s, which is not a number JSON allows."),
        "float": lazy_gettext("the frame holds a number too large to use."),
        "int": lazy_gettext("the frame holds a whole number too large to use."),
    },
}


def _say(what: str, key: str, **values: object) -> str:
    text = str(_SAYS.get(what, _SAYS["The body"])[key])
    return text % values if values else text


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
    ``client_id``. ``what`` names the document in messages: "The body" (an API's
    request) or "the frame" (a WebSocket frame); messages are in the page's language.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > max_bytes:
        raise JSONProblem(_say(what, "large", kib=max_bytes // 1024), 413)
    # Counting brackets is cheap; only a document with more of them than the limit
    # can be nested past it, and only then is it scanned token by token.
    if data.count(b"[") + data.count(b"{") > max_depth and json_depth(data) > max_depth:
        raise JSONProblem(_say(what, "deep", depth=max_depth))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise JSONProblem(_say(what, "utf8"), syntax=True) from None
    try:
        value = _DECODER.decode(text)
    except _Number as exc:
        if exc.kind == "constant":
            raise JSONProblem(_say(what, "constant", literal=exc.literal)) from None
        raise JSONProblem(_say(what, exc.kind)) from None
    except (ValueError, RecursionError):
        raise JSONProblem(_say(what, "json"), syntax=True) from None
    problem = _unstorable_in(value) if check_text else None
    if problem is not None:
        subject = "frame" if what == "the frame" else "body"
        raise JSONProblem(cannot_store(problem, subject))
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
            raise BadInput(cannot_store(problem, "request"))
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not low <= value <= high:
            raise BadInput(_("The request holds a whole number too large to use."))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadInput(_("The request holds a number that is not finite."))
    elif isinstance(value, list | tuple):
        for item in value:
            check_parameter(item, low=low, high=high)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_parameter(key)
            check_parameter(item, low=low, high=high)
