"""A 200,000-record export keeps memory bounded.

Bound stated: while 200,000 Contacts stream through `Client.export`, Python allocations
(tracemalloc peak) stay under 8 MiB and the process's peak RSS grows by less than 96 MiB over its
warmed-up baseline. Holding the records instead would take several hundred MiB (a converted
Contact dict is ~2-3 KiB with its nested Account/Owner dicts), so the bound fails if records
accumulate anywhere (native buffers, the iterator, Python). The export runs in a subprocess so the
RSS figure is not polluted by other tests.
"""

import json
import pathlib
import subprocess
import sys

from conftest import emulator_count

TRACED_BOUND = 8 * 1024 * 1024
RSS_GROWTH_BOUND_KIB = 96 * 1024


def test_200k_export_peak_memory_is_bounded(big_emulator):
    assert emulator_count(big_emulator, "Contact") == 200_000
    probe = pathlib.Path(__file__).with_name("_memory_probe.py")
    out = subprocess.run(
        [sys.executable, str(probe), big_emulator.login_url],
        capture_output=True, text=True, timeout=300, check=True,
    )
    m = json.loads(out.stdout.strip().splitlines()[-1])
    print("memory:", m)
    assert m["records"] == 200_000
    assert m["traced_peak_bytes"] < TRACED_BOUND, m
    assert m["rss_peak_growth_kib"] < RSS_GROWTH_BOUND_KIB, m
