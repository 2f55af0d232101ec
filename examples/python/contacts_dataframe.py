"""Load every contact of an org into a pandas DataFrame.

    python examples/python/contacts_dataframe.py

Records arrive batch by batch (`next_batch`), are flattened with `pandas.json_normalize`
(`Account.Name`, `Owner.Alias`; a missing Account becomes NaN), and concatenated once.
"""

from __future__ import annotations

import pandas as pd

from _demo_org import ACCOUNT_ID, OWNER, connected_client, org_login_url


def contacts_frame(client) -> pd.DataFrame:
    frames = []
    it = client.export(ACCOUNT_ID, OWNER, "contacts")
    while (batch := it.next_batch()) is not None:
        frame = pd.json_normalize(batch)
        # Drop Salesforce's `attributes` and the parent columns left by null parents ("Account":
        # None stays a column next to "Account.Name").
        nested = {c.split(".")[0] for c in frame.columns if "." in c} | {"Account", "Owner"}
        drop = [c for c in frame.columns if c.startswith("attributes") or ".attributes." in c or c in nested]
        frames.append(frame.drop(columns=drop))
    df = pd.concat(frames, ignore_index=True).set_index("Id")
    return df


def main() -> None:
    with org_login_url() as login_url:
        client = connected_client(login_url)
        df = contacts_frame(client)
    print(df.head(10).to_string())
    print()
    print(f"{len(df)} contacts, {df['Account.Name'].notna().sum()} with an account")
    print("contacts per account (top 5):")
    print(df.groupby("Account.Name").size().sort_values(ascending=False).head(5).to_string())
    assert df.index.is_unique


if __name__ == "__main__":
    main()
