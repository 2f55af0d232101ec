"""Failure parity with the C and Node bindings: the scenarios of bindings/failure-scenarios.json
against a private emulator, each surfacing the same kind, numeric code, HTTP status, Salesforce
errorCode, OAuth error/description and fields. The same run checks that no secret (access token,
refresh token, authorization code, client secret, state secret, sealing key) appears in any
error's str/repr or attributes (``raw_body`` included: it never holds a token)."""

import base64
import json
import pathlib

import pytest

import sfcrm
from conftest import (
    CLIENT_SECRET, FORWARD_URL, STATE_SECRET, connect, follow_authorize, fresh_key, make_config, start_emulator,
)

SCENARIOS = json.loads((pathlib.Path(__file__).resolve().parents[2] / "failure-scenarios.json").read_text())["scenarios"]
SEALING_KEY = base64.b64encode(b"\x07" * 32).decode()
ATTRS = ("kind", "code", "message", "status", "error_code", "oauth_error", "oauth_error_description",
         "fields", "api_usage", "retry_after", "raw_body")


@pytest.fixture(scope="module")
def emu():
    e = start_emulator()
    yield e
    e.stop()


def _run(name, emu, tmp_path, secrets):
    """Produces the error of one scenario; records the secrets it handled."""
    if name == "forward_url_not_allowed":
        sfcrm.Client(make_config(emu)).login(*fresh_key("par"), "https://evil.example.com/x")
    if name == "invalid_state":
        c = sfcrm.Client(make_config(emu))
        params = follow_authorize(c.login(*fresh_key("par"), FORWARD_URL).url)
        secrets.append(params["code"])
        c.callback(code=params["code"], state=params["state"][:-2] + "xx")
    store = sfcrm.FileStore(tmp_path, sealing_keys=f"k1:{SEALING_KEY}")
    scopes = "api id web" if name == "session_expired_no_refresh_token" else "api id web refresh_token"
    c = sfcrm.Client(make_config(emu, max_retries=0, scopes=scopes), store=store)
    key = fresh_key("par")
    connect(c, *key)
    token = sfcrm.FileStore(tmp_path, sealing_keys=f"k1:{SEALING_KEY}").load(*key)["token"]
    secrets += [t for t in (token.get("access_token"), token.get("refresh_token")) if t]
    if name == "session_expired_no_refresh_token":
        assert "refresh_token" not in token or not token["refresh_token"]
        emu.control("sessions/expire")
        c.export_page(*key, "notes", 1, 3)
    if name == "refresh_token_revoked":
        emu.control("refresh_tokens/revoke")
        c.refresh(*key)
    if name == "request_limit_exceeded":
        emu.control("faults", {"endpoint": "query", "kind": "request_limit", "count": 5})
        c.export_page(*key, "notes", 1, 3)
    if name == "invalid_field":
        list(c.export(*key, "Contact", fields=["Name", "Bogus__c"]))
    if name == "unknown_export_type":
        c.export_page(*key, "widgets", 1, 3)
    raise AssertionError(f"{name}: no error")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_failure_scenario_parity_and_no_secrets(name, emu, tmp_path):
    want = SCENARIOS[name]
    secrets = [CLIENT_SECRET, STATE_SECRET, SEALING_KEY]
    emu.control("faults", method="DELETE")
    try:
        with pytest.raises(sfcrm.SfcrmError) as ei:
            _run(name, emu, tmp_path, secrets)
    finally:
        emu.control("faults", method="DELETE")
    e = ei.value
    got = {k: getattr(e, k) for k in ("kind", "code", "status", "error_code", "oauth_error", "oauth_error_description", "fields")}
    assert got == {k: want[k] for k in got}
    assert e.message
    if "api_usage_limit" in want:
        assert e.api_usage is not None and e.api_usage.limit == want["api_usage_limit"]
    # the fixed secrets, plus the code (invalid_state) or at least the access token (connected ones)
    assert len(secrets) >= (3 if name == "forward_url_not_allowed" else 4)
    text = "\n".join([str(e), repr(e), repr(e.args)] + [repr(getattr(e, a)) for a in ATTRS] + [repr(vars(e))])
    for s in secrets:
        assert s not in text, f"{name}: a secret appears in the error"


def test_version_comes_from_the_cargo_workspace():
    import re

    cargo = (pathlib.Path(__file__).resolve().parents[3] / "Cargo.toml").read_text()
    section = cargo.split("[workspace.package]", 1)[1].split("\n[", 1)[0]
    version = re.search(r'^version\s*=\s*"([^"]+)"', section, re.M).group(1)
    assert sfcrm.__version__ == version
    import importlib.metadata

    assert importlib.metadata.version("sfcrm") == version


def test_sealing_key_material_never_in_errors(emu, tmp_path):
    """A malformed key, a short key and a wrong key: typed errors that never show key material."""
    right, wrong = base64.b64encode(b"R" * 32).decode(), base64.b64encode(b"W" * 32).decode()
    for bad, secret in ((f"k1:{right[:-4]}!!!!", right[:-4]), (f"k1:{base64.b64encode(b'S' * 9).decode()}", base64.b64encode(b"S" * 9).decode())):
        with pytest.raises(sfcrm.ConfigError) as ei:
            sfcrm.FileStore(tmp_path, sealing_keys=bad)
        assert secret not in "\n".join([str(ei.value), repr(ei.value), repr(vars(ei.value))])
    c = sfcrm.Client(make_config(emu), store=sfcrm.FileStore(tmp_path, sealing_keys=f"k1:{right}"))
    key = fresh_key("seal")
    connect(c, *key)
    other = sfcrm.Client(make_config(emu), store=sfcrm.FileStore(tmp_path, sealing_keys=f"k1:{wrong}"))
    with pytest.raises(sfcrm.StoreError) as ei:
        other.export_page(*key, "notes", 1, 3)
    text = "\n".join([str(ei.value), repr(ei.value), repr(vars(ei.value)), repr(ei.value.__cause__)])
    assert right not in text and wrong not in text
