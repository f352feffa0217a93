"""peerhub/inputs.py: the rules every value from outside follows (pure, no database)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peerhub.errors import BadInput, FieldError
from peerhub.inputs import (
    INT64_MAX,
    JSONProblem,
    ascii_digits,
    check_parameter,
    json_depth,
    number,
    parse_json,
    unstorable,
)


@pytest.mark.parametrize(
    "value",
    ["nan", "NaN", " nan ", "inf", "-inf", "Infinity", "-Infinity", "1e400", "-1e400", math.nan],
)
def test_number_refuses_every_spelling_of_nan_and_infinity(value: object) -> None:
    with pytest.raises(FieldError) as caught:
        number(value, "age")
    assert caught.value.field == "age" and caught.value.message == "must be a number, like 30"


def test_number_refuses_infinite_floats_and_huge_ints_without_an_overflow() -> None:
    with pytest.raises(FieldError, match="like 30"):
        number(math.inf, "x")
    with pytest.raises(FieldError, match="like 30"):
        number(10**400, "x")  # float() of it would raise OverflowError
    assert number(10**400, "x", whole=True) == 10**400  # exact; the caller bounds it
    with pytest.raises(FieldError, match="from 0 to 130"):
        number(10**400, "x", whole=True, low=0, high=130)


@pytest.mark.parametrize("value", [True, False, [], {}, b"1", object()])
def test_number_refuses_what_is_not_a_number(value: object) -> None:
    with pytest.raises(FieldError, match="must be a number"):
        number(value, "limit")


def test_number_reads_numbers_and_bounds_them() -> None:
    assert number(None, "x") is None and number("  ", "x") is None
    assert number("12", "x", whole=True) == 12
    assert number("12.0", "x", whole=True) == 12
    assert number(" 2.5 ", "x") == 2.5
    assert number(7, "x") == 7.0
    with pytest.raises(FieldError, match=r"must be a whole number$"):
        number("2.5", "x", whole=True)
    with pytest.raises(FieldError, match="must be a whole number from 1 to 50"):
        number(51, "limit", whole=True, low=1, high=50)
    with pytest.raises(FieldError, match="at least 0"):
        number("-1", "x", low=0)
    with pytest.raises(FieldError, match="must be a number"):
        number("1" * 41, "x")


def test_ascii_digits_refuses_digits_only_unicode_knows() -> None:
    assert ascii_digits("0012") == 12
    for text in ("", "²", "٣", "١٢", "-1", "1.0", " 1", "1" * 19):
        assert ascii_digits(text) is None, text
    assert ascii_digits("1" * 12, max_digits=12) == int("1" * 12)


def test_unstorable_names_nul_and_unpaired_surrogates() -> None:
    assert unstorable("plain") is None and unstorable("é ü 😀 مرحبا") is None
    assert unstorable("a\x00") == "a NUL character"
    assert unstorable("é\x00") == "a NUL character"
    assert unstorable("\ud800") == "an unpaired surrogate character"
    assert unstorable("x\udcff") == "an unpaired surrogate character"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("NaN", "holds NaN"),
        ('{"a": [Infinity]}', "holds Infinity"),
        ("-Infinity", "holds -Infinity"),
        ("1e400", "a number too large to use"),
        ("-1e400", "a number too large to use"),
        ("9223372036854775808", "a whole number too large to use"),
        ("1" * 5000, "a whole number too large to use"),
        ('"\\u0000"', "contains a NUL character"),
        ('{"\\ud800": 1}', "contains an unpaired surrogate character"),
        ('["\\udfff"]', "contains an unpaired surrogate character"),
        ("[" * 21 + "]" * 21, "nested more than 20 levels deep"),
        ("[" * 100_000, "nested more than 20 levels deep"),
        ("{", "not valid JSON"),
        ("", "not valid JSON"),
    ],
)
def test_parse_json_refuses_with_a_reason(raw: str, says: str) -> None:
    with pytest.raises(JSONProblem) as caught:
        parse_json(raw.encode(), max_bytes=10**6)
    assert says in caught.value.message and caught.value.status == 422


def test_parse_json_limits_size_and_reads_what_is_fine() -> None:
    with pytest.raises(JSONProblem) as caught:
        parse_json(b" " * 33 * 1024)
    assert caught.value.status == 413
    with pytest.raises(JSONProblem, match="not UTF-8"):
        parse_json(b'"\xff"')
    assert parse_json(b'{"a": [1, 2.5, "\\u00e9", "[[[", null, true]}') == {
        "a": [1, 2.5, "é", "[[[", None, True]
    }
    assert parse_json("[" * 20 + "]" * 20) == json.loads("[" * 20 + "]" * 20)
    assert parse_json(str(INT64_MAX)) == INT64_MAX


def test_json_depth_skips_brackets_in_strings() -> None:
    assert json_depth(b'["[[[[", {"k": "]]}}"}]') == 2
    assert json_depth(b'"\\"[[["') == 0
    assert json_depth(b"{}") == 1


@settings(max_examples=200, derandomize=True, database=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=20,
    )
)
def test_parse_json_never_fails_otherwise_than_with_a_json_problem(value: object) -> None:
    """Whatever JSON arrives, the reader answers with a value or a JSONProblem."""
    raw = json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")
    problem: JSONProblem | None = None
    try:
        parsed = parse_json(raw, max_bytes=10**6)
    except JSONProblem as exc:
        problem = exc
    if problem is not None:
        assert problem.status == 422
    else:
        assert parsed == value


@pytest.mark.parametrize(
    "value",
    [
        "a\x00",
        ["ok", "\ud800"],
        {"k": "\x00"},
        {"\x00": 1},
        2**63,
        -(2**63) - 1,
        math.nan,
        [math.inf],
    ],
)
def test_the_database_backstop_refuses_what_no_database_takes_as_meant(value: object) -> None:
    with pytest.raises(BadInput):
        check_parameter(value)


def test_the_database_backstop_lets_ordinary_values_through() -> None:
    for value in (
        "text",
        "é\n\t",
        2**63 - 1,
        -(2**63),
        1.5,
        True,
        None,
        b"\x00",
        [1, "a"],
        {"a": 1},
    ):
        check_parameter(value)
    with pytest.raises(BadInput):
        check_parameter(2**31, low=-(2**31), high=2**31 - 1)
