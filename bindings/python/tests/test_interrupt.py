"""Ctrl-C: a KeyboardInterrupt stops a long blocking call within a second, and the token store is
left consistent (the connection still works, no refresh lease left behind, the checkpoint resumes
exactly after the last record, no partial output file).

A subprocess connects and starts an operation whose next request the emulator delays by 20 s; the
test sends SIGINT while it is blocked and measures how long the child takes to report the
KeyboardInterrupt."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

import sfcrm
from conftest import make_config, start_emulator

PROBE = pathlib.Path(__file__).with_name("_interrupt_probe.py")
DELAY_MS = 20_000


@pytest.fixture
def slow_emulator():
    emu = start_emulator("--contacts", "10000")
    yield emu
    emu.stop()


# The emulator counter that a mode's slow request increments on arrival (before the delay).
ARRIVED = {"token": "token_refresh_token", "query": "query", "query_more": "query_more"}


def run_and_interrupt(emu, store_dir, mode, endpoint, *, before=None):
    # Delay the operation's slow request before the child starts (the core prefetches the next
    # batch as soon as one arrives, so installing it later would race with the prefetch).
    if endpoint != "token":  # the token endpoint is needed to connect: delayed after READY
        emu.control("faults", {"endpoint": endpoint, "kind": "delay", "ms": DELAY_MS, "count": 1})
    proc = subprocess.Popen(
        [sys.executable, str(PROBE), emu.login_url, str(store_dir), mode],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("READY"), (line, proc.stderr.read() if proc.poll() is not None else "")
        if endpoint == "token":
            emu.control("faults", {"endpoint": endpoint, "kind": "delay", "ms": DELAY_MS, "count": 1})
        # The child waits for GO, so the delay is in place before its slow operation starts.
        proc.stdin.write("GO\n")
        proc.stdin.flush()
        # Interrupt only once the slow request reached the emulator (the counter moves on
        # arrival, before the delay): the child is then blocked on it, whatever the load.
        deadline = time.monotonic() + 15
        while emu.control("counters", method="GET")[ARRIVED[endpoint]] < 1:
            assert proc.poll() is None, ("the child ended early", proc.stdout.read(), proc.stderr.read())
            assert time.monotonic() < deadline, f"the {endpoint} request never reached the emulator"
            time.sleep(0.02)
        time.sleep(0.1)  # from the request's arrival to the child waiting on its answer
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out = proc.stdout.readline()
        reported = time.monotonic()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    emu.control("faults", method="DELETE")
    result = json.loads(out)
    assert result["interrupted"] is True
    return result, reported - sent


def check_store_consistent(emu, store_dir, lease_allowed=False):
    store = sfcrm.FileStore(store_dir)
    doc = store.load("interrupt", "user-1")
    assert doc is not None and not doc["token_invalidated"]
    if not lease_allowed:
        assert doc.get("refresh_lease") is None
    assert not [p for p in pathlib.Path(store_dir).iterdir() if p.name.endswith((".tmp", ".partial"))]
    client = sfcrm.Client(make_config(emu), store=store)
    assert client.login("interrupt", "user-1", "http://127.0.0.1:3000/x").already_connected
    return client


def test_interrupt_iteration_stops_within_a_second(slow_emulator, tmp_path):
    store_dir = tmp_path / "tokens"
    # The first batch arrives at once; the delay hits the next locator request.
    result, took = run_and_interrupt(slow_emulator, store_dir, "iterate", "query_more")
    print(f"KeyboardInterrupt after {took:.3f} s")
    assert took < 1.0, f"KeyboardInterrupt took {took:.2f} s"
    assert result["records"] == 2000
    client = check_store_consistent(slow_emulator, store_dir)
    rest = [r["Id"] for r in client.export("interrupt", "user-1", "contacts", checkpoint=result["checkpoint"])]
    assert len(rest) == 10_000 - 2000


def test_interrupt_file_export_leaves_no_file(slow_emulator, tmp_path):
    store_dir = tmp_path / "tokens"
    result, took = run_and_interrupt(slow_emulator, store_dir, "csv", "query")
    print(f"KeyboardInterrupt after {took:.3f} s")
    assert took < 1.0, f"KeyboardInterrupt took {took:.2f} s"
    assert not (tmp_path / "out.csv").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["tokens"]  # no partial file left
    check_store_consistent(slow_emulator, store_dir)


def test_interrupt_single_call(slow_emulator, tmp_path):
    store_dir = tmp_path / "tokens"
    _result, took = run_and_interrupt(slow_emulator, store_dir, "page", "query")
    print(f"KeyboardInterrupt after {took:.3f} s")
    assert took < 1.0, f"KeyboardInterrupt took {took:.2f} s"
    check_store_consistent(slow_emulator, store_dir)


def test_interrupt_during_a_refresh_leaves_a_recoverable_store(slow_emulator, tmp_path):
    """Ctrl-C while the refresh grant is in flight: the process exits before the grant answers, so
    the lease it took may stay behind; the document is still valid JSON with the previous tokens,
    and once the lease expires (2 s here) another client refreshes normally."""
    store_dir = tmp_path / "tokens"
    _result, took = run_and_interrupt(slow_emulator, store_dir, "refresh", "token")
    print(f"KeyboardInterrupt after {took:.3f} s")
    assert took < 1.0, f"KeyboardInterrupt took {took:.2f} s"
    client = check_store_consistent(slow_emulator, store_dir, lease_allowed=True)
    lease = sfcrm.FileStore(store_dir).load("interrupt", "user-1").get("refresh_lease")
    if lease is not None:
        time.sleep(max(0.0, lease["expires_at_ms"] / 1000 - time.time()) + 0.2)
    info = client.refresh("interrupt", "user-1")
    assert info.has_refresh_token and not info.token_invalidated
    assert sfcrm.FileStore(store_dir).load("interrupt", "user-1").get("refresh_lease") is None
