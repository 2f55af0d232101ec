"""Export every deal (Opportunity) of an org to a CSV file, with a tqdm progress bar.

    python examples/python/export_deals_csv.py [--out deals.csv]

The CSV is written natively by the SDK (no Python object per record); the progress callback runs on
this thread after each batch of up to 2000 records.
"""

from __future__ import annotations

import argparse
import csv

from tqdm import tqdm

from _demo_org import ACCOUNT_ID, OWNER, connected_client, org_login_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="deals.csv")
    args = parser.parse_args()

    with org_login_url() as login_url:
        client = connected_client(login_url)
        with tqdm(unit="deal", desc="deals") as bar:
            def on_progress(p):
                bar.total = p.total_size
                bar.update(p.records - bar.n)

            summary = client.export_to_csv(ACCOUNT_ID, OWNER, "deals", args.out, progress=on_progress)

    with open(args.out, newline="", encoding="utf-8") as f:
        rows = sum(1 for _ in csv.reader(f)) - 1
    assert rows == summary.records, (rows, summary.records)
    print(f"wrote {summary.records} deals to {args.out} with {summary.api_calls} API call(s)")
    # The checkpoint resumes *this* export if it stops; it is not a starting point for a later
    # incremental run (those take `since`).
    print(f"checkpoint (resumes this export if it stops): {summary.checkpoint[:24]}...")


if __name__ == "__main__":
    main()
