"""Field cases (tests/contract/field-cases.md) on the Python surface, against a private emulator:
BR-02 (second 401), BR-03 (refresh without refresh_token / rotation), BR-06 (nextRecordsUrl paging),
BR-12 (dates and datetimes verbatim), BR-15 (error body shapes), transport failures.
BR-01, BR-04 and BR-18 are in test_client.py; BR-08, BR-09 and BR-14 in test_export.py."""

import re

import pytest

import sfcrm
from conftest import connect, fresh_key, make_config, start_emulator


@pytest.fixture(scope="module")
def emu():
    e = start_emulator("--contacts", "5000")
    yield e
    e.stop()


@pytest.fixture
def client(emu):
    emu.control("faults", method="DELETE")
    store = sfcrm.MemoryStore()
    c = sfcrm.Client(make_config(emu, max_retries=0), store=store)
    key = fresh_key("field")
    connect(c, *key)
    yield c, key, store
    emu.control("faults", method="DELETE")
    emu.control("rotation", {"enabled": False})


def test_br02_second_401_is_session_expired_without_a_loop(client, emu):
    c, key, _ = client
    emu.control("faults", {"endpoint": "query", "kind": "empty401", "count": 5})
    before = c.api_calls()
    with pytest.raises(sfcrm.SessionExpired) as ei:
        c.export_page(*key, "notes", 1, 3)
    after = c.api_calls()
    assert ei.value.status == 401 and ei.value.message
    assert after.token_requests - before.token_requests == 1  # exactly one refresh
    assert after.api_requests - before.api_requests == 2  # the call and one retry


def test_br03_refresh_token_kept_when_not_rotated(client):
    c, key, store = client
    rt = store.load(*key)["token"]["refresh_token"]
    c.refresh(*key)
    c.refresh(*key)
    assert store.load(*key)["token"]["refresh_token"] == rt


def test_br03_rotated_refresh_token_is_stored_and_used(client, emu):
    c, key, store = client
    emu.control("rotation", {"enabled": True})
    rt1 = store.load(*key)["token"]["refresh_token"]
    c.refresh(*key)
    rt2 = store.load(*key)["token"]["refresh_token"]
    assert rt2 != rt1
    c.refresh(*key)  # would fail with invalid_grant if the old token were sent
    assert store.load(*key)["token"]["refresh_token"] not in (rt1, rt2)
    assert len(c.export_page(*key, "notes", 1, 2)["data"]) == 2


def test_br06_whole_export_follows_next_records_url(client):
    c, key, _ = client
    before = c.api_calls()
    ids = [r["Id"] for r in c.export(*key, "contacts")]
    after = c.api_calls()
    assert len(ids) == 5000 and len(set(ids)) == 5000 and ids == sorted(ids)
    assert after.query - before.query == 1
    assert after.query_more - before.query_more == 2  # 2000 + 2000 + 1000


def test_br12_dates_and_datetimes_are_kept_verbatim(client):
    c, key, _ = client
    deal = c.export_page(*key, "deals", 1, 1)["data"][0]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", deal["CloseDate"])
    rec = next(iter(c.export(*key, "deals", since="2000-01-01T00:00:00.000+0000")))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000", rec["SystemModstamp"])


def test_br15_html_error_page_is_typed_with_the_raw_body(client, emu):
    c, key, _ = client
    emu.control("faults", {"endpoint": "query", "kind": "html503", "count": 1})
    with pytest.raises(sfcrm.ApiError) as ei:
        c.export_page(*key, "notes", 1, 3)
    e = ei.value
    assert e.status == 503 and e.message and "503" in str(e)
    assert e.raw_body.lstrip().lower().startswith("<!doctype html")
    assert e.retry_after == 1.0


def test_transient_503_is_retried_when_allowed(emu):
    c = sfcrm.Client(make_config(emu, max_retries=2))
    key = fresh_key("field")
    connect(c, *key)
    emu.control("faults", {"endpoint": "query", "kind": "html503", "count": 1, "retry_after_s": 0})
    before = c.api_calls()
    assert len(c.export_page(*key, "notes", 1, 3)["data"]) == 3
    assert c.api_calls().retries - before.retries == 1
    emu.control("faults", method="DELETE")


def test_rest_error_array_keeps_error_code(client, emu):
    c, key, _ = client
    emu.control("faults", {"endpoint": "query", "kind": "invalid_locator", "count": 1})
    with pytest.raises(sfcrm.ApiError) as ei:
        c.export_page(*key, "notes", 1, 3)
    assert ei.value.status == 400 and ei.value.error_code == "INVALID_QUERY_LOCATOR"
    assert ei.value.message == "invalid query locator"


def test_connection_reset_is_a_network_error(client, emu):
    c, key, _ = client
    emu.control("faults", {"endpoint": "query", "kind": "reset", "count": 1})
    with pytest.raises(sfcrm.NetworkError) as ei:
        c.export_page(*key, "notes", 1, 3)
    assert isinstance(ei.value, sfcrm.TransportError) and ei.value.status is None


def test_truncated_body_is_a_protocol_error(client, emu):
    c, key, _ = client
    emu.control("faults", {"endpoint": "query", "kind": "truncated", "count": 1})
    with pytest.raises(sfcrm.ProtocolError) as ei:
        c.export_page(*key, "notes", 1, 3)
    assert ei.value.raw_body


def test_no_token_in_error_text_or_repr(client, emu):
    c, key, store = client
    doc = store.load(*key)
    secrets = [doc["token"]["access_token"], doc["token"]["refresh_token"]]
    emu.control("refresh_tokens/revoke")
    emu.control("sessions/expire")
    with pytest.raises(sfcrm.ReconnectRequired) as ei:
        c.export_page(*key, "notes", 1, 3)
    e = ei.value
    text = " ".join(str(x) for x in (e, repr(e), e.message, e.raw_body, c, c.connection_info(*key)))
    assert not any(s in text for s in secrets)
