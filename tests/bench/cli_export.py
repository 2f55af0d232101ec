"""The Rust CLI client of the benchmark: ``sfcrm export TYPE --format ndjson --out FILE`` as a
whole process (start, config, unsealing the stored connection, the export, writing the file).
Usage: cli_export.py SFCRM_BIN STORE_DIR OWNER TYPE OUT_FILE. The connection must exist (the
harness runs ``sfcrm login`` once per size). Prints one JSON line: ``records`` counted from the
written file's lines, ``seconds`` the CLI process's wall time."""

import json
import os
import subprocess
import sys
import time


def main() -> None:
    cli, store, owner, export_type, out = sys.argv[1:6]
    env = dict(os.environ, SFCRM_STORE_DIR=store)
    t0 = time.perf_counter()
    p = subprocess.run([cli, "export", export_type, "--format", "ndjson", "--out", out, "--owner", owner],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"sfcrm export failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    with open(out, "rb") as f:
        records = sum(1 for line in f if line.strip())
    os.remove(out)
    print(json.dumps({"records": records, "seconds": secs}))


if __name__ == "__main__":
    main()
