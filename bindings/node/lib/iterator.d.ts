export type SalesforceRecord = import("./index").SalesforceRecord;
/**
 * A streaming export or query: an async iterable of records with bounded memory (one batch, up to
 * 2000 records, is held at a time). `checkpoint()` returns a token after the last record the loop
 * received; pass it as `checkpoint` to the same `client.export` / `client.query` to resume after it.
 */
export class ExportIterator {
    /**
     * @param {Promise<import('../index.js').ExportCursor>} cursorPromise
     * @param {boolean} lossless
     * @param {string | undefined} resumeToken
     * @private
     */
    private constructor();
    /** @private */
    private _cursorPromise;
    /** @private */
    private _cursor;
    /** @private */
    private _lossless;
    /** @private */
    private _batch;
    /** @private */
    private _index;
    /** @private */
    private _done;
    /** @private */
    private _completed;
    /** @private */
    private _resumeToken;
    /** @private */
    private _started;
    /** @private */
    private _ensure;
    /**
     * The next record. While the current batch has records this is one array read and an already
     * resolved Promise (no async function frame per record); the native call is made once a batch.
     * @returns {Promise<IteratorResult<SalesforceRecord, undefined>>}
     */
    next(): Promise<IteratorResult<SalesforceRecord, undefined>>;
    /**
     * Fetches batches until one has a record (or the export ends) and hands out its first record.
     * @private
     * @returns {Promise<IteratorResult<SalesforceRecord, undefined>>}
     */
    private _nextBatch;
    /**
     * Stops the export (the loop's `break` calls this).
     * @returns {Promise<IteratorResult<SalesforceRecord, undefined>>}
     */
    return(): Promise<IteratorResult<SalesforceRecord, undefined>>;
    /**
     * A resume token for the position after the last record handed out (an opaque string).
     * @returns {Promise<string>}
     */
    checkpoint(): Promise<string>;
    /**
     * Incremental exports (`since` or `watermark`): once the iteration has ended, the token the
     * next run passes as `watermark` (every later change then arrives exactly once, also rows
     * committed late); null before the end and for full exports. Not `checkpoint()`, which resumes
     * this export if it stops.
     * @returns {Promise<string | null>}
     */
    watermark(): Promise<string | null>;
    /**
     * Progress so far: `{ records, totalSize, batches, missing }` (`totalSize` is Salesforce's
     * count, or null before the first batch; `missing`: records it announced that were deleted
     * during the export, 0 normally); with `mode: 'bulk'` also `jobState` (`'InProgress'`,
     * `'JobComplete'`, ...), `recordsProcessed` (the job's `numberRecordsProcessed`) and
     * `jobRetries`, absent for REST and after a fallback to REST.
     * @returns {Promise<import('../index.js').ExportProgress>}
     */
    progress(): Promise<import("../index.js").ExportProgress>;
    /**
     * `mode: 'bulk'`: why the records come from the REST query API instead of a Bulk API 2.0 job
     * (Salesforce's refusal with its `errorCode`, e.g. a child subquery's `FEATURENOTENABLED`; a
     * failed job's `errorMessage`; an incremental export); null while a job reads them, before that
     * is known, and for `mode: 'rest'`.
     * @returns {Promise<string | null>}
     */
    fallbackReason(): Promise<string | null>;
    /**
     * `mode: 'bulk'`: the Bulk API 2.0 job's id (`750…`) once created; null otherwise.
     * @returns {Promise<string | null>}
     */
    bulkJobId(): Promise<string | null>;
    /** Cancels the export; a pending `next()` rejects with `Cancelled`. */
    cancel(): void;
    /** @returns {AsyncIterator<SalesforceRecord, undefined>} */
    [Symbol.asyncIterator](): AsyncIterator<SalesforceRecord, undefined>;
}
