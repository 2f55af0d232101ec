"""Shared by the examples: an org to talk to and a connected client.

With the main README's environment (``SALESFORCE_LOGIN_URL``, ``SALESFORCE_CLIENT_ID``, ...; README.md,
"Trying any of these against the emulator") the examples use that emulator and ``Config.from_env()``;
with only ``SF_ORG_EMULATOR_LOGIN_URL`` (what the emulator prints) they use that emulator with the
demo settings; otherwise they start ``sf-org-emulator`` (tests/org-emulator, built with cargo if
needed) for the duration of the script.
The OAuth consent step, which a real user does in a browser, is done here by following the
emulator's authorize redirect.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Iterator

import sfcrm

REPO = pathlib.Path(__file__).resolve().parents[2]
ACCOUNT_ID, OWNER = "demo-account", "demo-user"


@contextlib.contextmanager
def org_login_url() -> Iterator[str]:
    """The login URL of an org emulator (started here unless one is given in the environment)."""
    given = os.environ.get("SALESFORCE_LOGIN_URL") or os.environ.get("SF_ORG_EMULATOR_LOGIN_URL")
    if given:
        yield given
        return
    exe = REPO / "target" / "debug" / "sf-org-emulator"
    if not exe.exists():
        subprocess.run(["cargo", "build", "-p", "sf-org-emulator", "--bin", "sf-org-emulator"], cwd=REPO, check=True)
    proc = subprocess.Popen([str(exe), "--exit-on-stdin-close"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    stdout, stdin = proc.stdout, proc.stdin
    try:
        url = None
        while url is None:
            line = stdout.readline()
            if not line:
                raise RuntimeError("sf-org-emulator did not start")
            if line.startswith("SF_ORG_EMULATOR_LOGIN_URL="):
                url = line.strip().split("=", 1)[1]
        threading.Thread(target=lambda: [None for _ in stdout], daemon=True).start()
        yield url
    finally:
        stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def connected_client(login_url: str) -> sfcrm.Client:
    """A client whose demo connection is established (the whole OAuth web-server flow)."""
    forward_url = "http://127.0.0.1:3000/done"
    if os.environ.get("SALESFORCE_CLIENT_ID"):  # the README's environment
        config = sfcrm.Config.from_env()
        origin = os.environ.get("SFCRM_FORWARD_ORIGINS", "*").split(",")[0].strip()
        if origin != "*":
            forward_url = origin.rstrip("/") + "/done"
    else:
        config = sfcrm.Config(
            client_id="sfcrm-demo-client",
            client_secret="sfcrm-demo-secret",
            redirect_uri="http://127.0.0.1:8765/callback",
            state_secret="examples-state-secret-0123456789abcdef",
            forward_origins=["http://127.0.0.1:3000"],
            login_url=login_url,
        )
    client = sfcrm.Client(config, store=sfcrm.MemoryStore())
    redirect = client.login(ACCOUNT_ID, OWNER, forward_url)
    if not redirect.already_connected:
        try:
            urllib.request.build_opener(_NoRedirect).open(redirect.url)
            raise RuntimeError("the authorize endpoint did not redirect")
        except urllib.error.HTTPError as e:
            location = e.headers["Location"]
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        result = client.callback(code=q.get("code"), state=q.get("state"), error=q.get("error"))
        if not result.success:
            raise RuntimeError(f"connection failed: {result.reason}")
    return client
