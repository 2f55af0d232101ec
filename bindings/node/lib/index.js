'use strict';
/**
 * sfcrm: connect a user's Salesforce org over OAuth 2.0 and export its CRM data.
 *
 * The work is done by the Rust core (`sfcrm-core`) through a native addon; this module is the
 * JavaScript face of it: every network or store operation returns a Promise, failures reject with
 * {@link SfcrmError} subclasses, streaming exports are async iterables.
 *
 * ```js
 * const { Client, Config, MemoryStore } = require('sfcrm');
 * const client = new Client(Config.fromEnv(), new MemoryStore());
 * const { url } = await client.login({ account_id: 'acc', owner: 'user' }, 'https://app.example.com/done');
 * // ... the user consents; Salesforce calls back:
 * const r = await client.callback(req.query);          // r.url: where to send the browser
 * const page = await client.exportPage(key, 'contacts', { page: 1, limit: 100 }); // the seed's body
 * for await (const record of client.export(key, 'deals')) { ... }
 * ```
 *
 * Connection keys are `{ account_id, owner }` (the seed's ids; `accountId` is accepted too).
 * Export types are `'contacts'`, `'deals'`, `'notes'` or `{ sobject, fields }` for any sObject.
 * Numbers in records are JavaScript numbers, as `JSON.parse` of Salesforce's response gives them;
 * with `lossless: true` every number is kept as its exact decimal string instead.
 */
const native = require('../index.js');
const errors = require('./errors');
const { MemoryStore, FileStore, SealedStore, toNativeStore, keyParts } = require('./store');
const soql = require('./soql');
const { ExportIterator } = require('./iterator');
const { exportSpec, queryOptions, bulkOptions, soqlArg, intOption, pageOrLimit, callbackKey } = require('./options');

const { call, callSync } = errors;

/**
 * A connection: the seed's (`account_id`, `owner` = the platform user id).
 * @typedef {{ account_id: string, owner: string } | { accountId: string, owner: string }} ConnectionKey
 */
/**
 * What to export: a built-in type, or any sObject with validated field names (`'*'`: every field).
 * @typedef {'contacts' | 'deals' | 'notes' | string | { sobject: string, fields: string[] | '*' }} ExportType
 */
/**
 * The seed's pagination object (key order as the seed's).
 * @typedef {{ page: number, per_page: number, total: number, total_pages: number,
 *   next_page: number | null, prev_page: number | null, offsetValue: number }} Pagination
 */
/** A record as Salesforce returns it (`attributes` included). @typedef {Record<string, any>} SalesforceRecord */
/**
 * The seed's export body.
 * @typedef {{ success: true, message: 'SUCCESS', data: SalesforceRecord[], pagination: Pagination }} SeedExportBody
 */
/**
 * SOQL bind values for `:name` placeholders (see `soql`): strings, numbers, bigints, booleans,
 * null, Dates, arrays (for `IN`) and `soql.date()` / `soql.decimal()` / ... values.
 * @typedef {Record<string, unknown> | Map<string, unknown>} BindParams
 */
/**
 * A filter on an export: one SOQL condition with `:name` placeholders bound from `params`.
 * @typedef {{ where?: string, params?: BindParams }} FilterOptions
 */
/**
 * Options of a streaming export.
 * @typedef {{ since?: string | Date, watermark?: string, checkpoint?: string, includeDeleted?: boolean,
 *   batchSize?: number, lossless?: boolean, where?: string, params?: BindParams,
 *   mode?: 'rest' | 'bulk', bulk?: BulkOptions }} ExportOptions
 */
/**
 * Options of a Bulk API 2.0 job (`mode: 'bulk'`), every one optional: `maxRecords` (rows per
 * result page, `maxRecords`; default 50,000), `concurrency` (result pages downloaded at once,
 * default 4; up to this many held in memory), `deleteJob` (delete the job after its last page,
 * default true), `fallbackToRest` (read with REST when Bulk refuses the query or the job fails,
 * default true: `fallbackReason()` says why; false rejects instead), `pollTimeoutMs` (how long to
 * wait for the job; default: as long as it runs).
 * @typedef {{ maxRecords?: number, concurrency?: number, deleteJob?: boolean, fallbackToRest?: boolean,
 *   pollTimeoutMs?: number }} BulkOptions
 */
/**
 * Options of a query: `params` (bind values), `allRows` (queryAll: deleted and archived rows
 * too), `batchSize` (200..2000), `checkpoint` (a token from `checkpoint()` of the same query, to
 * resume after), `children` (`'complete'`, the default: every parent arrives with all its
 * children, the rest of each child cursor fetched; `'asSent'`: nested cursors left as Salesforce
 * sent them), `lossless` (numbers as exact decimal strings), `mode` and `bulk` (as for an export;
 * a child subquery makes Bulk refuse and REST reads it).
 * @typedef {{ params?: BindParams, allRows?: boolean, batchSize?: number, checkpoint?: string,
 *   children?: 'complete' | 'asSent', lossless?: boolean, mode?: 'rest' | 'bulk', bulk?: BulkOptions }} QueryOptions
 */
/**
 * The connection a callback completed, spelled as every input spells it.
 * @typedef {Object} CallbackKey
 * @property {string} account_id the seed's `account_id`
 * @property {string} owner the seed's `owner` (platform user id)
 * @property {string} accountId deprecated: use `account_id` (the spelling before issue 16)
 */
/**
 * What `callback` resolves: where to redirect the browser, and how the flow ended.
 * @typedef {Object} CallbackResult
 * @property {string} url where to send the browser (302)
 * @property {'success' | 'error'} outcome
 * @property {string | null} reason why it failed (`outcome === 'error'`), as in the redirect's `reason=`
 * @property {CallbackKey | null} key the connection the state belonged to
 */
/** @typedef {import('./store').TokenStore} TokenStore */
/** @typedef {import('../index.js').ConfigOptions} ConfigOptions */

/** A validated configuration. */
/**
 * The `since` option as the core reads it: a `Date` becomes its ISO-8601 text (UTC, ms); text is
 * passed on. An invalid Date is a TypeError (an `InvalidArgumentError` from the client).
 * @param {string | Date | undefined | null} since
 * @returns {string | undefined}
 */
function sinceOption(since) {
  if (since == null) return undefined;
  if (since instanceof Date) {
    if (Number.isNaN(since.getTime())) throw new TypeError('since is an invalid Date');
    return since.toISOString();
  }
  return since;
}

class Config {
  /**
   * @param {ConfigOptions | import('../index.js').NativeConfig} options clientId, clientSecret,
   *   redirectUri, stateSecret, forwardOrigins, and optional tuning (see `ConfigOptions`)
   */
  constructor(options) {
    /** @private */
    this._native = undefined;
    if (options instanceof native.NativeConfig) {
      this._native = options;
    } else {
      this._native = callSync(() => new native.NativeConfig(options ?? {}));
    }
  }
  /**
   * Loads the seed's `SALESFORCE_*` and the SDK's `SFCRM_*` environment variables (from `env`
   * when given, else from `process.env`). Throws `ConfigError` naming the variable.
   * @param {Record<string, string | undefined>} [env]
   */
  static fromEnv(env) {
    let map;
    if (env) {
      map = {};
      for (const [k, v] of Object.entries(env)) if (typeof v === 'string') map[k] = v;
    }
    return new Config(callSync(() => native.NativeConfig.fromEnv(map)));
  }
  get loginUrl() {
    return this._native.loginUrl;
  }
  get redirectUri() {
    return this._native.redirectUri;
  }
  get clientId() {
    return this._native.clientId;
  }
}

/** The SDK client: one per connected app; cheap to share across requests. */
class Client {
  /**
   * @param {Config | ConfigOptions} config a {@link Config} or its options
   * @param {TokenStore} store a token store (see `./store`): MemoryStore, FileStore or your own
   * @param {{ storeTimeoutMs?: number }} [options] `storeTimeoutMs` bounds each call to a
   *   JavaScript store (default 30000)
   */
  constructor(config, store, options = {}) {
    const cfg = config instanceof Config ? config : new Config(config);
    const handle = callSync(() => toNativeStore(store, options));
    /** @private */
    this._native = callSync(() => new native.NativeClient(cfg._native, handle));
    /** The configuration in use. */
    this.config = cfg;
  }

  /**
   * Starts a connection: resolves `{ url, alreadyConnected }`. `url` is Salesforce's authorize URL
   * (PKCE S256, signed state), or `forwardUrl?status=success&integration=salesforce` when the
   * connection already exists. Rejects `MissingForwardUrl` / `ForwardUrlNotAllowed`.
   * @param {ConnectionKey} key
   * @param {string} forwardUrl
   */
  login(key, forwardUrl) {
    return call(() => {
      const [a, o] = keyParts(key);
      return this._native.login(a, o, forwardUrl ?? null);
    });
  }

  /**
   * Completes a connection from the callback's query (`code`, `state`, `error`,
   * `error_description`): resolves `{ url, outcome: 'success' | 'error', reason, key }` where `url`
   * is where to redirect the browser. `key` is the connection the state belonged to, spelled as
   * every input spells it: `{ account_id, owner }` (it also answers to `accountId`, the spelling
   * before issue 16: a deprecated, non-enumerable alias). Rejects `InvalidState` when the state
   * does not verify.
   * @param {{code?: string, state?: string, error?: string, error_description?: string}} query
   * @returns {Promise<CallbackResult>}
   */
  async callback(query) {
    const r = await call(() => {
      const q = query ?? {};
      const str = (v) => (typeof v === 'string' ? v : undefined);
      return this._native.callback({
        code: str(q.code),
        state: str(q.state),
        error: str(q.error),
        errorDescription: str(q.error_description ?? q.errorDescription),
      });
    });
    return { url: r.url, outcome: r.outcome, reason: r.reason ?? null, key: r.key ? callbackKey(r.key) : null };
  }

  /**
   * Revokes the tokens at Salesforce and deletes the stored connection: resolves
   * `{ revoked, revokeError }`. Rejects `NotConnected` when there is none.
   * @param {ConnectionKey} key
   */
  disconnect(key) {
    return call(() => {
      const [a, o] = keyParts(key);
      return this._native.disconnect(a, o);
    });
  }

  /**
   * Refreshes the access token now (single flight): resolves the connection info (no secrets).
   * Rejects `ReconnectRequired` when the refresh token is dead.
   * @param {ConnectionKey} key
   */
  refresh(key) {
    return call(() => {
      const [a, o] = keyParts(key);
      return this._native.refresh(a, o);
    });
  }

  /**
   * The stored connection's info (no secrets), or null.
   * @param {ConnectionKey} key
   */
  connectionInfo(key) {
    return call(() => {
      const [a, o] = keyParts(key);
      return this._native.connectionInfo(a, o);
    });
  }

  /**
   * One page in the seed's JSON body: `{ success: true, message: 'SUCCESS', data, pagination }`.
   * `page` defaults to 1 (values below 1 count as 1); without `limit` every record is returned.
   * Rejects `UnknownExportType` (no network call made), `NotConnected`, ...
   * @param {ConnectionKey} key
   * @param {ExportType} type
   * @param {{ page?: number | string, limit?: number | string, lossless?: boolean } & FilterOptions} [options]
   *   `page`/`limit`: numbers, or query-string text read with the seed's `parseInt` rules;
   *   `where`/`params`: a filter (see {@link Client#export})
   * @returns {Promise<SeedExportBody>}
   */
  async exportPage(key, type, options = {}) {
    const text = await call(() => {
      const [a, o] = keyParts(key);
      const page = pageOrLimit('page', options.page);
      const limit = pageOrLimit('limit', options.limit);
      return this._native.exportPage(a, o, exportSpec(type, options), page, limit, !!options.lossless);
    });
    return JSON.parse(text);
  }

  /**
   * A streaming export of every record (in `Id` order, following `nextRecordsUrl`), as an async
   * iterable. Options: `since` (a `Date` or ISO-8601 text: only records modified at or after it,
   * ordered by `SystemModstamp, Id`; the first run of an incremental sync), `watermark` (the
   * previous incremental run's `await it.watermark()` / `exportToFile(...).watermark`: reads from
   * it minus a 600 s lookback and skips what was delivered, so every change arrives exactly once,
   * also rows committed late; not with `since`; a checkpoint token is refused there),
   * `checkpoint` (a token from `checkpoint()` to resume this export after),
   * `includeDeleted`, `batchSize` (200..2000), `lossless`, `where` (one SOQL condition, e.g.
   * `"Industry = :industry AND CreatedDate = LAST_N_DAYS:30"`, checked by the core: balanced, no
   * clause keyword) with `params` (its bind values; see `soql`). `since` works with `where`.
   * `type` may be `{ sobject, fields: '*' }`: every field of the sObject, from describe (a compound
   * address or location is left out and its components kept, never both; a wide object is read in
   * several queries joined by Id when one SELECT would exceed Salesforce's URI length).
   * `mode: 'bulk'` reads with a Bulk API 2.0 query job instead (a few calls for millions of
   * records, result pages downloaded in parallel, records in no particular order; options in
   * `bulk`, see {@link BulkOptions}); a query Bulk refuses, a failed job or an incremental export
   * is read with REST and `await it.fallbackReason()` says why; `await it.progress()` adds the
   * job's `jobState` and `recordsProcessed`.
   * @param {ConnectionKey} key
   * @param {ExportType} type
   * @param {ExportOptions} [options]
   * @returns {ExportIterator}
   */
  export(key, type, options = {}) {
    const cursor = (async () => {
      const [a, o] = keyParts(key);
      return this._native.exportStream(a, o, {
        spec: exportSpec(type, options),
        since: sinceOption(options.since),
        watermark: options.watermark ?? undefined,
        resumeFrom: options.checkpoint ?? undefined,
        includeDeleted: !!options.includeDeleted,
        batchSize: intOption('batchSize', options.batchSize, { min: 1 }),
        ...bulkOptions(options),
      });
    })();
    cursor.catch(() => {}); // surfaced by the first next(); never an unhandled rejection
    return new ExportIterator(cursor, !!options.lossless, options.checkpoint);
  }

  /**
   * Streams an export into a file (`format`: 'csv' | 'ndjson' | 'json'); resolves the summary
   * `{ records, apiCalls, checkpoint, path, watermark, missing }`. Options as {@link Client#export}.
   * @param {ConnectionKey} key
   * @param {ExportType} type
   * @param {string} path
   * @param {ExportOptions & { format?: 'csv' | 'ndjson' | 'json' }} [options]
   */
  exportToFile(key, type, path, options = {}) {
    return call(() => {
      const [a, o] = keyParts(key);
      if (typeof path !== 'string' || path === '') throw new TypeError('exportToFile needs a file path');
      return this._native.exportToFile(
        a,
        o,
        {
          spec: exportSpec(type, options),
          since: sinceOption(options.since),
        watermark: options.watermark ?? undefined,
          resumeFrom: options.checkpoint ?? undefined,
          includeDeleted: !!options.includeDeleted,
          batchSize: intOption('batchSize', options.batchSize, { min: 1 }),
          ...bulkOptions(options),
        },
        path,
        options.format ?? 'csv',
      );
    });
  }

  /**
   * Runs a SOQL query: an async iterable of its records, following `nextRecordsUrl` to the end
   * with one batch in memory (the same iterator as {@link Client#export}: `checkpoint()`,
   * `progress()`, `cancel()`). `:name` placeholders are filled from `options.params` by the core
   * (escaped; a value can never change the query's structure). Rejects on the first `next()`:
   * `InvalidArgumentError` (a missing or unused bind name, before any request), `ApiError` with
   * Salesforce's `errorCode` (`MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_TYPE`, ...) and message.
   *
   * A checkpoint binds the query (the bound SOQL), so it resumes only the same query. A query
   * selecting `Id` without ORDER BY / LIMIT / OFFSET / GROUP BY / aggregates runs in Id order and
   * resumes anywhere, also after the session expired; others resume while Salesforce's query
   * locator lives (the error says what to change otherwise).
   * @param {ConnectionKey} key
   * @param {string} soqlText e.g. `SELECT Id, Name, (SELECT Id FROM Contacts) FROM Account WHERE Industry = :ind`
   * @param {QueryOptions} [options]
   * @returns {ExportIterator}
   */
  query(key, soqlText, options = {}) {
    const cursor = (async () => {
      const [a, o] = keyParts(key);
      return this._native.queryStream(a, o, soqlArg('query', soqlText), queryOptions(options));
    })();
    cursor.catch(() => {}); // surfaced by the first next(); never an unhandled rejection
    return new ExportIterator(cursor, !!options.lossless, options.checkpoint);
  }

  /**
   * The one record a SOQL query matches, or `null` when it matches none (core
   * `Client::query_one`); a query matching several is an `InvalidArgumentError` (add `LIMIT 1` or
   * narrow the WHERE: a lookup that matched several records is worth seeing). Options: `params`,
   * `lossless`. Errors as {@link Client#query}.
   * @param {ConnectionKey} key
   * @param {string} soqlText
   * @param {{ params?: BindParams, lossless?: boolean }} [options]
   * @returns {Promise<SalesforceRecord | null>}
   */
  async queryOne(key, soqlText, options = {}) {
    const text = await call(() => {
      const [a, o] = keyParts(key);
      const params = soql.paramsJson(options.params);
      return this._native.queryOne(a, o, soqlArg('queryOne', soqlText), params, !!options.lossless);
    });
    return text == null ? null : JSON.parse(text);
  }

  /**
   * Streams a SOQL query into a file (`format`: 'csv' | 'ndjson' | 'json'), written atomically
   * as exports are; resolves `{ records, apiCalls, checkpoint, path }`. Options as
   * {@link Client#query}. In CSV a compound or nested value (an address, a parent record) is
   * its JSON text in one cell.
   * @param {ConnectionKey} key
   * @param {string} soqlText
   * @param {string} path
   * @param {QueryOptions & { format?: 'csv' | 'ndjson' | 'json' }} [options]
   */
  queryToFile(key, soqlText, path, options = {}) {
    return call(() => {
      const [a, o] = keyParts(key);
      if (typeof path !== 'string' || path === '') throw new TypeError('queryToFile needs a file path');
      return this._native.queryToFile(a, o, soqlArg('queryToFile', soqlText), queryOptions(options), path, options.format ?? 'csv');
    });
  }

  /**
   * Describes an sObject: Salesforce's describe body, parsed (`name`, `label`, `fields[]` with
   * `name`, `type`, `label`, `nillable`, `length`, `precision`, `scale`, `relationshipName`,
   * `referenceTo`, `compoundFieldName`, ...; `childRelationships`, ...). Cached per client for
   * `describeCacheTtlMs`; each fetch is one API call. Rejects `InvalidIdentifier` for a name
   * that is not an sObject API name (no request), `ApiError` (`NOT_FOUND`) for an unknown one.
   * @param {ConnectionKey} key
   * @param {string} sobject e.g. `'Account'`, `'Invoice__c'`
   * @returns {Promise<Record<string, any>>}
   */
  async describe(key, sobject) {
    const text = await call(() => {
      const [a, o] = keyParts(key);
      if (typeof sobject !== 'string') throw new TypeError('describe needs an sObject name');
      return this._native.describe(a, o, sobject);
    });
    return JSON.parse(text);
  }

  /**
   * Every sObject of the org: Salesforce's `/sobjects` body, parsed (`sobjects[]` with `name`,
   * `label`, `custom`, `queryable`, ...). Cached as {@link Client#describe}.
   * @param {ConnectionKey} key
   * @returns {Promise<Record<string, any>>}
   */
  async describeGlobal(key) {
    const text = await call(() => {
      const [a, o] = keyParts(key);
      return this._native.describeGlobal(a, o);
    });
    return JSON.parse(text);
  }

  /**
   * Authenticated GET of any Salesforce JSON resource: `path` is relative to the connection's
   * `instance_url` (e.g. `/services/data/v48.0/query?q=SELECT+Id+FROM+Contact+LIMIT+3`, sent as
   * given, so percent-encode query values yourself: a literal `+` is `%2B`), or an absolute URL
   * on an allowed instance host (e.g. a record's `attributes.url` prefixed by the instance URL).
   * Resolves the parsed body (`null` for a 204 No Content); numbers are JavaScript numbers, or
   * with `lossless: true` their exact decimal text as strings. An expired session is refreshed
   * once and the request retried once (core `Client::api_get_json`).
   * Rejects `NotConnected`, `SessionExpired` (a second 401), `ApiError` with `status`,
   * Salesforce's `errorCode` and `rawBody` (e.g. 404 `NOT_FOUND`), `RateLimited`,
   * `InvalidArgumentError` (an empty path, a host outside the allow-list: no token is sent), ...
   * @param {ConnectionKey} key
   * @param {string} path
   * @param {{ lossless?: boolean }} [options]
   * @returns {Promise<any>}
   */
  async apiGet(key, path, options = {}) {
    const text = await call(() => {
      const [a, o] = keyParts(key);
      if (typeof path !== 'string') throw new TypeError('apiGet needs a path or URL string');
      return this._native.apiGet(a, o, path, !!(options && options.lossless));
    });
    return JSON.parse(text);
  }

  /** The last `Sforce-Limit-Info` seen: `{ used, limit }`, or null. */
  apiUsage() {
    return callSync(() => this._native.apiUsage());
  }

  /** Counters of the HTTP calls this client made (API, token endpoint, revoke, retries). */
  apiCalls() {
    return callSync(() => this._native.apiCalls());
  }
}

/**
 * The seed's pagination object for `items` records, page `page`, `perPage` per page (omitted:
 * all), exactly as the seed computes it for every valid input; zero records give `total_pages: 0`
 * and pages below 1 count as 1 (seed defect D14).
 * @param {number} items
 * @param {number | string | null} [page]
 * @param {number | string | null} [perPage]
 * @returns {Pagination}
 */
function paginator(items, page, perPage) {
  return JSON.parse(callSync(() => native.paginator(items, page ?? null, perPage ?? null)));
}

/** @deprecated Use `MissingForwardUrl` (the name every binding uses): the same class. */
const MissingForwardUrlError = errors.MissingForwardUrlError;
/** @deprecated Use `ForwardUrlNotAllowed` (the name every binding uses): the same class. */
const ForwardUrlNotAllowedError = errors.ForwardUrlNotAllowedError;
/** @deprecated Use `UnknownExportType` (the name every binding uses): the same class. */
const UnknownExportTypeError = errors.UnknownExportTypeError;
/** @deprecated Use `InvalidIdentifier` (the name every binding uses): the same class. */
const InvalidIdentifierError = errors.InvalidIdentifierError;
/** @deprecated Use `InvalidState` (the name every binding uses): the same class. */
const InvalidStateError = errors.InvalidStateError;
/** @deprecated Use `NotConnected` (the name every binding uses): the same class. */
const NotConnectedError = errors.NotConnectedError;
/** @deprecated Use `ReconnectRequired` (the name every binding uses): the same class. */
const ReconnectRequiredError = errors.ReconnectRequiredError;
/** @deprecated Use `SessionExpired` (the name every binding uses): the same class. */
const SessionExpiredError = errors.SessionExpiredError;
/** @deprecated Use `RateLimited` (the name every binding uses): the same class. */
const RateLimitedError = errors.RateLimitedError;
/** @deprecated Use `RequestTimeout` (the name every binding uses): the same class. */
const TimeoutError = errors.TimeoutError;
/** @deprecated Use `StoreConflict` (the name every binding uses): the same class. */
const StoreConflictError = errors.StoreConflictError;
/** @deprecated Use `ExportWriteError` (the name every binding uses): the same class. */
const IoError = errors.IoError;
/** @deprecated Use `Cancelled` (the name every binding uses): the same class. */
const CancelledError = errors.CancelledError;

module.exports = {
  Client,
  Config,
  MemoryStore,
  FileStore,
  SealedStore,
  ExportIterator,
  paginator,
  soql,
  SoqlValue: soql.SoqlValue,
  version: native.version(),
  errorKinds: native.errorKinds(),
  convertError: errors.convertError,
  SfcrmError: errors.SfcrmError,
  InvalidArgumentError: errors.InvalidArgumentError,
  ConfigError: errors.ConfigError,
  MissingForwardUrl: errors.MissingForwardUrl,
  ForwardUrlNotAllowed: errors.ForwardUrlNotAllowed,
  UnknownExportType: errors.UnknownExportType,
  InvalidIdentifier: errors.InvalidIdentifier,
  InvalidState: errors.InvalidState,
  NotConnected: errors.NotConnected,
  OAuthError: errors.OAuthError,
  ReconnectRequired: errors.ReconnectRequired,
  SessionExpired: errors.SessionExpired,
  RateLimited: errors.RateLimited,
  ApiError: errors.ApiError,
  ProtocolError: errors.ProtocolError,
  NetworkError: errors.NetworkError,
  RequestTimeout: errors.RequestTimeout,
  StoreError: errors.StoreError,
  StoreConflict: errors.StoreConflict,
  ExportWriteError: errors.ExportWriteError,
  Cancelled: errors.Cancelled,
  InternalError: errors.InternalError,
  // Deprecated aliases: the same classes under the names this package used before.
  MissingForwardUrlError,
  ForwardUrlNotAllowedError,
  UnknownExportTypeError,
  InvalidIdentifierError,
  InvalidStateError,
  NotConnectedError,
  ReconnectRequiredError,
  SessionExpiredError,
  RateLimitedError,
  TimeoutError,
  StoreConflictError,
  IoError,
  CancelledError,
};
