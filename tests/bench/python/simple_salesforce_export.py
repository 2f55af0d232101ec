"""simple-salesforce client of the benchmark: ``Salesforce.query_all_iter`` over the same SOQL the
SDK runs, with the session the harness obtained (simple-salesforce always builds https:// URLs, so
the emulator runs with --tls; the CA comes from REQUESTS_CA_BUNDLE).
Usage: simple_salesforce_export.py SESSION_JSON SOQL BATCH_SIZE. Prints one JSON line."""

import json
import sys
import time
from importlib.metadata import version

from simple_salesforce import Salesforce


def main() -> None:
    session = json.load(open(sys.argv[1]))
    soql, batch_size = sys.argv[2], int(sys.argv[3])
    sf = Salesforce(instance_url=session["instance_url"], session_id=session["access_token"], version="48.0")
    records = 0
    t0 = time.perf_counter()
    for _record in sf.query_all_iter(soql, headers={"Sforce-Query-Options": f"batchSize={batch_size}"}):
        records += 1
    secs = time.perf_counter() - t0
    print(json.dumps({"records": records, "seconds": secs, "version": version("simple-salesforce")}))


if __name__ == "__main__":
    main()
