"""Fixtures: the org emulator (spawned per session from target/debug/sf-org-emulator) and clients.

The emulator is a Salesforce org on loopback (tests/org-emulator): it serves the login host and
an instance host, auto-consents on /services/oauth2/authorize with a 302 to
``redirect_uri?code=...&state=...``, and has test controls under ``/__emulator/`` on the login URL.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Iterator, Optional

import pytest

import sfcrm

REPO = pathlib.Path(__file__).resolve().parents[3]
# The contract vectors vendored in the repository (kept equal to ../shared/contract by
# scripts/check-contract.sh), found from this file, not the working directory.
CONTRACT = REPO / "tests" / "contract"

CLIENT_ID = "sfcrm-demo-client"
CLIENT_SECRET = "sfcrm-demo-secret"
REDIRECT_URI = "http://127.0.0.1:8765/callback"
FORWARD_URL = "http://127.0.0.1:3000/integrations"
STATE_SECRET = "python-tests-state-secret-0123456789abcdef"


def emulator_binary() -> pathlib.Path:
    exe = REPO / "target" / "debug" / "sf-org-emulator"
    if not exe.exists():
        subprocess.run(
            ["cargo", "build", "-p", "sf-org-emulator", "--bin", "sf-org-emulator"],
            cwd=REPO,
            check=True,
        )
    return exe


@dataclass
class Emulator:
    """A running emulator process and its URLs."""

    proc: subprocess.Popen
    login_url: str
    instance_url: str

    def control(self, path: str, body: Optional[dict] = None, method: str = "POST") -> object:
        """Calls a test control under /__emulator/ on the login URL; returns parsed JSON (or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.login_url}/__emulator/{path.lstrip('/')}",
            data=data,
            method=method if (data is not None or method != "POST") else "POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read().decode()
        return json.loads(text) if text.strip() else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # --exit-on-stdin-close
                self.proc.wait(timeout=5)
            except Exception:
                self.proc.kill()
                self.proc.wait()


def start_emulator(*args: str) -> Emulator:
    """Spawns the emulator with extra arguments and waits for its two URL lines."""
    proc = subprocess.Popen(
        [str(emulator_binary()), "--exit-on-stdin-close", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    urls: dict[str, str] = {}
    assert proc.stdout is not None
    while len(urls) < 2:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"sf-org-emulator exited early (status {proc.poll()})")
        if "=" in line:
            k, v = line.strip().split("=", 1)
            if k in ("SF_ORG_EMULATOR_LOGIN_URL", "SF_ORG_EMULATOR_INSTANCE_URL"):
                urls[k] = v
    # Drain the rest of stdout so the emulator never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return Emulator(proc, urls["SF_ORG_EMULATOR_LOGIN_URL"], urls["SF_ORG_EMULATOR_INSTANCE_URL"])


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    emu = start_emulator()
    yield emu
    emu.stop()


def make_config(emu: Emulator, **overrides) -> sfcrm.Config:
    kw = dict(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        state_secret=STATE_SECRET,
        forward_origins=["http://127.0.0.1:3000"],
        login_url=emu.login_url,
        request_timeout=30.0,
        max_retries=1,
        initial_backoff=0.01,
        max_backoff=0.05,
    )
    kw.update(overrides)
    return sfcrm.Config(**kw)


@pytest.fixture
def config(emulator: Emulator) -> sfcrm.Config:
    return make_config(emulator)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401
        return None


def follow_authorize(url: str) -> dict[str, str]:
    """Opens the authorize URL like a browser that consents, returns the callback query params."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(url, timeout=30)
    except urllib.error.HTTPError as e:
        if e.code not in (301, 302, 303, 307):
            raise
        location = e.headers["Location"]
    else:
        raise AssertionError("authorize did not redirect")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    return {k: v[0] for k, v in q.items()}


def connect(client: sfcrm.Client, account_id: str, owner: str) -> "sfcrm.CallbackResult":
    """Runs the whole OAuth web-server flow against the emulator for (account_id, owner)."""
    redirect = client.login(account_id, owner, FORWARD_URL)
    assert not redirect.already_connected
    params = follow_authorize(redirect.url)
    result = client.callback(code=params.get("code"), state=params.get("state"))
    assert result.success, result.url
    return result


@pytest.fixture
def connected(config: sfcrm.Config):
    """A client on a MemoryStore with one connection (acc-1, user-1)."""
    client = sfcrm.Client(config, store=sfcrm.MemoryStore())
    connect(client, "acc-1", "user-1")
    return client


sys.path.insert(0, str(pathlib.Path(__file__).parent))


@pytest.fixture(scope="session")
def big_emulator() -> Iterator[Emulator]:
    """An org with 200,000 Contacts (memory, deep pages, interrupt tests)."""
    emu = start_emulator("--contacts", "200000")
    yield emu
    emu.stop()


_seq = [0]


def fresh_key(prefix: str = "acc") -> tuple[str, str]:
    """A connection key no other test uses."""
    _seq[0] += 1
    return f"{prefix}-{os.getpid()}-{_seq[0]}", "user-1"


def emulator_count(emu: Emulator, sobject: str) -> int:
    return int(emu.control("info", method="GET")["counts"][sobject])
