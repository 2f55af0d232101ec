"""Exports with `where=`/`params=` and `fields="*"` (issue 11 items 5 and 6): the filter with bind
values on export, export_page and file exports, `since` still applying, every field expanded from
describe, and the wide object (400 custom fields, one SELECT over the URI limit) exported
completely, equal record by record to what the org serves field by field."""

from __future__ import annotations

import csv
import urllib.parse
from typing import Iterator

import pytest

import sfcrm
from conftest import Emulator, connect, make_config, start_emulator

ACC, OWNER = "acc-x", "user-1"
COMPOUND_TYPES = {"address", "location"}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    e = start_emulator()
    yield e
    e.stop()


DATA_PATH = [""]


@pytest.fixture(scope="module")
def client(emu: Emulator) -> sfcrm.Client:
    config = make_config(emu)
    DATA_PATH[0] = f"/services/data/{config.api_version}"
    c = sfcrm.Client(config)
    connect(c, ACC, OWNER)
    return c


def org_rows(client: sfcrm.Client, sobject: str, fields: list[str], per_query: int = 40) -> dict[str, dict]:
    """What the org serves for `fields`, read with raw REST GETs of a few fields at a time (so the
    reference does not depend on the SDK's own split), merged by Id."""
    version = DATA_PATH[0]
    out: dict[str, dict] = {}
    for i in range(0, len(fields), per_query):
        chunk = [f for f in fields[i : i + per_query] if f != "Id"]
        soql = f"SELECT Id, {', '.join(chunk)} FROM {sobject} ORDER BY Id" if chunk else f"SELECT Id FROM {sobject} ORDER BY Id"
        url = f"{version}/query?q={urllib.parse.quote(soql)}"
        while url:
            body = client.api_get(ACC, OWNER, url)
            for r in body["records"]:
                out.setdefault(r["Id"], {}).update({k: v for k, v in r.items() if k != "attributes"})
            url = body.get("nextRecordsUrl")
    return out


def scalar_fields(client: sfcrm.Client, sobject: str) -> list[str]:
    """The describe's fields without the compound ones (the components are kept)."""
    return [f["name"] for f in client.describe(ACC, OWNER, sobject)["fields"] if f["type"] not in COMPOUND_TYPES]


def test_all_fields_of_the_wide_object_equal_the_orgs_data(client, emu):
    fields = scalar_fields(client, "Wide_Object__c")
    assert len(fields) > 400
    want = org_rows(client, "Wide_Object__c", fields)
    before = client.api_calls().query
    got = list(client.export(ACC, OWNER, "Wide_Object__c", fields="*"))
    assert client.api_calls().query - before >= 2, "one SELECT of every field exceeds the URI limit"
    assert len(got) == len(want) == int(emu.control("info", method="GET")["counts"]["Wide_Object__c"])
    assert [r["Id"] for r in got] == sorted(want)
    for r in got:
        assert r["attributes"]["type"] == "Wide_Object__c"
        rec = {k: v for k, v in r.items() if k != "attributes"}
        assert set(rec) == set(fields), r["Id"]
        assert rec == want[r["Id"]], r["Id"]


def test_all_fields_as_a_list_and_on_a_builtin_type(client):
    fields = scalar_fields(client, "Account")
    a = next(iter(client.export(ACC, OWNER, "Account", fields=["*"])))
    assert set(a) - {"attributes"} == set(fields)
    assert "BillingCity" in a and "BillingAddress" not in a  # components kept, compound dropped
    c = next(iter(client.export(ACC, OWNER, "contacts", fields="*")))
    assert c["attributes"]["type"] == "Contact" and set(c) - {"attributes"} == set(scalar_fields(client, "Contact"))
    it = client.export(ACC, OWNER, "Account", fields="*")
    # Complete before the first record: reading `fields` resolves the describe (no query yet).
    before = client.api_calls()
    assert it.fields[0] == "Id" and set(it.fields) == set(fields)
    assert client.api_calls().query == before.query
    assert [k for k in next(it) if k != "attributes"] == it.fields
    it.close()
    with pytest.raises(sfcrm.InvalidArgumentError, match=r'fields=\["Name"\]'):
        client.export(ACC, OWNER, "Account", fields="Name")


def test_where_with_params_on_export_page_and_files(client, tmp_path):
    everyone = list(client.export(ACC, OWNER, "contacts"))
    surname = next(c["Name"] for c in everyone if "'" in c["Name"]).split(" ", 1)[1]
    want = [c["Id"] for c in everyone if c["Name"].lower().endswith(surname.lower())]
    where, params = "Name LIKE :pattern", {"pattern": "%" + surname}
    got = [r["Id"] for r in client.export(ACC, OWNER, "contacts", where=where, params=params)]
    assert got == want and 0 < len(got) < len(everyone)
    page = client.export_page(ACC, OWNER, "contacts", 1, 2, where=where, params=params)
    # The seed's page body has no Id field: the record URL ends with it.
    assert [r["attributes"]["url"].rsplit("/", 1)[1] for r in page["data"]] == want[:2]
    assert page["pagination"]["total"] == len(want)
    s = client.export_to_csv(ACC, OWNER, "contacts", tmp_path / "c.csv", where=where, params=params)
    rows = list(csv.DictReader((tmp_path / "c.csv").open(newline="", encoding="utf-8")))
    assert s.records == len(want) and [r["Id"] for r in rows] == want
    s = client.export_to_ndjson(ACC, OWNER, "Account", tmp_path / "a.ndjson", fields="*", where="Industry = :i", params={"i": "Media"})
    assert s.records == sum(1 for a in client.export(ACC, OWNER, "Account", fields=["Industry"]) if a["Industry"] == "Media")


def test_since_keeps_working_with_where(client, emu):
    touched = emu.control("records/touch", {"sobject": "Contact", "count": 30})["ids"]
    since = max(c["SystemModstamp"] for c in client.export(ACC, OWNER, "Contact", fields=["SystemModstamp"], where="Id IN :ids", params={"ids": touched[:1]}))
    names = {c["Id"]: c["Name"] for c in client.export(ACC, OWNER, "Contact", fields=["Name"], where="Id IN :ids", params={"ids": touched})}
    pick = sorted(touched)[:10]
    got = [r["Id"] for r in client.export(ACC, OWNER, "Contact", fields=["Name"], since=since, where="Id IN :ids", params={"ids": pick})]
    assert sorted(got) == sorted(i for i in pick if i in names)
    later = [r["Id"] for r in client.export(ACC, OWNER, "Contact", fields=["Name"], since="2999-01-01T00:00:00Z", where="Id IN :ids", params={"ids": pick})]
    assert later == []


def test_bad_filters_fail_before_any_request(client):
    before = client.api_calls().api_requests
    with pytest.raises(sfcrm.InvalidArgumentError, match="where"):
        client.export(ACC, OWNER, "contacts", params={"x": 1})
    for bad in ("Name = 'x' LIMIT 5", "Name = 'x') OR (Id != null", "Name = :missing"):
        with pytest.raises(sfcrm.InvalidArgumentError):
            client.export(ACC, OWNER, "contacts", where=bad)
    with pytest.raises(sfcrm.InvalidArgumentError):
        client.export_page(ACC, OWNER, "contacts", where="Name = :n", params={"n": "a", "unused": 1})
    assert client.api_calls().api_requests == before


def test_fields_before_the_first_record_and_a_describe_error(client):
    """`fields` of an every-field export or a `*` / FIELDS() query is complete before any record
    (a CSV header can be written first); a describe error is raised there and again by `next`."""
    it = client.query(ACC, OWNER, "SELECT Id, FIELDS(STANDARD) FROM Account WHERE Name != :x", {"x": ""})
    standard = [f["name"] for f in client.describe(ACC, OWNER, "Account")["fields"]
                if not f["custom"] and f["type"] not in COMPOUND_TYPES]
    assert it.fields == standard
    assert [k for k in next(it) if k != "attributes"] == standard
    it.close()
    bad = client.export(ACC, OWNER, "Nope__c", fields="*")
    with pytest.raises(sfcrm.ApiError) as ei:
        bad.fields
    assert ei.value.error_code == "NOT_FOUND"
    with pytest.raises(sfcrm.ApiError):
        next(bad)
    assert list(bad) == []


def test_query_fields_all_of_the_wide_object_equals_the_every_field_export(client):
    """`SELECT FIELDS(ALL) FROM Wide_Object__c` (a query, expanded from describe by the export's
    compound rule and read in field groups joined by Id) equals `export(fields="*")` record by
    record; `SELECT *` takes a WHERE with params; FIELDS(CUSTOM) has no `LIMIT 200` cap."""
    exported = list(client.export(ACC, OWNER, "Wide_Object__c", fields="*"))
    before = client.api_calls().query
    queried = list(client.query(ACC, OWNER, "SELECT FIELDS(ALL) FROM Wide_Object__c"))
    assert client.api_calls().query - before >= 2, "one SELECT of every field exceeds the URI limit"
    assert queried == exported
    assert [list(r) for r in queried[:1]] == [list(r) for r in exported[:1]]  # key order too
    names = [r["Name"] for r in exported[:30]]
    some = list(client.query(ACC, OWNER, "SELECT * FROM Wide_Object__c WHERE Name IN :names", {"names": names}))
    assert some == [r for r in exported if r["Name"] in names]
    custom = list(client.query(ACC, OWNER, "SELECT Id, FIELDS(CUSTOM) FROM Wide_Object__c"))
    assert len(custom) == len(exported) > 200
    assert all(k.endswith(("__c", "__s")) for k in custom[0] if k not in ("attributes", "Id"))
