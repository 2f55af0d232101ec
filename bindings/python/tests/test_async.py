"""AsyncClient: the same operations as coroutines, `async for` over exports, cancellation."""

import asyncio

import pytest

import sfcrm
from conftest import FORWARD_URL, emulator_count, follow_authorize, fresh_key, make_config, start_emulator


async def aconnect(client, acc, owner):
    r = await client.login(acc, owner, FORWARD_URL)
    params = await asyncio.to_thread(follow_authorize, r.url)
    res = await client.callback(code=params["code"], state=params["state"])
    assert res.success
    return res


def test_async_flow_and_async_for(config, emulator, tmp_path):
    async def main():
        client = sfcrm.AsyncClient(config, store=sfcrm.MemoryStore())
        acc, owner = fresh_key("async")
        await aconnect(client, acc, owner)
        assert (await client.connection_info(acc, owner)).version == 1
        page = await client.export_page(acc, owner, "notes", 1, 5)
        assert page["success"] and len(page["data"]) == 5
        ids = []
        progress = []
        async for rec in client.export(acc, owner, "contacts", batch_size=500, progress=progress.append):
            ids.append(rec["Id"])
        assert len(ids) == emulator_count(emulator, "Contact") and ids == sorted(set(ids))
        assert progress and progress[-1].records == len(ids)
        s = await client.export_to_csv(acc, owner, "deals", tmp_path / "d.csv")
        assert s.records == emulator_count(emulator, "Opportunity")
        assert (await client.refresh(acc, owner)).version > 1
        assert client.api_calls().api_requests > 0 and client.api_usage() is not None
        assert (await client.disconnect(acc, owner)).revoked
        with pytest.raises(sfcrm.NotConnected):
            await client.export_page(acc, owner, "notes")

    asyncio.run(main())


def test_async_checkpoint_mid_batch(config, emulator):
    async def main():
        client = sfcrm.AsyncClient(config)
        acc, owner = fresh_key("async")
        await aconnect(client, acc, owner)
        it = client.export(acc, owner, "contacts", batch_size=200)
        first = []
        async for rec in it:
            first.append(rec["Id"])
            if len(first) == 250:
                break
        token = it.checkpoint
        await it.aclose()
        rest = [r["Id"] async for r in client.export(acc, owner, "contacts", checkpoint=token)]
        assert len(first) + len(rest) == emulator_count(emulator, "Contact")
        assert first[-1] < rest[0]

    asyncio.run(main())


def test_concurrent_async_exports_share_the_loop(config, emulator):
    async def main():
        client = sfcrm.AsyncClient(config)
        acc, owner = fresh_key("async")
        await aconnect(client, acc, owner)

        async def count(kind):
            return sum([1 async for _ in client.export(acc, owner, kind)])

        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        t = asyncio.create_task(ticker())
        counts = await asyncio.gather(*(count(k) for k in ["contacts", "deals", "notes"] * 3))
        t.cancel()
        assert counts == [emulator_count(emulator, o) for o in ["Contact", "Opportunity", "Note"]] * 3
        assert ticks > 0  # the event loop kept running

    asyncio.run(main())


def test_cancelling_the_task_cancels_the_export():
    emu = start_emulator()
    try:
        async def main():
            client = sfcrm.AsyncClient(make_config(emu))
            acc, owner = fresh_key("async")
            await aconnect(client, acc, owner)
            emu.control("faults", {"endpoint": "query", "kind": "delay", "ms": 5000, "count": 1})
            it = client.export(acc, owner, "contacts")

            async def consume():
                async for _ in it:
                    pass

            task = asyncio.create_task(consume())
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The native export is cancelled: its next call ends with Cancelled, not a hang.
            with pytest.raises(sfcrm.Cancelled):
                await asyncio.wait_for(it.next_batch(), 10)

        asyncio.run(main())
    finally:
        emu.stop()


def test_async_client_has_every_client_method_with_the_same_parameters():
    """A method added to Client and forgotten in AsyncClient (or a keyword left out) fails here."""
    import inspect

    for name, member in inspect.getmembers(sfcrm.Client):
        if name.startswith("_") or not callable(member):
            continue
        assert hasattr(sfcrm.AsyncClient, name), f"AsyncClient lacks {name}"
        if getattr(member, "__text_signature__", None) is None:
            continue
        want = [p for p in inspect.signature(member).parameters if p not in ("self", "$self")]
        got = inspect.signature(getattr(sfcrm.AsyncClient, name)).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in got.values()):
            continue  # forwards **kwargs (export_to_*/query_to_*)
        assert [p for p in got if p != "self"] == want, name


def test_async_fields_after_ready(config, emulator):
    """`AsyncExport.fields` makes no request: empty for fields="*" until `await it.ready()`,
    which resolves the describe in a worker thread without reading records."""
    async def main():
        client = sfcrm.AsyncClient(config)
        acc, owner = fresh_key("async")
        await aconnect(client, acc, owner)
        it = client.export(acc, owner, "Account", fields="*")
        assert it.fields == []
        queries = client.api_calls().query
        await it.ready()
        assert it.fields[0] == "Id" and "BillingCity" in it.fields and "BillingAddress" not in it.fields
        assert client.api_calls().query == queries
        first = await it.__anext__()
        assert [k for k in first if k != "attributes"] == it.fields
        await it.aclose()

    asyncio.run(main())
