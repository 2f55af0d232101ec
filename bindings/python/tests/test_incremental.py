"""Incremental state (issue 16): each run returns a watermark; the next run passes it back and
gets every change exactly once, also one committed "late" (its SystemModstamp earlier than the
previous run's end). `since` accepts a timezone-aware datetime; a checkpoint is refused where a
watermark is expected."""

from __future__ import annotations

import datetime

import pytest

import sfcrm
from conftest import connect, make_config, start_emulator


@pytest.fixture(scope="module")
def org():
    """A dedicated emulator (this module moves its clock and changes records)."""
    emu = start_emulator("--deals", "300", "--contacts", "10", "--notes", "1")
    client = sfcrm.Client(make_config(emu), store=sfcrm.MemoryStore())
    connect(client, "acc-inc", "user-1")
    yield emu, client
    emu.stop()


def run(client, **kw):
    it = client.export("acc-inc", "user-1", "deals", batch_size=200, **kw)
    ids = [r["Id"] for r in it]
    assert len(ids) == len(set(ids)), "a record delivered twice in one run"
    assert it.watermark is not None
    return ids, it.watermark


def test_every_change_arrives_exactly_once_including_a_late_one(org, tmp_path):
    emu, client = org
    start = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    first, w1 = run(client, since=start)  # a datetime, not a string
    assert len(first) == 300
    changed = emu.control("records/touch", {"sobject": "Opportunity", "count": 3})["ids"]
    ids, w2 = run(client, watermark=w1)
    assert set(ids) == set(changed)
    # Late: written 120 s before run 2's end, committed after it; and one ordinary change.
    other = next(i for i in first if i not in changed)
    emu.control("clock/advance", {"ms": -120_000})
    late = emu.control("records/touch", {"sobject": "Opportunity", "ids": [other]})["ids"]
    emu.control("clock/advance", {"ms": 120_000})
    now = emu.control("records/touch", {"sobject": "Opportunity", "count": 1})["ids"]
    ids, w3 = run(client, watermark=w2)
    assert sorted(ids) == sorted(set(late) | set(now)), ids
    ids, _ = run(client, watermark=w3)
    assert ids == []
    # A file export returns the same state.
    summary = client.export_to_ndjson("acc-inc", "user-1", "deals", tmp_path / "d.ndjson", watermark=w3)
    assert summary.records == 0 and summary.watermark is not None and summary.missing == 0


def test_a_checkpoint_is_refused_where_a_watermark_is_expected(org):
    _, client = org
    it = client.export("acc-inc", "user-1", "deals")
    for _ in it:
        pass
    assert it.watermark is None, "a full export has no watermark"
    with pytest.raises(sfcrm.InvalidArgumentError, match="resume checkpoint, not a watermark"):
        next(iter(client.export("acc-inc", "user-1", "deals", watermark=it.checkpoint)))
    with pytest.raises(sfcrm.InvalidArgumentError, match="timezone-aware"):
        client.export("acc-inc", "user-1", "deals", since=datetime.datetime(2024, 1, 1))
    with pytest.raises(sfcrm.InvalidArgumentError):
        client.export("acc-inc", "user-1", "deals", since=datetime.date(2024, 1, 1))
