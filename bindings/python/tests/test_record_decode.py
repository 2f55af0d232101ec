"""Records built straight from Salesforce's JSON text (bindings/python/src/rawjson.rs): the
iterator's dicts equal CPython's `json.loads` on the same text — key order, `attributes`, int vs
float, big ints, lossless `Decimal`, escapes and unicode — and equal what `export_page` builds
through the decoded path. Crafted texts go through `_native._decode_records` (one key cache for
the whole list, as an export uses it)."""

import json
import math
from decimal import Decimal

import pytest

import sfcrm
from sfcrm import _native

ACC, OWNER = "acc-1", "user-1"


def same(a, b, path="$"):
    """Deep equality that also checks types, key order and the sign of zero / Decimal text."""
    assert type(a) is type(b), (path, a, b)
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert a == b or (math.isnan(a) and math.isnan(b)), (path, a, b)
        assert math.copysign(1, a) == math.copysign(1, b), (path, a, b)
    elif isinstance(a, Decimal):
        assert str(a) == str(b), (path, a, b)
    else:
        assert a == b, (path, a, b)


def lossless_loads(text):
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


TEXTS = [
    '{"attributes":{"type":"Contact","url":"/services/data/v48.0/sobjects/Contact/003000000000001AAA"},'
    '"Id":"003000000000001AAA","Name":"Zo\\u00eb \\"Q\\" \\\\ \\/ \\b\\f\\n\\r\\t","Account":null,"Owner":{"Alias":"x"}}',
    '{"n":[0,-0,1,-1,9223372036854775807,9223372036854775808,-9223372036854775808,-9223372036854775809,'
    '123456789012345678901234567890,-123456789012345678901234567890]}',
    '{"f":[1.5,-0.0,0.1,1e3,1E-3,-2.5e+2,1.7976931348623157e308,1e400,-1e400,5e-324,1e-400,123456789012345678.25,'
    '0.30000000000000004]}',
    '{"s":["","plain","Zoë 日本 😀","\\ud83d\\ude00","\\u0000\\u001f","\\u2028\\u2029","a\\u00e9b\\u65e5c",'
    '"ünïcödé\\nnext"]}',
    '{"b":[true,false,null],"e":{},"a":[],"nested":[[[]],[{}],{"x":[1,{"y":[2.0]}]}]}',
    ' {\n  "Id" : "003000000000002AAA" ,\r\n\t"X" : [ 1 , 2 ] , "Y" : { } \n} ',
    '{"a":1,"b":2,"a":3}',
    '{"k\\u00e9":1,"ké":2,"\\u0041":3,"A":4}',
    '[1,"two",{"three":3}]',
    '"just a string"',
    "42",
]


@pytest.mark.parametrize("text", TEXTS)
def test_default_mode_equals_json_loads(text):
    (got,) = _native._decode_records([text])
    same(got, json.loads(text))


@pytest.mark.parametrize("text", TEXTS)
def test_lossless_mode_equals_json_loads_with_decimals(text):
    (got,) = _native._decode_records([text], lossless=True)
    same(got, lossless_loads(text))


def test_decimals_keep_the_exact_digits():
    (got,) = _native._decode_records(['{"a":123456789012345678.25,"b":-0,"c":1.50,"d":1E+2,"e":7}'], lossless=True)
    assert [str(v) for v in got.values()] == ["123456789012345678.25", "-0", "1.50", "1E+2", "7"]
    assert all(isinstance(v, Decimal) for v in got.values())


def test_key_cache_across_records_of_changing_shapes():
    texts = [
        '{"a":1,"b":{"c":2,"a":0}}',
        '{"a":1,"b":{"c":2,"a":0}}',
        '{"b":{"a":3,"c":4},"a":5}',
        '{"x":1}',
        '{"a":1,"b":{"c":2,"a":0},"d":{"e":{"f":6}}}',
        '{"k\\u00e9":1}',
        '{"ké":2}',
        '{"a":1,"b":{"c":2,"a":0}}',
    ]
    got = _native._decode_records(texts)
    assert len(got) == len(texts)
    for g, t in zip(got, texts):
        same(g, json.loads(t))
    # Keys are shared between records (interned per export), not rebuilt per record.
    assert next(iter(got[0])) is next(iter(got[1])) is next(iter(got[7]))


def test_more_distinct_keys_than_the_cache_holds():
    text = json.dumps({f"field_{i}": i for i in range(6000)})
    got = _native._decode_records([text, text])
    same(got[0], json.loads(text))
    same(got[1], json.loads(text))


@pytest.mark.parametrize("text", [
    "", "{", '{"a":1', '{"a" 1}', '{"a":1,}', "[1,]", "[1 2]", "tru", "nul", "01", "1.", "-", ".5", "1e",
    '{"a":1}x', '{"a":1}{}', '"\\x"', '"\\u12"', '"\\ud83d"', '"\\ude00"', '"\\ud83d\\u0041"', '"a\nb"',
    '"unterminated', "{1:2}", "[" * 600 + "]" * 600,
])
def test_text_that_is_not_one_json_value_is_a_protocol_error(text):
    with pytest.raises(sfcrm.ProtocolError) as ei:
        _native._decode_records([text])
    assert "a record could not be decoded" in str(ei.value)


def strip_attributes(v):
    """The NDJSON writer's rule: drop `attributes` objects (with `type` or `url`) at any depth."""
    if isinstance(v, dict):
        return {k: strip_attributes(x) for k, x in v.items()
                if not (k == "attributes" and isinstance(x, dict) and ("type" in x or "url" in x))}
    if isinstance(v, list):
        return [strip_attributes(x) for x in v]
    return v


@pytest.mark.parametrize("kind,lossless", [("contacts", False), ("deals", False), ("deals", True), ("notes", False)])
def test_iterator_records_equal_json_loads_of_the_ndjson_export(connected, tmp_path, kind, lossless):
    """The iterator (text -> Python in Rust) and CPython's `json.loads` on the native NDJSON export
    of the same records agree on every record: values, types, key order (less `attributes`, which
    NDJSON leaves out and the iterator keeps, first)."""
    path = tmp_path / "x.ndjson"
    connected.export_to_ndjson(ACC, OWNER, kind, str(path))
    loads = lossless_loads if lossless else json.loads
    want = [loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    got = list(connected.export(ACC, OWNER, kind, lossless=lossless))
    assert len(got) == len(want) > 0
    for g, w in zip(got, want):
        assert next(iter(g)) == "attributes" and g["attributes"]["type"]
        same(strip_attributes(g), w)
