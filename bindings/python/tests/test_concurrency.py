"""Threads: eight threads exporting at once (one shared client and separate clients), and the GIL
released while the SDK waits on the network."""

import threading
import time

import sfcrm
from conftest import connect, emulator_count, fresh_key, make_config, start_emulator


def test_eight_threads_exporting_at_once(config, emulator, tmp_path):
    shared = sfcrm.Client(config)
    key = fresh_key("threads")
    connect(shared, *key)
    total = emulator_count(emulator, "Contact")
    results, errors = {}, []
    barrier = threading.Barrier(8)

    def work(i):
        try:
            barrier.wait()
            if i % 2 == 0:
                ids = [r["Id"] for r in shared.export(*key, "contacts", batch_size=200)]
            else:
                s = shared.export_to_ndjson(*key, "contacts", tmp_path / f"thread-{i}.ndjson")
                ids = [None] * s.records
            results[i] = ids
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(results) == 8
    for i, ids in results.items():
        assert len(ids) == total
        if i % 2 == 0:
            assert len(set(ids)) == total and ids == sorted(ids)


def test_gil_is_released_while_waiting_on_the_network():
    emu = start_emulator()
    try:
        client = sfcrm.Client(make_config(emu))
        key = fresh_key()
        connect(client, *key)
        emu.control("faults", {"endpoint": "query", "kind": "delay", "ms": 800, "count": 1})
        ticks = [0]
        stop = threading.Event()

        def spin():
            while not stop.is_set():
                ticks[0] += 1

        t = threading.Thread(target=spin)
        t.start()
        t0 = time.monotonic()
        client.export_page(*key, "notes", 1, 5)
        elapsed = time.monotonic() - t0
        stop.set()
        t.join()
        assert elapsed >= 0.8
        # With the GIL held for 0.8 s the spinner would get ~0 ticks; released, it runs freely.
        assert ticks[0] > 20_000, ticks[0]
    finally:
        emu.stop()


def test_store_callbacks_run_while_main_thread_waits(config):
    """A Python store needs the GIL from a worker thread while the caller is blocked in the SDK:
    no deadlock, even with many threads doing it at once."""
    from test_store import DictStore

    store = DictStore()
    client = sfcrm.Client(config, store=store)
    keys = [fresh_key("gil") for _ in range(8)]
    for k in keys:
        connect(client, *k)
    errors = []

    def work(k):
        try:
            for _ in range(3):
                client.refresh(*k)
                client.export_page(*k, "notes", 1, 3)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert not errors
    assert all(store.docs[k]["version"] >= 4 for k in keys)
