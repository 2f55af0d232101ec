"""Exports: the seed page body, the lazy iterator (checkpoints, since, progress, lossless numbers),
native CSV/NDJSON files, custom sObjects, and the field cases on records (BR-08, BR-09, BR-14)."""

import csv
import io
import json
from decimal import Decimal

import pytest

import sfcrm
from conftest import connect, emulator_count, fresh_key

ACC, OWNER = "acc-1", "user-1"


def test_export_page_is_the_seed_body(connected, emulator):
    body = connected.export_page(ACC, OWNER, "contacts", 1, 100)
    assert list(body) == ["success", "message", "data", "pagination"]
    assert body["success"] is True and body["message"] == "SUCCESS"
    total = emulator_count(emulator, "Contact")
    assert body["pagination"] == {
        "page": 1, "per_page": 100, "total": total, "total_pages": -(-total // 100),
        "next_page": 2, "prev_page": None, "offsetValue": 0,
    }
    assert list(body["pagination"]) == ["page", "per_page", "total", "total_pages", "next_page", "prev_page", "offsetValue"]
    assert len(body["data"]) == 100
    rec = body["data"][0]
    assert rec["attributes"]["type"] == "Contact"
    assert set(rec) >= {"Name", "Account", "Title", "Phone", "Email", "Owner"}


def test_export_page_pages_are_disjoint_and_ordered(connected):
    p1 = connected.export_page(ACC, OWNER, "deals", 1, 40)["data"]
    p2 = connected.export_page(ACC, OWNER, "deals", "2", 40)["data"]
    ids1 = [r["attributes"]["url"] for r in p1]
    ids2 = [r["attributes"]["url"] for r in p2]
    assert not set(ids1) & set(ids2)
    assert ids1 + ids2 == sorted(ids1 + ids2)


def test_export_page_past_the_end_and_page_text(connected):
    body = connected.export_page(ACC, OWNER, "notes", 999, 100)
    assert body["data"] == [] and body["pagination"]["next_page"] is None
    assert connected.export_page(ACC, OWNER, "notes", "abc", 5)["pagination"]["page"] == 1
    assert connected.export_page(ACC, OWNER, "notes", -3, 5)["pagination"]["page"] == 1  # D14


def test_export_page_without_limit_returns_everything(connected, emulator):
    body = connected.export_page(ACC, OWNER, "notes")
    n = emulator_count(emulator, "Note")
    assert len(body["data"]) == n and body["pagination"]["per_page"] == n


def test_limit_follows_the_same_rules_as_node(connected, emulator):
    """`limit` is read by the core's rule (Node's too): ints or query-string text, None / 0 / no
    digits = all, negative or bool = InvalidArgumentError (never OverflowError)."""
    n = emulator_count(emulator, "Note")
    assert len(connected.export_page(ACC, OWNER, "notes", 1, "2")["data"]) == 2
    assert connected.export_page(ACC, OWNER, "notes", 1, " 3px")["pagination"]["per_page"] == 3
    for everything in (0, "0", "", "abc", None, 0.0):
        assert connected.export_page(ACC, OWNER, "notes", 1, everything)["pagination"]["per_page"] == n
    before = connected.api_calls().api_requests
    for bad in (-1, "-5", -(2**70), 2**70, 2.5, True, False):
        with pytest.raises(sfcrm.InvalidArgumentError) as ei:
            connected.export_page(ACC, OWNER, "notes", 1, bad)
        assert ei.value.kind == "invalid_argument"
    with pytest.raises(sfcrm.InvalidArgumentError, match="limit must be an int or a string, not a bool"):
        connected.export_page(ACC, OWNER, "notes", 1, True)
    with pytest.raises(sfcrm.InvalidArgumentError, match="page must be an int or a string, not a bool"):
        connected.export_page(ACC, OWNER, "notes", True, 5)
    with pytest.raises(sfcrm.InvalidArgumentError):
        connected.export_page(ACC, OWNER, "notes", 1, [5])
    assert connected.api_calls().api_requests == before  # refused before any request
    with pytest.raises(sfcrm.InvalidArgumentError):
        sfcrm.paginator(10, 1, -2)
    with pytest.raises(sfcrm.InvalidArgumentError):
        sfcrm.paginator(10, 1, True)
    assert sfcrm.paginator(10, 1, "5")["per_page"] == 5


def test_unknown_type_is_refused_before_any_request(connected):
    before = connected.api_calls().api_requests
    with pytest.raises(sfcrm.UnknownExportType) as ei:
        connected.export_page(ACC, OWNER, "leads")
    # issue 16: all three types named, and the raw form (an sObject with fields) explained
    assert ei.value.message == (
        'unknown export type "leads": the built-in types are contacts, deals and notes; to export any other '
        "sObject (Account, Invoice__c, ...), give its API name with the fields to select"
    )
    with pytest.raises(sfcrm.UnknownExportType):
        connected.export(ACC, OWNER, "leads")
    assert connected.api_calls().api_requests == before


def test_invalid_identifiers_are_refused(connected):
    with pytest.raises(sfcrm.InvalidIdentifier):
        connected.export(ACC, OWNER, "Contact", fields=["Name", "Email FROM User--"])
    with pytest.raises(sfcrm.InvalidIdentifier):
        connected.export(ACC, OWNER, "Contact; DELETE", fields=["Name"])


def test_custom_sobject_and_fields(connected, emulator):
    rows = list(connected.export(ACC, OWNER, "Account", fields=["Name", "Industry"]))
    assert len(rows) == emulator_count(emulator, "Account")
    assert all(r["attributes"]["type"] == "Account" and "Industry" in r for r in rows)


def test_iterator_yields_every_record_once(connected, emulator):
    it = connected.export(ACC, OWNER, "contacts")
    ids = [r["Id"] for r in it]
    assert len(ids) == emulator_count(emulator, "Contact")
    assert len(set(ids)) == len(ids) and ids == sorted(ids)
    p = it.progress
    assert p.records == len(ids) and p.total_size == len(ids) and p.batches >= 1
    assert p.missing == 0, "no row was deleted during the export (issue 16 item 3)"
    assert next(it, None) is None  # exhausted stays exhausted


def test_iterator_is_lazy(connected):
    before = connected.api_calls().query
    it = connected.export(ACC, OWNER, "contacts", batch_size=200)
    assert connected.api_calls().query == before  # nothing requested yet
    next(it)
    assert it.progress.batches == 1 and it.progress.records <= 2000


def test_checkpoint_resume_continues_exactly_after_the_last_record(connected, emulator):
    total = emulator_count(emulator, "Contact")
    it = connected.export(ACC, OWNER, "contacts", batch_size=200)
    first = [next(it)["Id"] for _ in range(333)]  # stops mid-batch
    token = it.checkpoint
    it.close()
    rest = [r["Id"] for r in connected.export(ACC, OWNER, "contacts", checkpoint=token)]
    assert len(first) + len(rest) == total
    assert not set(first) & set(rest)
    assert first[-1] < rest[0]


def test_checkpoint_before_any_record_and_at_the_end(connected):
    it = connected.export(ACC, OWNER, "notes")
    start = it.checkpoint
    n = sum(1 for _ in it)
    end = it.checkpoint
    assert start != end
    assert sum(1 for _ in connected.export(ACC, OWNER, "notes", checkpoint=start)) == n
    assert list(connected.export(ACC, OWNER, "notes", checkpoint=end)) == []


def test_bad_checkpoint_is_invalid_argument(connected):
    with pytest.raises(sfcrm.InvalidArgumentError):
        connected.export(ACC, OWNER, "notes", checkpoint="not-a-token")
    token = connected.export(ACC, OWNER, "notes").checkpoint
    it = connected.export(ACC, OWNER, "contacts", checkpoint=token)  # another sObject
    with pytest.raises(sfcrm.InvalidArgumentError):
        next(it)


def test_since_exports_only_changed_records(connected, emulator):
    full = list(connected.export(ACC, OWNER, "deals", since="2000-01-01T00:00:00Z"))
    assert len(full) == emulator_count(emulator, "Opportunity")
    newest = max(r["SystemModstamp"] for r in full)
    touched = emulator.control("records/touch", {"sobject": "Opportunity", "count": 7})["ids"]
    changed = list(connected.export(ACC, OWNER, "deals", since=newest))
    changed_ids = {r["Id"] for r in changed}
    assert set(touched) <= changed_ids
    assert len(changed) < 50


def test_progress_callback_after_each_batch(connected, emulator):
    seen = []
    it = connected.export(ACC, OWNER, "contacts", progress=seen.append, batch_size=500)
    n = sum(1 for _ in it)
    assert seen and all(isinstance(p, sfcrm.Progress) for p in seen)
    assert [p.batches for p in seen] == list(range(1, len(seen) + 1))
    assert seen[-1].records == n and seen[-1].total_size == n


def test_progress_callback_exception_propagates(connected):
    def bad(_p):
        raise KeyError("stop here")

    it = connected.export(ACC, OWNER, "contacts", progress=bad)
    with pytest.raises(KeyError, match="stop here"):
        next(it)


def test_next_batch(connected, emulator):
    it = connected.export(ACC, OWNER, "notes")
    first = next(it)
    rest = it.next_batch()
    assert first not in rest
    total = 1 + len(rest)
    while (b := it.next_batch()) is not None:
        total += len(b)
    assert total == emulator_count(emulator, "Note")


def _big_amounts(path):
    out = {}
    with open(path) as f:
        for line in f:
            rec = json.loads(line, parse_float=Decimal)
            amt = rec.get("Amount")
            if isinstance(amt, Decimal) and len(amt.as_tuple().digits) >= 18:
                out[rec["Id"]] = amt
    return out


def test_lossless_numbers_are_decimals_with_every_digit(connected, tmp_path):
    connected.export_to_ndjson(ACC, OWNER, "deals", tmp_path / "d.ndjson")
    exact = _big_amounts(tmp_path / "d.ndjson")
    assert exact, "the emulator serves 18-digit amounts"
    lossless = {r["Id"]: r["Amount"] for r in connected.export(ACC, OWNER, "deals", lossless=True)}
    lossy = {r["Id"]: r["Amount"] for r in connected.export(ACC, OWNER, "deals")}
    for rid, amount in exact.items():
        assert isinstance(lossless[rid], Decimal) and lossless[rid] == amount
        assert str(lossless[rid]) == str(amount)
        assert isinstance(lossy[rid], float)
    assert any(Decimal(repr(lossy[rid])) != amount for rid, amount in exact.items())
    page = connected.export_page(ACC, OWNER, "deals", 1, 10, lossless=True)
    assert all(isinstance(r["Amount"], (Decimal, type(None))) for r in page["data"])


def test_export_to_csv(connected, emulator, tmp_path):
    path = tmp_path / "contacts.csv"
    seen = []
    summary = connected.export_to_csv(ACC, OWNER, "contacts", path, progress=seen.append)
    n = emulator_count(emulator, "Contact")
    assert summary.records == n and summary.path == path and summary.api_calls >= 1
    raw = path.read_bytes()
    assert b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert rows[0] == ["Id", "Name", "Account.Name", "Title", "Phone", "Email", "Owner.Alias"]
    assert len(rows) == n + 1
    assert seen and seen[-1].records == n
    assert [p.name for p in tmp_path.iterdir()] == ["contacts.csv"]  # no temporary file left


def test_br14_unicode_survives_csv_and_json_alike(connected, tmp_path):
    connected.export_to_csv(ACC, OWNER, "contacts", tmp_path / "c.csv")
    with open(tmp_path / "c.csv", newline="", encoding="utf-8") as f:
        csv_names = {row["Id"]: row["Name"] for row in csv.DictReader(f)}
    json_names = {r["Id"]: r["Name"] for r in connected.export(ACC, OWNER, "contacts")}
    assert csv_names == json_names
    non_ascii = [n for n in json_names.values() if any(ord(ch) > 127 for ch in n)]
    assert non_ascii and not any("Ã" in n for n in non_ascii)


def test_br09_null_parent_is_none(connected):
    rows = list(connected.export(ACC, OWNER, "contacts"))
    nulls = [r for r in rows if r["Account"] is None]
    assert nulls, "the emulator has contacts without an Account"
    with_parent = next(r for r in rows if r["Account"] is not None)
    assert isinstance(with_parent["Account"]["Name"], str)


def test_export_to_ndjson_with_custom_fields(connected, emulator, tmp_path):
    path = tmp_path / "accounts.ndjson"
    s = connected.export_to_ndjson(ACC, OWNER, "Account", str(path), fields=["Name", "Industry"])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == s.records == emulator_count(emulator, "Account")
    rec = json.loads(lines[0])
    assert "attributes" not in rec and {"Id", "Name", "Industry"} <= set(rec)


def test_failed_file_export_leaves_no_file(connected, tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("previous")
    with pytest.raises(sfcrm.UnknownExportType):
        connected.export_to_csv(ACC, OWNER, "leads", path)
    token = connected.export(ACC, OWNER, "notes").checkpoint
    with pytest.raises(sfcrm.InvalidArgumentError):
        connected.export_to_csv(ACC, OWNER, "contacts", path, checkpoint=token)
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_unwritable_destination_is_export_write_error(connected, tmp_path):
    with pytest.raises(sfcrm.ExportWriteError):
        connected.export_to_csv(ACC, OWNER, "notes", tmp_path / "missing-dir" / "x.csv")


def test_br08_deep_pages_never_use_offset_past_2000(big_emulator):
    from conftest import make_config

    client = sfcrm.Client(make_config(big_emulator))
    acc, owner = fresh_key()
    connect(client, acc, owner)
    body = client.export_page(acc, owner, "contacts", 25, 100)
    assert body["pagination"]["offsetValue"] == 2400
    assert len(body["data"]) == 100
    whole = client.export_page(acc, owner, "contacts", 1, 2500)
    assert [r["attributes"]["url"] for r in whole["data"][2400:2500]] == [r["attributes"]["url"] for r in body["data"]]


def test_cancel_from_another_thread_raises_cancelled(connected):
    import threading

    it = connected.export(ACC, OWNER, "contacts", batch_size=200)
    next(it)
    threading.Thread(target=it.cancel).start()
    n = 1
    with pytest.raises(sfcrm.Cancelled):
        for _ in it:  # records already fetched are still handed out, then Cancelled
            n += 1
    assert n <= 2000
    with pytest.raises(sfcrm.Cancelled):
        next(it)


def test_close_and_context_manager_end_iteration(connected):
    with connected.export(ACC, OWNER, "contacts") as it:
        next(it)
    assert next(it, None) is None
    it2 = connected.export(ACC, OWNER, "contacts")
    it2.close()
    assert list(it2) == []


def test_progress_callback_may_read_the_iterator(connected):
    seen = []
    it = None

    def on_progress(p):
        seen.append((p.records, it.progress.records, it.checkpoint))

    it = connected.export(ACC, OWNER, "contacts", progress=on_progress, batch_size=500)
    first = next(it)
    assert seen and seen[0][0] == seen[0][1]
    rest = list(it)
    assert 1 + len(rest) == seen[-1][0]
    assert first["Id"] not in {r["Id"] for r in rest}


def test_cancel_while_a_batch_is_in_flight_is_always_cancelled():
    """Regression: a cancel racing with the core's prefetch must never look like a finished
    export (it did about one time in five on a loaded machine)."""
    import threading
    import time

    from conftest import make_config, start_emulator

    emu = start_emulator()
    try:
        client = sfcrm.Client(make_config(emu))
        key = fresh_key()
        connect(client, *key)
        for _ in range(8):
            emu.control("faults", {"endpoint": "query", "kind": "delay", "ms": 3000, "count": 1})
            it = client.export(*key, "contacts")
            seen = {}

            def pull(name, it=it, seen=seen):
                try:
                    seen[name] = it.next_batch()
                except Exception as e:  # noqa: BLE001
                    seen[name] = e

            t = threading.Thread(target=pull, args=("blocked",))
            t.start()
            time.sleep(0.2)
            it.cancel()
            t.join(timeout=10)
            pull("after")
            assert isinstance(seen["blocked"], sfcrm.Cancelled), seen
            assert isinstance(seen["after"], sfcrm.Cancelled), seen
            emu.control("faults", method="DELETE")
    finally:
        emu.stop()
