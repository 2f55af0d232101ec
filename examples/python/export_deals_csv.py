"""Export the deals (Opportunity) of an org to a CSV file, incrementally, with a tqdm progress bar.

    python examples/python/export_deals_csv.py [--out deals.csv] [--state deals.watermark]

The first run exports every deal (``since`` a date far back); it saves the watermark the SDK
returns in ``--state``. Each later run passes it back and writes only the deals changed since,
each change exactly once, also rows committed late (the SDK re-reads a 600 s lookback and skips
what it delivered). The checkpoint is something else: it resumes one run that stopped.

The CSV is written natively by the SDK (no Python object per record); the progress callback runs on
this thread after each batch of up to 2000 records.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import pathlib

from tqdm import tqdm

from _demo_org import ACCOUNT_ID, OWNER, connected_client, org_login_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="deals.csv")
    parser.add_argument("--state", default="deals.watermark", help="incremental state between runs")
    args = parser.parse_args()
    state = pathlib.Path(args.state)
    # The first run: everything since a date far back. Later runs: what changed since the last one.
    watermark = state.read_text().strip() if state.exists() else None
    since = None if watermark else datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)

    with org_login_url() as login_url:
        client = connected_client(login_url)
        with tqdm(unit="deal", desc="deals") as bar:
            def on_progress(p):
                bar.total = p.total_size
                bar.update(p.records - bar.n)

            summary = client.export_to_csv(
                ACCOUNT_ID, OWNER, "deals", args.out, progress=on_progress, since=since, watermark=watermark
            )

    with open(args.out, newline="", encoding="utf-8") as f:
        rows = sum(1 for _ in csv.reader(f)) - 1
    assert rows == summary.records, (rows, summary.records)
    print(f"wrote {summary.records} deals to {args.out} with {summary.api_calls} API call(s)")
    assert summary.watermark is not None
    state.write_text(summary.watermark)
    print(f"incremental state for the next run saved to {state} ({len(summary.watermark)} bytes)")


if __name__ == "__main__":
    main()
