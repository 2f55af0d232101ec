"""Bind values from Python (issue 11 item 2): each Python type becomes the SOQL literal the README
table says, hostile strings stay one literal, and what cannot be bound is InvalidArgumentError
before any request. ``sfcrm.bind_soql`` shows the exact text ``query`` sends."""

import datetime
import decimal
import os
import subprocess
import sys

import pytest

import sfcrm

UTC = datetime.timezone.utc


def bound(value, soql="SELECT Id FROM Contact WHERE X = :v"):
    return sfcrm.bind_soql(soql, {"v": value}).removeprefix("SELECT Id FROM Contact WHERE X = ")


@pytest.mark.parametrize(
    "value,literal",
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-5, "-5"),
        (2**63 - 1, "9223372036854775807"),
        (2**70, "1180591620717411303424"),  # beyond 64 bits: the same digits
        (-(2**70), "-1180591620717411303424"),
        (0.1, "0.1"),
        (-0.0, "0"),
        (1e21, "1000000000000000000000"),
        (12.5, "12.5"),
        (decimal.Decimal("12.50"), "12.50"),
        (decimal.Decimal("1E+3"), "1000"),
        (decimal.Decimal("-1.5E-3"), "-0.0015"),
        (decimal.Decimal("123456789012345678.99"), "123456789012345678.99"),
        ("plain", "'plain'"),
        ("", "''"),
        ("O'Brien", "'O\\'Brien'"),
        (datetime.date(2024, 2, 29), "2024-02-29"),
        (datetime.datetime(2024, 1, 31, 10, 0, tzinfo=UTC), "2024-01-31T10:00:00Z"),
        (datetime.datetime(2024, 1, 31, 10, 0, 0, 123999, tzinfo=UTC), "2024-01-31T10:00:00.123Z"),
        # Other offsets are converted to UTC.
        (
            datetime.datetime(2024, 1, 1, 1, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30))),
            "2023-12-31T20:00:00Z",
        ),
        (["a", "b"], "('a', 'b')"),
        (("x",), "('x')"),
        ([1, None, True, decimal.Decimal("2.5")], "(1, null, true, 2.5)"),
    ],
)
def test_each_type_becomes_its_literal(value, literal):
    assert bound(value) == literal


def test_bool_is_not_an_int():
    assert bound(True) == "true" and bound(1) == "1"


def test_a_hostile_string_stays_one_literal():
    evil = "it's \\ 100% _x_\nline2\r\t'; DELETE FROM Contact --"
    text = sfcrm.bind_soql("SELECT Id FROM Contact WHERE Name = :name LIMIT 5", {"name": evil})
    assert text == (
        "SELECT Id FROM Contact WHERE Name = "
        "'it\\'s \\\\ 100% _x_\\nline2\\r\\t\\'; DELETE FROM Contact --' LIMIT 5"
    )


def test_sets_are_ordered_by_literal_whatever_the_hash_seed():
    """A set's iteration order depends on PYTHONHASHSEED; the bound text (and a checkpoint's hash
    of it) must not."""
    code = (
        "import sfcrm; print(sfcrm.bind_soql('SELECT Id FROM Contact WHERE Name IN :n', "
        "{'n': {'delta', 'alpha', 'charlie', 'bravo', 'echo', 'foxtrot'}}))"
    )
    outs = set()
    for seed in ("1", "2", "3", "4"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        outs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)
    assert outs == {"SELECT Id FROM Contact WHERE Name IN ('alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot')\n"}
    assert bound(frozenset([3, 1, 2])) == "(1, 2, 3)"


def test_placeholders_follow_the_core_rules():
    soql = "SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:30 AND Name = :n AND Title = 'x:y' AND (A = :a)"
    assert sfcrm.bind_soql(soql, {"n": "N", "a": 1}) == (
        "SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:30 AND Name = 'N' AND Title = 'x:y' AND (A = 1)"
    )
    assert sfcrm.bind_soql("SELECT Id FROM Contact") == "SELECT Id FROM Contact"
    assert sfcrm.bind_soql("SELECT Id FROM Contact", {}) == "SELECT Id FROM Contact"


@pytest.mark.parametrize(
    "soql,params,match",
    [
        ("SELECT Id FROM Contact WHERE Name = :name", {}, "name"),  # missing
        ("SELECT Id FROM Contact", {"unused": 1}, "unused"),  # unused
        ("SELECT Id FROM Contact WHERE Id IN :ids", {"ids": []}, "empty list"),
        ("SELECT Id FROM Contact WHERE Id IN :ids", {"ids": set()}, "empty list"),
        ("SELECT Id FROM Contact WHERE Id IN :ids", {"ids": [["a"]]}, "inside a list"),
        ("SELECT Id FROM Contact WHERE X = :v", {"v": float("nan")}, "finite"),
        ("SELECT Id FROM Contact WHERE X = :v", {"v": float("inf")}, "finite"),
        ("SELECT Id FROM Contact WHERE X = :v", {"v": decimal.Decimal("NaN")}, "finite"),
        ("SELECT Id FROM Contact WHERE X = :v", {"v": decimal.Decimal("-Infinity")}, "finite"),
        ("SELECT Id FROM Contact WHERE X = :v", {"v": datetime.datetime(2024, 1, 1)}, "tzinfo"),
        ("SELECT Id FROM Contact WHERE X = :v", {"v": b"bytes"}, "bytes cannot be bound"),
        ("SELECT Id FROM Contact WHERE X = :v", {"v": {"a": 1}}, "dict cannot be bound"),
        ("SELECT Id FROM Contact WHERE X = :v", {"v": object()}, "object cannot be bound"),
        ("SELECT Id FROM Contact WHERE X = :v", {"v": "nul\x00"}, "v"),
        ("SELECT Id FROM Contact WHERE X = :v", {"bad-name": 1, "v": 1}, "bad-name"),
        ("SELECT Id FROM Contact WHERE X = :v", {1: 1}, "keys must be str"),
        ("SELECT Id FROM Contact WHERE X = :v", [("v", 1)], "mapping"),
        ("SELECT Id FROM Contact WHERE X = :v", "v=1", "mapping"),
    ],
)
def test_what_cannot_be_bound_is_invalid_argument(soql, params, match):
    with pytest.raises(sfcrm.InvalidArgumentError, match=match) as ei:
        sfcrm.bind_soql(soql, params)
    assert ei.value.kind == "invalid_argument"


def test_any_mapping_is_accepted():
    import types

    assert bound(7, "SELECT Id FROM Contact WHERE X = :v") == "7"
    assert sfcrm.bind_soql("SELECT Id FROM Contact WHERE X = :v", types.MappingProxyType({"v": 7})).endswith("= 7")


class _IntLike:
    """What numpy.int64 / pandas integers look like to the binding: an `__index__`, not an int."""

    def __init__(self, v: int) -> None:
        self.v = v

    def __index__(self) -> int:
        return self.v


class _Float(float):
    """A float subclass, as numpy.float64 is."""


def test_integer_like_objects_bind_as_their_int():
    # Stand-ins for numpy scalars, so the test runs (and can fail) without numpy installed.
    assert bound(_IntLike(-7)) == "-7" and bound(_IntLike(200)) == "200"
    assert bound(_Float(0.25)) == "0.25"
    assert bound([_IntLike(1), _IntLike(2)]) == "(1, 2)"

