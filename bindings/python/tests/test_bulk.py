"""Bulk API 2.0 (issue 12, Python surface): ``mode="bulk"`` on export, query and the file variants
(sync and asyncio) gives the REST export's records; a refused query (a child subquery) and a failed
job fall back to REST with the reason; the job's state and ``numberRecordsProcessed`` show in
``progress``; the Bulk calls are counted in ``ApiCalls``. The module runs on its own emulator
(it changes the Bulk knobs and queues job faults)."""

from __future__ import annotations

import asyncio
import csv
import json
from typing import Any, Iterator

import pytest

import sfcrm
from conftest import Emulator, connect, make_config, start_emulator

ACC, OWNER = "acc-bulk", "user-1"
FIELDS = ["Name", "Email", "AccountId", "Account.Name", "CreatedDate"]
SOQL = "SELECT Id, Name, Email, AccountId, Account.Name, CreatedDate FROM Contact"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    e = start_emulator()
    # A job completes at once (the defaults model Salesforce's queue and throughput).
    e.control("bulk/settings", {"queue_delay_ms": 0, "overhead_ms": 0})
    yield e
    e.stop()


@pytest.fixture(scope="module")
def client(emu: Emulator) -> sfcrm.Client:
    c = sfcrm.Client(make_config(emu))
    connect(c, ACC, OWNER)
    return c


@pytest.fixture(scope="module")
def rest(client: sfcrm.Client) -> dict[str, dict[str, Any]]:
    got = list(client.export(ACC, OWNER, "Contact", fields=FIELDS))
    assert len(got) > 100
    return by_id(got)


def comparable(v: Any, top: bool = True) -> Any:
    """A record as both sources deliver it: Bulk's CSV carries no ``attributes`` on a nested
    parent and no empty text (an empty cell is null), as the core documents (``ExportMode::Bulk``)."""
    if isinstance(v, dict):
        return {k: comparable(x, False) for k, x in v.items() if top or k != "attributes"}
    return None if v == "" else v


def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {r["Id"]: comparable(r) for r in records}
    assert len(out) == len(records), "a record was delivered twice"
    return out


def calls_of(client: sfcrm.Client, run: Any) -> tuple[Any, sfcrm.ApiCalls]:
    before = client.api_calls().as_dict()
    result = run()
    after = client.api_calls().as_dict()
    return result, {k: after[k] - before[k] for k in after}  # type: ignore[return-value]


def test_a_bulk_export_equals_the_rest_export_record_for_record(client, rest, emu):
    seen: list[sfcrm.Progress] = []
    it = client.export(ACC, OWNER, "Contact", fields=FIELDS, mode="bulk", progress=seen.append)
    got, calls = calls_of(client, lambda: list(it))
    assert by_id(got) == rest
    assert it.fallback_reason is None
    assert it.bulk_job_id is not None and it.bulk_job_id.startswith("750")
    p = it.progress
    assert p.records == len(rest) and p.job_state == "JobComplete" and p.records_processed == len(rest)
    assert seen and seen[-1].job_state == "JobComplete" and "job_state='JobComplete'" in repr(seen[-1])
    # One job, polled, its pages read, deleted; no REST query.
    assert calls["bulk_create"] == 1 and calls["bulk_poll"] >= 1 and calls["bulk_results"] >= 1
    assert calls["bulk_delete"] == 1 and calls["query"] == 0 and calls["query_more"] == 0
    assert calls["api_requests"] >= 4
    jobs = emu.control("bulk/jobs", method="GET")
    assert all(j["id"] != it.bulk_job_id for j in jobs), "the job was not deleted"


def test_bulk_options_page_size_parallel_pages_and_keeping_the_job(client, rest, emu):
    pages = 4
    opts: sfcrm.BulkOptions = {"max_records": len(rest) // pages + 1, "concurrency": 2, "delete_job": False}
    it = client.export(ACC, OWNER, "Contact", fields=FIELDS, mode="bulk", bulk=opts)
    got, calls = calls_of(client, lambda: list(it))
    assert by_id(got) == rest
    assert calls["bulk_results"] >= pages and calls["bulk_delete"] == 0
    job = next(j for j in emu.control("bulk/jobs", method="GET") if j["id"] == it.bulk_job_id)
    assert job["state"] == "JobComplete" and job["numberRecordsProcessed"] == len(rest)


def test_a_bulk_query_equals_the_rest_query(client):
    want = by_id(list(client.query(ACC, OWNER, SOQL + " WHERE Email != null")))
    it = client.query(ACC, OWNER, SOQL + " WHERE Email != null", mode="bulk")
    assert by_id(list(it)) == want and it.fallback_reason is None and it.progress.job_state == "JobComplete"


def test_a_child_subquery_falls_back_to_rest_with_the_reason(client):
    soql = "SELECT Id, Name, (SELECT Id, LastName FROM Contacts) FROM Account"
    want = by_id(list(client.query(ACC, OWNER, soql)))
    it = client.query(ACC, OWNER, soql, mode="bulk")
    got, calls = calls_of(client, lambda: list(it))
    assert by_id(got) == want
    assert it.fallback_reason is not None and "FEATURENOTENABLED" in it.fallback_reason
    assert it.progress.job_state is None
    assert calls["bulk_create"] == 1 and calls["query"] >= 1
    # Without the fallback the refusal is the error.
    strict = client.query(ACC, OWNER, soql, mode="bulk", bulk={"fallback_to_rest": False})
    with pytest.raises(sfcrm.SfcrmError, match="FEATURENOTENABLED"):
        list(strict)


def test_a_failed_job_falls_back_to_rest_or_raises(client, rest, emu):
    emu.control("bulk/job_faults", {"count": 1, "kind": "failed", "error_message": "disk quota gone"})
    it = client.export(ACC, OWNER, "Contact", fields=FIELDS, mode="bulk")
    got, calls = calls_of(client, lambda: list(it))
    assert by_id(got) == rest
    assert it.fallback_reason is not None and "disk quota gone" in it.fallback_reason
    assert calls["bulk_create"] == 1 and calls["query"] >= 1
    emu.control("bulk/job_faults", {"count": 1, "kind": "failed", "error_message": "disk quota gone"})
    strict = client.export(ACC, OWNER, "Contact", fields=FIELDS, mode="bulk", bulk={"fallback_to_rest": False})
    with pytest.raises(sfcrm.SfcrmError, match="disk quota gone"):
        list(strict)


def test_file_exports_in_bulk_mode(client, rest, tmp_path):
    def rows(path):
        with open(path, newline="", encoding="utf-8") as f:
            r = list(csv.reader(f))
        return r[0], sorted(r[1:])

    client.export_to_csv(ACC, OWNER, "Contact", tmp_path / "rest.csv", fields=FIELDS)
    s = client.export_to_csv(ACC, OWNER, "Contact", tmp_path / "bulk.csv", fields=FIELDS, mode="bulk")
    assert s.records == len(rest) and rows(tmp_path / "bulk.csv") == rows(tmp_path / "rest.csv")
    s = client.query_to_ndjson(ACC, OWNER, SOQL, tmp_path / "q.ndjson", mode="bulk", bulk={"concurrency": 1})
    lines = [json.loads(x) for x in (tmp_path / "q.ndjson").read_text().splitlines()]
    assert s.records == len(rest) and {r["Id"] for r in lines} == set(rest)
    got = tmp_path / "e.ndjson"
    client.export_to_ndjson(ACC, OWNER, "Contact", got, fields=FIELDS, mode="bulk")
    assert sorted(r["Id"] for r in map(json.loads, got.read_text().splitlines())) == sorted(rest)


def test_async_bulk_export_and_query(emu, rest, tmp_path):
    async def main() -> None:
        client = sfcrm.AsyncClient(make_config(emu))
        connect(client.sync, ACC, OWNER)
        it = client.export(ACC, OWNER, "Contact", fields=FIELDS, mode="bulk", bulk={"max_records": 100})
        got = [r async for r in it]
        assert by_id(got) == rest and it.fallback_reason is None and it.bulk_job_id
        assert it.progress.records_processed == len(rest)
        q = client.query(ACC, OWNER, "SELECT Id, (SELECT Id FROM Contacts) FROM Account", mode="bulk")
        assert [r async for r in q] and q.fallback_reason and "FEATURENOTENABLED" in q.fallback_reason
        s = await client.query_to_csv(ACC, OWNER, SOQL, tmp_path / "a.csv", mode="bulk")
        assert s.records == len(rest)

    asyncio.run(main())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mode": "BULK"}, 'mode must be "rest" or "bulk"'),
        ({"mode": "bulk", "bulk": {"maxRecords": 10}}, 'bulk= has no option "maxRecords"'),
        ({"mode": "bulk", "bulk": {"max_records": "many"}}, "must be a positive int"),
        ({"mode": "bulk", "bulk": {"max_records": 0}}, "max_records must be at least 1"),
        ({"bulk": {"concurrency": 2}}, 'bulk= options need mode="bulk"'),
        ({"mode": "bulk", "bulk": [("concurrency", 2)]}, "bulk= must be a dict"),
    ],
)
def test_bad_bulk_arguments_are_refused(client, kwargs, message):
    with pytest.raises(sfcrm.InvalidArgumentError, match=message.replace("(", r"\(")):
        list(client.export(ACC, OWNER, "Contact", fields=FIELDS, **kwargs))
