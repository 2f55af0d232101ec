"""asyncio front end: :class:`AsyncClient` with ``await`` methods, ``async for`` exports and queries.

Each blocking core call runs in a worker thread (the event loop's default executor, or the one you
pass) with the GIL released inside the native code, so the event loop never blocks. Exports pull a
whole batch per thread hop and hand its records out one by one, so ``async for`` costs one hop per
batch (2000 records by default), not one per record.

Cancelling the awaiting task (``asyncio.CancelledError``) cancels the export: the native stream
stops its prefetch, and the batch being fetched is discarded.
"""

from __future__ import annotations

import asyncio
import datetime
import concurrent.futures
import functools
import os
from typing import Any, Callable, Optional, Sequence, TypeVar, Union

from ._native import (
    ApiCalls,
    ApiUsage,
    CallbackResult,
    Client,
    Config,
    ConnectionInfo,
    Disconnected,
    ExportIterator,
    ExportSummary,
    FileStore,
    LoginRedirect,
    MemoryStore,
    Progress,
)
from .store import TokenStore
from .types import BulkOptions, Mode, Params

T = TypeVar("T")


def _fields(fields: Union[str, Sequence[str], None]) -> Union[str, list[str], None]:
    """``fields`` for the native call: ``"*"`` (or any str, refused natively) as is, else a list."""
    if fields is None or isinstance(fields, str):
        return fields
    return list(fields)


class AsyncExport:
    """``async for record in client.export(...)``: records as dicts, fetched lazily in batches.

    ``checkpoint`` is the token to resume right after the last record yielded.
    """

    def __init__(self, native: ExportIterator, run: Callable[..., "asyncio.Future[Any]"]) -> None:
        self._native = native
        self._run = run
        self._batch: list[dict[str, Any]] = []
        self._pos = 0
        self._base: Optional[str] = None

    def __aiter__(self) -> "AsyncExport":
        return self

    async def __anext__(self) -> dict[str, Any]:
        if self._pos >= len(self._batch):
            self._base = self.checkpoint if self._batch else None
            try:
                batch: Optional[list[dict[str, Any]]] = await self._run(self._native.next_batch)
            except asyncio.CancelledError:
                self._native.cancel()
                raise
            if batch is None:
                self._batch, self._pos = [], 0
                raise StopAsyncIteration
            self._batch, self._pos = batch, 0
        record = self._batch[self._pos]
        self._pos += 1
        return record

    async def next_batch(self) -> Optional[list[dict[str, Any]]]:
        """The rest of the current batch, or the next one; None at the end."""
        if self._pos < len(self._batch):
            rest = self._batch[self._pos :]
            self._pos = len(self._batch)
            return rest
        try:
            batch: Optional[list[dict[str, Any]]] = await self._run(self._native.next_batch)
        except asyncio.CancelledError:
            self._native.cancel()
            raise
        if batch is None:
            return None
        self._batch, self._pos = batch, len(batch)
        return batch

    @property
    def checkpoint(self) -> str:
        """Opaque token to resume right after the last record yielded."""
        if self._pos == 0 or not self._batch:
            return self._base if self._base is not None else self._native.checkpoint
        return self._native._checkpoint_at(self._pos - 1)

    @property
    def fields(self) -> list[str]:
        """The field paths the records carry, in order (see ``ExportIterator.fields``). This
        property makes no request: for ``fields="*"`` or a query's ``*`` / ``FIELDS(...)`` it is
        empty until ``await it.ready()`` (or the first record)."""
        return self._native._fields_now

    async def ready(self) -> None:
        """Resolves an every-field export's (or a ``*`` / ``FIELDS(...)`` query's) field list from
        the describe, in a worker thread, without reading records; then ``fields`` is complete.
        Raises the describe's error (the next record raises it again)."""
        try:
            await self._run(self._native.ready)
        except asyncio.CancelledError:
            self._native.cancel()
            raise

    @property
    def progress(self) -> Progress:
        """Records and batches fetched so far, and the expected total."""
        return self._native.progress

    @property
    def fallback_reason(self) -> Optional[str]:
        """``mode="bulk"``: why REST reads the records instead of a Bulk API 2.0 job (see
        :attr:`sfcrm.ExportIterator.fallback_reason`); None otherwise."""
        return self._native.fallback_reason

    @property
    def bulk_job_id(self) -> Optional[str]:
        """``mode="bulk"``: the Bulk API 2.0 job's id once created; None otherwise."""
        return self._native.bulk_job_id

    @property
    def watermark(self) -> Optional[str]:
        """Once the export has ended, the next incremental run's ``watermark=`` (see
        :attr:`sfcrm.ExportIterator.watermark`)."""
        return self._native.watermark

    def cancel(self) -> None:
        """Stops the export (idempotent)."""
        self._native.cancel()

    async def aclose(self) -> None:
        """Cancels the prefetch and ends the iteration."""
        self._native.cancel()
        await self._run(self._native.close)

    async def __aenter__(self) -> "AsyncExport":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class AsyncClient:
    """The :class:`sfcrm.Client` API for asyncio: every method is a coroutine.

    ``executor``: where blocking calls run (default: the loop's default thread pool). The wrapped
    synchronous client is available as :attr:`sync` (it shares connections and counters).
    """

    def __init__(
        self,
        config: Config,
        store: Union[MemoryStore, FileStore, TokenStore, None] = None,
        *,
        executor: Optional[concurrent.futures.Executor] = None,
    ) -> None:
        self._client = Client(config, store=store)
        self._executor = executor

    @property
    def sync(self) -> Client:
        """The underlying synchronous client."""
        return self._client

    def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> "asyncio.Future[T]":
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def login(self, account_id: str, owner: str, forward_url: Optional[str] = None) -> LoginRedirect:
        """See :meth:`sfcrm.Client.login`."""
        return await self._run(self._client.login, account_id, owner, forward_url)

    async def callback(
        self,
        code: Optional[str] = None,
        state: Optional[str] = None,
        error: Optional[str] = None,
        error_description: Optional[str] = None,
    ) -> CallbackResult:
        """See :meth:`sfcrm.Client.callback`."""
        return await self._run(self._client.callback, code, state, error, error_description)

    async def disconnect(self, account_id: str, owner: str) -> Disconnected:
        """See :meth:`sfcrm.Client.disconnect`."""
        return await self._run(self._client.disconnect, account_id, owner)

    async def refresh(self, account_id: str, owner: str) -> ConnectionInfo:
        """See :meth:`sfcrm.Client.refresh`."""
        return await self._run(self._client.refresh, account_id, owner)

    async def connection_info(self, account_id: str, owner: str) -> Optional[ConnectionInfo]:
        """See :meth:`sfcrm.Client.connection_info`."""
        return await self._run(self._client.connection_info, account_id, owner)

    async def api_get(self, account_id: str, owner: str, path: str, *, lossless: bool = False) -> Any:
        """See :meth:`sfcrm.Client.api_get`."""
        return await self._run(self._client.api_get, account_id, owner, path, lossless=lossless)

    async def export_page(
        self,
        account_id: str,
        owner: str,
        type: str,
        page: Union[int, str, None] = None,
        limit: Union[int, str, None] = None,
        *,
        fields: Union[str, Sequence[str], None] = None,
        lossless: bool = False,
        where: Optional[str] = None,
        params: Optional[Params] = None,
    ) -> dict[str, Any]:
        """See :meth:`sfcrm.Client.export_page`."""
        return await self._run(
            self._client.export_page,
            account_id,
            owner,
            type,
            page,
            limit,
            fields=_fields(fields),
            lossless=lossless,
            where=where,
            params=params,
        )

    def export(
        self,
        account_id: str,
        owner: str,
        type: str,
        fields: Union[str, Sequence[str], None] = None,
        since: Union[str, datetime.datetime, None] = None,
        checkpoint: Optional[str] = None,
        progress: Optional[Callable[[Progress], object]] = None,
        lossless: bool = False,
        *,
        include_deleted: bool = False,
        batch_size: Optional[int] = None,
        where: Optional[str] = None,
        params: Optional[Params] = None,
        watermark: Optional[str] = None,
        mode: Mode = "rest",
        bulk: Optional[BulkOptions] = None,
    ) -> AsyncExport:
        """``async for`` over the records of an export (see :meth:`sfcrm.Client.export`).

        ``progress`` is called in a worker thread after each batch.
        """
        native = self._client.export(
            account_id,
            owner,
            type,
            _fields(fields),
            since,
            checkpoint,
            progress,
            lossless,
            include_deleted=include_deleted,
            batch_size=batch_size,
            where=where,
            params=params,
            watermark=watermark,
            mode=mode,
            bulk=bulk,
        )
        return AsyncExport(native, self._run)

    async def export_to_csv(
        self, account_id: str, owner: str, type: str, path: Union[str, "os.PathLike[str]"], **kwargs: Any
    ) -> ExportSummary:
        """See :meth:`sfcrm.Client.export_to_csv`."""
        return await self._run(self._client.export_to_csv, account_id, owner, type, path, **kwargs)

    async def export_to_ndjson(
        self, account_id: str, owner: str, type: str, path: Union[str, "os.PathLike[str]"], **kwargs: Any
    ) -> ExportSummary:
        """See :meth:`sfcrm.Client.export_to_ndjson`."""
        return await self._run(self._client.export_to_ndjson, account_id, owner, type, path, **kwargs)

    def query(
        self,
        account_id: str,
        owner: str,
        soql: str,
        params: Optional[Params] = None,
        *,
        all_rows: bool = False,
        batch_size: Optional[int] = None,
        checkpoint: Optional[str] = None,
        children: str = "complete",
        progress: Optional[Callable[[Progress], object]] = None,
        lossless: bool = False,
        mode: Mode = "rest",
        bulk: Optional[BulkOptions] = None,
    ) -> AsyncExport:
        """``async for`` over the records of a SOQL query (see :meth:`sfcrm.Client.query`).

        Python values that cannot be bound raise ``InvalidArgumentError`` at once; nothing is
        requested until the first record is awaited. ``progress`` runs in a worker thread.
        """
        native = self._client.query(
            account_id,
            owner,
            soql,
            params,
            all_rows=all_rows,
            batch_size=batch_size,
            checkpoint=checkpoint,
            children=children,
            progress=progress,
            lossless=lossless,
            mode=mode,
            bulk=bulk,
        )
        return AsyncExport(native, self._run)

    async def query_one(
        self, account_id: str, owner: str, soql: str, params: Optional[Params] = None, *, lossless: bool = False
    ) -> Optional[dict[str, Any]]:
        """See :meth:`sfcrm.Client.query_one`."""
        return await self._run(self._client.query_one, account_id, owner, soql, params, lossless=lossless)

    async def query_to_csv(
        self, account_id: str, owner: str, soql: str, path: Union[str, "os.PathLike[str]"], **kwargs: Any
    ) -> ExportSummary:
        """See :meth:`sfcrm.Client.query_to_csv`."""
        return await self._run(self._client.query_to_csv, account_id, owner, soql, path, **kwargs)

    async def query_to_ndjson(
        self, account_id: str, owner: str, soql: str, path: Union[str, "os.PathLike[str]"], **kwargs: Any
    ) -> ExportSummary:
        """See :meth:`sfcrm.Client.query_to_ndjson`."""
        return await self._run(self._client.query_to_ndjson, account_id, owner, soql, path, **kwargs)

    async def describe(self, account_id: str, owner: str, sobject: str) -> dict[str, Any]:
        """See :meth:`sfcrm.Client.describe`."""
        return await self._run(self._client.describe, account_id, owner, sobject)

    async def describe_global(self, account_id: str, owner: str) -> dict[str, Any]:
        """See :meth:`sfcrm.Client.describe_global`."""
        return await self._run(self._client.describe_global, account_id, owner)

    def clear_describe_cache(self) -> None:
        """Forgets every cached describe result (no I/O)."""
        self._client.clear_describe_cache()

    def api_usage(self) -> Optional[ApiUsage]:
        """The last ``Sforce-Limit-Info`` usage seen (no I/O)."""
        return self._client.api_usage()

    def api_calls(self) -> ApiCalls:
        """Request counters since the client was created (no I/O)."""
        return self._client.api_calls()


__all__ = ["AsyncClient", "AsyncExport"]
