"""Run as a subprocess by test_memory.py: exports every Contact of the emulator at argv[1] and
prints one JSON line with the record count and the memory figures."""

import json
import resource
import sys
import time
import tracemalloc

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import sfcrm  # noqa: E402
from conftest import Emulator, connect, make_config  # noqa: E402


def vm_rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    emu = Emulator(proc=None, login_url=sys.argv[1], instance_url="")
    client = sfcrm.Client(make_config(emu))
    connect(client, "memory-probe", "user-1")
    # Warm up (runtime threads, first batch buffers) so the baseline is steady.
    next(iter(client.export("memory-probe", "user-1", "contacts")))
    base_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    base_rss = vm_rss_kib()
    tracemalloc.start()
    t0 = time.monotonic()
    n, names = 0, 0
    for rec in client.export("memory-probe", "user-1", "contacts"):
        n += 1
        names += len(rec["Name"] or "")
    elapsed = time.monotonic() - t0
    _cur, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "records": n,
        "seconds": round(elapsed, 2),
        "traced_peak_bytes": traced_peak,
        "rss_peak_growth_kib": max(0, peak - max(base_peak, base_rss)),
        "rss_baseline_kib": base_rss,
    }))


if __name__ == "__main__":
    main()
