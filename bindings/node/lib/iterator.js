'use strict';
/**
 * The async iterator of streamed records, shared by `client.export` and `client.query` (both are
 * the core's `ExportStream` behind the addon's `ExportCursor`).
 */
const { call, callSync } = require('./errors');

/** @typedef {import('./index').SalesforceRecord} SalesforceRecord */

/** The batch of an iterator between batches. @type {SalesforceRecord[]} */
const EMPTY = [];

/**
 * A streaming export or query: an async iterable of records with bounded memory (one batch, up to
 * 2000 records, is held at a time). `checkpoint()` returns a token after the last record the loop
 * received; pass it as `checkpoint` to the same `client.export` / `client.query` to resume after it.
 */
class ExportIterator {
  /**
   * @param {Promise<import('../index.js').ExportCursor>} cursorPromise
   * @param {boolean} lossless
   * @param {string | undefined} resumeToken
   * @private
   */
  constructor(cursorPromise, lossless, resumeToken) {
    /** @private */
    this._cursorPromise = cursorPromise;
    /** @private */
    this._cursor = null;
    /** @private */
    this._lossless = lossless;
    /** @private */
    this._batch = EMPTY;
    /** @private */
    this._index = 0; // next record of _batch to hand out
    /** @private */
    this._done = false;
    /** @private */
    this._completed = false;
    /** @private */
    this._resumeToken = resumeToken ?? null;
    /** @private */
    this._started = false;
  }
  /** @private */
  async _ensure() {
    if (!this._cursor) this._cursor = await call(() => this._cursorPromise);
    return this._cursor;
  }
  /**
   * The next record. While the current batch has records this is one array read and an already
   * resolved Promise (no async function frame per record); the native call is made once a batch.
   * @returns {Promise<IteratorResult<SalesforceRecord, undefined>>}
   */
  next() {
    if (this._index < this._batch.length && !this._done) {
      const value = this._batch[this._index];
      this._index += 1;
      return Promise.resolve({ done: false, value });
    }
    return this._nextBatch();
  }
  /**
   * Fetches batches until one has a record (or the export ends) and hands out its first record.
   * @private
   * @returns {Promise<IteratorResult<SalesforceRecord, undefined>>}
   */
  async _nextBatch() {
    if (this._done) return { done: true, value: undefined };
    const cursor = await this._ensure();
    while (this._index >= this._batch.length) {
      // The handed-out batch is not kept while the next one is fetched (the GC may take it).
      this._batch = EMPTY;
      this._index = 0;
      const text = await call(() => cursor.nextBatch(this._lossless));
      this._started = true;
      if (text == null) {
        this._done = true;
        this._completed = true;
        return { done: true, value: undefined };
      }
      this._batch = JSON.parse(text);
    }
    const value = this._batch[this._index];
    this._index += 1;
    return { done: false, value };
  }
  /**
   * Stops the export (the loop's `break` calls this).
   * @returns {Promise<IteratorResult<SalesforceRecord, undefined>>}
   */
  async return() {
    this._done = true;
    if (this._cursor) this._cursor.cancel();
    return { done: true, value: undefined };
  }
  /** @returns {AsyncIterator<SalesforceRecord, undefined>} */
  [Symbol.asyncIterator]() {
    return this;
  }
  /**
   * A resume token for the position after the last record handed out (an opaque string).
   * @returns {Promise<string>}
   */
  async checkpoint() {
    const cursor = await this._ensure();
    if (!this._started && this._resumeToken) return this._resumeToken;
    if (this._index > 0 && this._index < this._batch.length) {
      return callSync(() => cursor.checkpointAt(this._index - 1));
    }
    return callSync(() => cursor.checkpoint());
  }
  /**
   * Incremental exports (`since` or `watermark`): once the iteration has ended, the token the
   * next run passes as `watermark` (every later change then arrives exactly once, also rows
   * committed late); null before the end and for full exports. Not `checkpoint()`, which resumes
   * this export if it stops.
   * @returns {Promise<string | null>}
   */
  async watermark() {
    const cursor = await this._ensure();
    if (!this._completed) return null;
    return callSync(() => cursor.watermark()) ?? null;
  }
  /**
   * Progress so far: `{ records, totalSize, batches, missing }` (`totalSize` is Salesforce's
   * count, or null before the first batch; `missing`: records it announced that were deleted
   * during the export, 0 normally); with `mode: 'bulk'` also `jobState` (`'InProgress'`,
   * `'JobComplete'`, ...), `recordsProcessed` (the job's `numberRecordsProcessed`) and
   * `jobRetries`, absent for REST and after a fallback to REST.
   * @returns {Promise<import('../index.js').ExportProgress>}
   */
  async progress() {
    const cursor = await this._ensure();
    return callSync(() => cursor.progress());
  }
  /**
   * `mode: 'bulk'`: why the records come from the REST query API instead of a Bulk API 2.0 job
   * (Salesforce's refusal with its `errorCode`, e.g. a child subquery's `FEATURENOTENABLED`; a
   * failed job's `errorMessage`; an incremental export); null while a job reads them, before that
   * is known, and for `mode: 'rest'`.
   * @returns {Promise<string | null>}
   */
  async fallbackReason() {
    const cursor = await this._ensure();
    return cursor.fallbackReason() ?? null;
  }
  /**
   * `mode: 'bulk'`: the Bulk API 2.0 job's id (`750…`) once created; null otherwise.
   * @returns {Promise<string | null>}
   */
  async bulkJobId() {
    const cursor = await this._ensure();
    return cursor.bulkJobId() ?? null;
  }
  /** Cancels the export; a pending `next()` rejects with `Cancelled`. */
  cancel() {
    this._done = true;
    if (this._cursor) this._cursor.cancel();
    else this._cursorPromise.then((c) => c.cancel(), () => {});
  }
}

module.exports = { ExportIterator };
