"""Run as a subprocess by test_interrupt.py. argv: login_url store_dir mode.

Connects (FileStore in store_dir), prints "READY <mode>", waits for a "GO" line on stdin (the
parent installs its faults in between), then makes the blocking call; the parent sends SIGINT. On KeyboardInterrupt it prints one JSON line with what
it saw, and exits 0. Modes: `iterate` (export iterator blocked on a slow batch), `csv`
(export_to_csv blocked on a slow batch), `page` (export_page blocked on a slow COUNT), `refresh` (a refresh whose token request is slow).
"""

import json
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import sfcrm  # noqa: E402
from conftest import Emulator, connect, make_config  # noqa: E402

login_url, store_dir, mode = sys.argv[1], sys.argv[2], sys.argv[3]
emu = Emulator(proc=None, login_url=login_url, instance_url="")
overrides = {"refresh_lease_ttl": 2.0, "token_timeout": 1.5} if mode == "refresh" else {}
client = sfcrm.Client(make_config(emu, **overrides), store=sfcrm.FileStore(store_dir))
KEY = ("interrupt", "user-1")
connect(client, *KEY)


def ready(mode: str) -> None:
    print(f"READY {mode}", flush=True)
    assert sys.stdin.readline().strip() == "GO"


got = 0
it = None
try:
    if mode == "iterate":
        it = client.export(*KEY, "contacts", batch_size=2000)
        for _ in range(2000):  # the first batch is fast
            next(it)
            got += 1
        ready("iterate")
        for _ in it:  # the next batch is delayed by the emulator
            got += 1
    elif mode == "csv":
        ready("csv")
        client.export_to_csv(*KEY, "contacts", store_dir + "/../out.csv")
    elif mode == "refresh":
        ready("refresh")
        client.refresh(*KEY)
    elif mode == "page":
        ready("page")
        client.export_page(*KEY, "contacts", 1, 10)
    print(json.dumps({"interrupted": False}), flush=True)
except KeyboardInterrupt:
    t = time.monotonic()
    checkpoint = it.checkpoint if it is not None else None
    print(json.dumps({"interrupted": True, "at": t, "records": got, "checkpoint": checkpoint}), flush=True)
