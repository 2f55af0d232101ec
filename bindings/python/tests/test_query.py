"""SOQL queries (issue 11): bind values that stay literals, child cursors completed and counted,
checkpoints that survive a session expiry, typed errors carrying Salesforce's errorCode, files,
query_one, all_rows and asyncio. The module runs on its own emulator (it changes the child batch
size and expires sessions)."""

from __future__ import annotations

import asyncio
import collections
import datetime
import csv
import json
from decimal import Decimal
from typing import Iterator

import pytest

import sfcrm
from conftest import Emulator, connect, make_config, start_emulator

ACC, OWNER = "acc-q", "user-1"
HOSTILE = "it's \\ 100% _x_ \"q\"\nline2'; DELETE FROM Contact WHERE Name != '"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    e = start_emulator()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def client(emu: Emulator) -> sfcrm.Client:
    c = sfcrm.Client(make_config(emu))
    connect(c, ACC, OWNER)
    return c


@pytest.fixture(scope="module")
def contacts(client: sfcrm.Client) -> list[dict]:
    """Every Contact (Id, Name, AccountId) through the export path, the reference for queries."""
    return list(client.export(ACC, OWNER, "Contact", fields=["Name", "AccountId"]))


def ids(records) -> list[str]:
    return [r["Id"] for r in records]


def test_a_filtered_query_with_bind_values(client, contacts):
    name = next(c["Name"] for c in contacts if "'" in c["Name"])  # e.g. "Priya O'Connor"
    want = sorted(c["Id"] for c in contacts if c["Name"] == name)
    soql = "SELECT Id, Name FROM Contact WHERE Name = :name AND CreatedDate < :until AND Id IN :ids"
    params = {"name": name, "until": datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc), "ids": set(want)}
    got = list(client.query(ACC, OWNER, soql, params))
    assert sorted(ids(got)) == want and all(r["Name"] == name for r in got)
    assert got[0]["attributes"]["type"] == "Contact"
    # LIKE: a bound string's % and _ are wildcards there (as in Apex), its quote a literal quote.
    surname = name.split(" ", 1)[1]
    like = list(client.query(ACC, OWNER, "SELECT Id FROM Contact WHERE Name LIKE :p", {"p": "%" + surname}))
    assert sorted(ids(like)) == sorted(c["Id"] for c in contacts if c["Name"].lower().endswith(surname.lower()))


def test_a_hostile_value_stays_one_literal(client, contacts):
    soql = "SELECT Id, Name FROM Contact WHERE Name = :name"
    text = sfcrm.bind_soql(soql, {"name": HOSTILE})
    assert text == (
        "SELECT Id, Name FROM Contact WHERE Name = "
        "'it\\'s \\\\ 100% _x_ \\\"q\\\"\\nline2\\'; DELETE FROM Contact WHERE Name != \\''"
    )
    assert list(client.query(ACC, OWNER, soql, {"name": HOSTILE})) == []
    assert client.query_one(ACC, OWNER, soql, {"name": HOSTILE}) is None
    # The value did not end the condition: its negation matches every Contact.
    everyone = list(client.query(ACC, OWNER, "SELECT Id FROM Contact WHERE Name != :name", {"name": HOSTILE}))
    assert len(everyone) == len(contacts)


def test_missing_and_unused_names_fail_before_any_request(client):
    before = client.api_calls().api_requests
    with pytest.raises(sfcrm.InvalidArgumentError, match="name"):
        next(client.query(ACC, OWNER, "SELECT Id FROM Contact WHERE Name = :name"))
    # Python values that cannot be bound, and bad options, raise at the call.
    with pytest.raises(sfcrm.InvalidArgumentError, match="extra"):
        next(client.query(ACC, OWNER, "SELECT Id FROM Contact", {"extra": 1}))
    with pytest.raises(sfcrm.InvalidArgumentError, match="children"):
        client.query(ACC, OWNER, "SELECT Id FROM Contact", children="some")
    with pytest.raises(sfcrm.InvalidArgumentError, match="tzinfo"):
        client.query(ACC, OWNER, "SELECT Id FROM Contact WHERE CreatedDate > :t", {"t": datetime.datetime(2024, 1, 1)})
    assert client.api_calls().api_requests == before


def test_a_parent_with_three_children_is_complete_in_two_calls(client, emu, contacts):
    per_account = collections.Counter(c["AccountId"] for c in contacts if c["AccountId"])
    account = min(a for a, n in per_account.items() if n == 3)
    want = sorted(c["Id"] for c in contacts if c["AccountId"] == account)
    soql = "SELECT Id, Name, (SELECT Id, Name FROM Contacts ORDER BY Id) FROM Account WHERE Id = :id"
    emu.control("child_batch_size", {"size": 2})
    try:
        before = client.api_calls()
        [acc] = list(client.query(ACC, OWNER, soql, {"id": account}))
        after = client.api_calls()
        kids = acc["Contacts"]
        assert kids["done"] is True and kids["totalSize"] == 3 and "nextRecordsUrl" not in kids
        assert ids(kids["records"]) == want
        assert (after.query - before.query, after.query_more - before.query_more) == (1, 1)
        assert after.api_requests - before.api_requests == 2

        # As sent: the first two children and the nested cursor, one call.
        before = client.api_calls()
        [acc] = list(client.query(ACC, OWNER, soql, {"id": account}, children="as_sent"))
        assert client.api_calls().api_requests - before.api_requests == 1
        kids = acc["Contacts"]
        assert kids["done"] is False and kids["totalSize"] == 3 and len(kids["records"]) == 2
        assert kids["nextRecordsUrl"].startswith("/services/data/")
    finally:
        emu.control("child_batch_size", {"size": 200})


def test_resumed_from_a_checkpoint_after_the_session_expired(client, emu, contacts):
    soql = "SELECT Id, Name FROM Contact WHERE Name != :skip"
    it = client.query(ACC, OWNER, soql, {"skip": "nobody"}, batch_size=200)
    first = [next(it) for _ in range(250)]
    token = it.checkpoint
    it.close()
    expired = emu.control("sessions/expire")
    assert expired["expired"] >= 1
    refreshes = client.api_calls().refreshes
    rest = list(client.query(ACC, OWNER, soql, {"skip": "nobody"}, batch_size=200, checkpoint=token))
    assert client.api_calls().refreshes == refreshes + 1
    got = ids(first) + ids(rest)
    assert len(got) == len(set(got)) == len(contacts)
    assert set(got) == set(ids(contacts))


def test_a_checkpoint_does_not_resume_another_query(client):
    it = client.query(ACC, OWNER, "SELECT Id FROM Contact", batch_size=200)
    next(it)
    token = it.checkpoint
    it.close()
    with pytest.raises(sfcrm.InvalidArgumentError):
        next(client.query(ACC, OWNER, "SELECT Id FROM Lead", checkpoint=token))


@pytest.mark.parametrize(
    "soql,code,text",
    [
        ("SELECT Nme FROM Contact", "INVALID_FIELD", "No such column 'Nme'"),
        ("SELECT Id FROM Contacts", "INVALID_TYPE", "Contacts"),
        ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY", "ERROR at Row:1"),
    ],
)
def test_bad_soql_is_a_typed_error_with_salesforces_code(client, soql, code, text):
    with pytest.raises(sfcrm.ApiError) as ei:
        list(client.query(ACC, OWNER, soql))
    e = ei.value
    assert e.error_code == code and e.status == 400 and text in e.message
    assert e.kind == "api" and type(e) is sfcrm.ApiError


def test_query_one(client, contacts):
    c = contacts[7]
    rec = client.query_one(ACC, OWNER, "SELECT Id, Name, Account.Name FROM Contact WHERE Id = :id", {"id": c["Id"]})
    assert rec is not None and rec["Id"] == c["Id"] and rec["Name"] == c["Name"]
    with pytest.raises(sfcrm.InvalidArgumentError, match="LIMIT 1"):
        client.query_one(ACC, OWNER, "SELECT Id FROM Contact WHERE Name != :n", {"n": "x"})


def test_lossless_numbers_and_all_rows(client, emu):
    big = [r for r in client.query(ACC, OWNER, "SELECT Id, Amount FROM Opportunity WHERE Amount > :n", {"n": 0}, lossless=True)]
    assert big and all(isinstance(r["Amount"], Decimal) for r in big)
    lead = client.query_one(ACC, OWNER, "SELECT Id FROM Lead WHERE Name != null ORDER BY Id LIMIT 1")
    assert lead is not None
    emu.control("records/delete", {"sobject": "Lead", "ids": [lead["Id"]]})
    soql = "SELECT Id, IsDeleted FROM Lead WHERE Id = :id"
    assert list(client.query(ACC, OWNER, soql, {"id": lead["Id"]})) == []
    [row] = list(client.query(ACC, OWNER, soql, {"id": lead["Id"]}, all_rows=True))
    assert row["IsDeleted"] is True


def test_query_to_csv_and_ndjson(client, tmp_path, contacts):
    n = sum(1 for c in contacts if c["AccountId"])
    soql = "SELECT Id, Name, Account.Name FROM Contact WHERE AccountId != :none"
    s = client.query_to_csv(ACC, OWNER, soql, tmp_path / "c.csv", {"none": None})
    assert s.records == n and s.path == tmp_path / "c.csv"
    rows = list(csv.reader((tmp_path / "c.csv").open(newline="", encoding="utf-8")))
    assert rows[0] == ["Id", "Name", "Account.Name"] and len(rows) == n + 1
    s = client.query_to_ndjson(ACC, OWNER, soql, str(tmp_path / "c.ndjson"), {"none": None}, batch_size=500)
    lines = (tmp_path / "c.ndjson").read_text(encoding="utf-8").splitlines()
    assert s.records == len(lines) == n
    assert all(json.loads(line)["Account"]["Name"] for line in lines)


def test_bad_soql_writes_no_file(client, tmp_path):
    with pytest.raises(sfcrm.ApiError):
        client.query_to_csv(ACC, OWNER, "SELECT Nme FROM Contact", tmp_path / "bad.csv")
    assert list(tmp_path.iterdir()) == []


def test_async_query(emu, contacts):
    async def main() -> tuple[list[str], str]:
        client = sfcrm.AsyncClient(make_config(emu))
        connect(client.sync, ACC, OWNER)
        got = []
        q = client.query(ACC, OWNER, "SELECT Id FROM Contact WHERE Name != :x", {"x": HOSTILE}, batch_size=200)
        async for r in q:
            got.append(r["Id"])
        one = await client.query_one(ACC, OWNER, "SELECT Id FROM Contact WHERE Id = :id", {"id": got[3]})
        assert one is not None
        return got, one["Id"]

    got, one = asyncio.run(main())
    assert sorted(got) == sorted(ids(contacts)) and one == got[3]


def test_polymorphic_lookups_and_compound_values_pass_through(client, tmp_path):
    rows = list(client.query(ACC, OWNER, "SELECT Id, What.Name, What.Type FROM Task WHERE What.Type = :t", {"t": "Opportunity"}))
    assert rows and all(r["What"]["attributes"]["type"] == "Name" and r["What"]["Type"] == "Opportunity" for r in rows)
    typed = list(client.query(ACC, OWNER, "SELECT Id, TYPEOF What WHEN Account THEN Name, Industry WHEN Opportunity THEN Amount END FROM Task WHERE WhatId != null"))
    kinds = {r["What"]["attributes"]["type"] for r in typed}
    assert kinds == {"Account", "Opportunity"}
    assert all(("Industry" in r["What"]) == (r["What"]["attributes"]["type"] == "Account") for r in typed)
    soql = "SELECT Id, BillingAddress FROM Account WHERE BillingCity != :none"
    addresses = {r["Id"]: r["BillingAddress"] for r in client.query(ACC, OWNER, soql, {"none": None})}
    assert all(list(a)[:2] == ["city", "country"] for a in addresses.values())
    client.query_to_csv(ACC, OWNER, soql, tmp_path / "a.csv", {"none": None})
    rows = list(csv.DictReader((tmp_path / "a.csv").open(newline="", encoding="utf-8")))
    assert len(rows) == len(addresses)
    for r in rows:
        assert json.loads(r["BillingAddress"]) == addresses[r["Id"]]  # the JSON object, never "{city=...}"


def test_a_locator_query_after_the_session_expired_says_what_to_change(client, emu):
    soql = "SELECT Id, Name FROM Contact ORDER BY Name"
    it = client.query(ACC, OWNER, soql, batch_size=200)
    for _ in range(250):
        next(it)
    token = it.checkpoint
    it.close()
    emu.control("sessions/expire")
    with pytest.raises(sfcrm.SfcrmError) as ei:
        list(client.query(ACC, OWNER, soql, batch_size=200, checkpoint=token))
    # The locator died with the session: the error keeps Salesforce's code and says what to change.
    assert ei.value.error_code in ("INVALID_SESSION_ID", "INVALID_QUERY_LOCATOR")
    assert "ORDER BY" in ei.value.message and "select Id" in ei.value.message, ei.value.message


def test_fields_are_the_select_lists_columns(client):
    it = client.query(ACC, OWNER, "SELECT Id, Name, Account.Name, (SELECT Id FROM Notes) FROM Contact WHERE Name != :x", {"x": ""})
    assert it.fields == ["Id", "Name", "Account.Name", "Notes"]
    first = next(it)
    assert [k for k in first if k != "attributes"] == ["Id", "Name", "Account", "Notes"]
    it.close()
