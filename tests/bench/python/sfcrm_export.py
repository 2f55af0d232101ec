"""sfcrm Python client of the benchmark: a full export through ``Client.export`` (an iterator
yielding one dict per record). Usage: sfcrm_export.py LOGIN_URL STORE_DIR TYPE BATCH_SIZE.
Prints one JSON line; ``seconds`` covers the export only (imports and client setup excluded)."""

import json
import sys
import time

import sfcrm


def main() -> None:
    login_url, store_dir, export_type, batch_size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    config = sfcrm.Config(
        "sfcrm-demo-client",
        "sfcrm-demo-secret",
        "http://127.0.0.1:8788/callback",
        "bench-state-secret-0123456789abcdef0123456789",
        ["http://127.0.0.1:3000"],
        login_url=login_url,
    )
    client = sfcrm.Client(config, store=sfcrm.FileStore(store_dir))
    records = 0
    t0 = time.perf_counter()
    for _record in client.export("bench", "bench", export_type, batch_size=batch_size):
        records += 1
    secs = time.perf_counter() - t0
    print(json.dumps({"records": records, "seconds": secs, "version": sfcrm.__version__}))


if __name__ == "__main__":
    main()
