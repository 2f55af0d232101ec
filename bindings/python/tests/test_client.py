"""Client operations against the org emulator: login, callback, refresh, disconnect, api_get,
api_usage, api_calls, and the field cases on the OAuth/refresh surface (BR-01, BR-02, BR-04)."""

import threading
import urllib.parse

import pytest

import sfcrm
from conftest import FORWARD_URL, connect, follow_authorize, fresh_key, make_config, start_emulator


@pytest.fixture
def own_emulator():
    """A private emulator for tests that change org-wide state (revocations, consent, faults)."""
    emu = start_emulator()
    yield emu
    emu.stop()


def test_login_builds_authorize_url_with_state_and_pkce(config):
    client = sfcrm.Client(config)
    acc, owner = fresh_key()
    r = client.login(acc, owner, FORWARD_URL)
    assert not r.already_connected
    u = urllib.parse.urlsplit(r.url)
    q = urllib.parse.parse_qs(u.query)
    assert u.path == "/services/oauth2/authorize"
    assert q["client_id"] == ["sfcrm-demo-client"]
    assert q["response_type"] == ["code"]
    assert q["code_challenge_method"] == ["S256"]
    assert q["state"][0] and q["code_challenge"][0]


def test_full_flow_then_already_connected(config):
    store = sfcrm.MemoryStore()
    client = sfcrm.Client(config, store=store)
    acc, owner = fresh_key()
    result = connect(client, acc, owner)
    assert result.success and result.reason is None
    assert (result.account_id, result.owner) == (acc, owner)
    assert result.url == FORWARD_URL + "?status=success&integration=salesforce"
    info = client.connection_info(acc, owner)
    assert info.version == 1 and info.has_refresh_token and not info.token_invalidated
    assert info.instance_url.startswith("http://127.0.0.1:")
    again = client.login(acc, owner, FORWARD_URL)
    assert again.already_connected
    assert again.url == FORWARD_URL + "?status=success&integration=salesforce"
    doc = store.load(acc, owner)
    assert doc["account_id"] == acc and doc["version"] == 1
    assert doc["token"]["access_token"]


def test_login_without_forward_url(config):
    with pytest.raises(sfcrm.MissingForwardUrl) as ei:
        sfcrm.Client(config).login("a", "b")
    assert ei.value.kind == "missing_forward_url"


def test_login_with_foreign_forward_url(config):
    with pytest.raises(sfcrm.ForwardUrlNotAllowed):
        sfcrm.Client(config).login("a", "b", "https://evil.example.com/x")


def test_empty_key_is_invalid_argument(config):
    with pytest.raises(sfcrm.InvalidArgumentError):
        sfcrm.Client(config).login("", "b", FORWARD_URL)


def test_tampered_state_is_invalid_state(config):
    client = sfcrm.Client(config)
    r = client.login(*fresh_key(), FORWARD_URL)
    params = follow_authorize(r.url)
    with pytest.raises(sfcrm.InvalidState) as ei:
        client.callback(code=params["code"], state=params["state"][:-2] + "xx")
    assert ei.value.message == "Invalid State"
    with pytest.raises(sfcrm.InvalidState):
        client.callback(code=params["code"], state=None)


def test_denied_consent_redirects_with_reason(own_emulator):
    client = sfcrm.Client(make_config(own_emulator))
    own_emulator.control("consent", {"mode": "deny"})
    r = client.login(*fresh_key(), FORWARD_URL)
    params = follow_authorize(r.url)
    assert params["error"] == "access_denied"
    res = client.callback(**{k: params.get(k) for k in ("code", "state", "error", "error_description")})
    assert not res.success and res.reason
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(res.url).query)
    assert q["status"] == ["error"] and q["integration"] == ["salesforce"]


def test_missing_code_is_authentication_not_initiated(config):
    client = sfcrm.Client(config)
    r = client.login(*fresh_key(), FORWARD_URL)
    params = follow_authorize(r.url)
    res = client.callback(state=params["state"])
    assert not res.success and res.reason == "Authentication not initiated"


def test_br01_reused_code_fails_without_touching_the_connection(config):
    store = sfcrm.MemoryStore()
    client = sfcrm.Client(config, store=store)
    acc, owner = fresh_key()
    r = client.login(acc, owner, FORWARD_URL)
    params = follow_authorize(r.url)
    assert client.callback(code=params["code"], state=params["state"]).success
    before = store.load(acc, owner)
    calls = client.api_calls().token_requests
    res = client.callback(code=params["code"], state=params["state"])
    assert not res.success
    assert "expired authorization code" in res.reason
    assert client.api_calls().token_requests == calls + 1  # not retried
    assert store.load(acc, owner) == before


def test_refresh_returns_new_version(connected):
    info = connected.refresh("acc-1", "user-1")
    assert info.version > 1 and info.has_refresh_token  # lease write + token write (CAS)
    assert connected.api_calls().refreshes == 1


def test_br02_expired_session_refreshes_once_and_retries(emulator, config):
    client = sfcrm.Client(config)
    acc, owner = fresh_key()
    connect(client, acc, owner)
    emulator.control("sessions/expire")
    before = client.api_calls()
    page = client.export_page(acc, owner, "notes", 1, 5)
    after = client.api_calls()
    assert page["success"] and len(page["data"]) == 5
    assert after.refreshes - before.refreshes == 1
    assert client.connection_info(acc, owner).version > 1


def test_br04_revoked_refresh_token_is_reconnect_required(own_emulator):
    store = sfcrm.MemoryStore()
    client = sfcrm.Client(make_config(own_emulator), store=store)
    acc, owner = fresh_key()
    connect(client, acc, owner)
    own_emulator.control("refresh_tokens/revoke")
    with pytest.raises(sfcrm.ReconnectRequired) as ei:
        client.export_page(acc, owner, "contacts", 1, 10)
    e = ei.value
    assert e.oauth_error == "invalid_grant"
    assert e.status == 400
    assert client.connection_info(acc, owner).token_invalidated
    calls = client.api_calls()
    # A later call fails the same way without another refresh attempt.
    with pytest.raises(sfcrm.ReconnectRequired):
        client.export_page(acc, owner, "contacts", 1, 10)
    assert client.api_calls().token_requests == calls.token_requests
    # The next login starts a fresh OAuth flow.
    assert not client.login(acc, owner, FORWARD_URL).already_connected


def test_disconnect_revokes_then_not_connected(config):
    client = sfcrm.Client(config)
    acc, owner = fresh_key()
    connect(client, acc, owner)
    d = client.disconnect(acc, owner)
    assert d.revoked and d.revoke_error is None
    assert client.connection_info(acc, owner) is None
    with pytest.raises(sfcrm.NotConnected) as ei:
        client.disconnect(acc, owner)
    assert ei.value.kind == "not_connected"
    with pytest.raises(sfcrm.NotConnected):
        client.export_page(acc, owner, "contacts")


def test_api_get_and_usage(connected):
    assert connected.api_usage() is None or connected.api_usage().limit > 0
    body = connected.api_get("acc-1", "user-1", "/services/data/v48.0/query?q=SELECT+Id+FROM+Contact+LIMIT+2")
    assert body["totalSize"] >= 2 and len(body["records"]) == 2
    usage = connected.api_usage()
    assert usage is not None and usage.limit == 100000 and 0 < usage.used <= usage.limit
    assert usage.remaining == usage.limit - usage.used
    calls = connected.api_calls()
    assert calls.api_requests >= 1 and calls.token_requests == 1
    assert calls.as_dict()["api_requests"] == calls.api_requests


def test_br18_rate_limit_is_typed_and_carries_usage(own_emulator):
    client = sfcrm.Client(make_config(own_emulator, max_retries=0))
    acc, owner = fresh_key()
    connect(client, acc, owner)
    own_emulator.control("faults", {"endpoint": "query", "kind": "request_limit", "count": 5})
    before = client.api_calls()
    with pytest.raises(sfcrm.RateLimited) as ei:
        client.export_page(acc, owner, "contacts", 1, 10)
    e = ei.value
    assert isinstance(e, sfcrm.ApiError)
    assert e.status == 403 and e.error_code == "REQUEST_LIMIT_EXCEEDED"
    assert e.api_usage is not None and e.api_usage.limit > 0
    assert e.raw_body and "REQUEST_LIMIT_EXCEEDED" in e.raw_body
    assert client.api_calls().token_requests == before.token_requests  # never a refresh


def test_api_error_keeps_status_code_and_body(own_emulator):
    client = sfcrm.Client(make_config(own_emulator, max_retries=0))
    acc, owner = fresh_key()
    connect(client, acc, owner)
    own_emulator.control("faults", {"endpoint": "query", "kind": "status500", "count": 5})
    with pytest.raises(sfcrm.ApiError) as ei:
        client.export_page(acc, owner, "contacts", 1, 10)
    assert ei.value.status == 500
    assert ei.value.error_code == "UNKNOWN_EXCEPTION"
    assert ei.value.raw_body


def test_network_error_when_nothing_listens():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    cfg = sfcrm.Config(
        client_id="c", client_secret="s", redirect_uri="http://127.0.0.1:1/cb", state_secret="x" * 40,
        forward_origins=["*"], login_url=f"http://127.0.0.1:{port}", max_retries=0,
    )
    client = sfcrm.Client(cfg)
    r = client.login("a", "b", "http://127.0.0.1:3000/")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.url).query)
    res = client.callback(code="c0de", state=q["state"][0])
    assert not res.success  # the token POST failed: the user is sent back with the reason


def test_one_client_many_threads_share_connections(config):
    client = sfcrm.Client(config)
    acc, owner = fresh_key()
    connect(client, acc, owner)
    errors, pages = [], []

    def work():
        try:
            pages.append(client.export_page(acc, owner, "deals", 2, 50))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(p == pages[0] for p in pages)
