declare namespace _exports {
    export { ConnectionKey, ExportType, Pagination, SalesforceRecord, SeedExportBody, BindParams, FilterOptions, ExportOptions, BulkOptions, QueryOptions, CallbackKey, CallbackResult, TokenStore, ConfigOptions };
}
declare namespace _exports {
    export { Client };
    export { Config };
    export { MemoryStore };
    export { FileStore };
    export { SealedStore };
    export { ExportIterator };
    export { paginator };
    export { soql };
    export let SoqlValue: typeof import("./soql").SoqlValue;
    export let version: string;
    export let errorKinds: [string, number, string][];
    export let convertError: typeof errors.convertError;
    export let SfcrmError: typeof errors.SfcrmError;
    export let InvalidArgumentError: typeof errors.InvalidArgumentError;
    export let ConfigError: typeof errors.ConfigError;
    export let MissingForwardUrl: typeof errors.MissingForwardUrl;
    export let ForwardUrlNotAllowed: typeof errors.ForwardUrlNotAllowed;
    export let UnknownExportType: typeof errors.UnknownExportType;
    export let InvalidIdentifier: typeof errors.InvalidIdentifier;
    export let InvalidState: typeof errors.InvalidState;
    export let NotConnected: typeof errors.NotConnected;
    export let OAuthError: typeof errors.OAuthError;
    export let ReconnectRequired: typeof errors.ReconnectRequired;
    export let SessionExpired: typeof errors.SessionExpired;
    export let RateLimited: typeof errors.RateLimited;
    export let ApiError: typeof errors.ApiError;
    export let ProtocolError: typeof errors.ProtocolError;
    export let NetworkError: typeof errors.NetworkError;
    export let RequestTimeout: typeof errors.RequestTimeout;
    export let StoreError: typeof errors.StoreError;
    export let StoreConflict: typeof errors.StoreConflict;
    export let ExportWriteError: typeof errors.ExportWriteError;
    export let Cancelled: typeof errors.Cancelled;
    export let InternalError: typeof errors.InternalError;
    export { MissingForwardUrlError };
    export { ForwardUrlNotAllowedError };
    export { UnknownExportTypeError };
    export { InvalidIdentifierError };
    export { InvalidStateError };
    export { NotConnectedError };
    export { ReconnectRequiredError };
    export { SessionExpiredError };
    export { RateLimitedError };
    export { TimeoutError };
    export { StoreConflictError };
    export { IoError };
    export { CancelledError };
}
export = _exports;
/**
 * A connection: the seed's (`account_id`, `owner` = the platform user id).
 */
type ConnectionKey = {
    account_id: string;
    owner: string;
} | {
    accountId: string;
    owner: string;
};
/**
 * What to export: a built-in type, or any sObject with validated field names (`'*'`: every field).
 */
type ExportType = "contacts" | "deals" | "notes" | string | {
    sobject: string;
    fields: string[] | "*";
};
/**
 * The seed's pagination object (key order as the seed's).
 */
type Pagination = {
    page: number;
    per_page: number;
    total: number;
    total_pages: number;
    next_page: number | null;
    prev_page: number | null;
    offsetValue: number;
};
/**
 * A record as Salesforce returns it (`attributes` included).
 */
type SalesforceRecord = Record<string, any>;
/**
 * The seed's export body.
 */
type SeedExportBody = {
    success: true;
    message: "SUCCESS";
    data: SalesforceRecord[];
    pagination: Pagination;
};
/**
 * SOQL bind values for `:name` placeholders (see `soql`): strings, numbers, bigints, booleans,
 * null, Dates, arrays (for `IN`) and `soql.date()` / `soql.decimal()` / ... values.
 */
type BindParams = Record<string, unknown> | Map<string, unknown>;
/**
 * A filter on an export: one SOQL condition with `:name` placeholders bound from `params`.
 */
type FilterOptions = {
    where?: string;
    params?: BindParams;
};
/**
 * Options of a streaming export.
 */
type ExportOptions = {
    since?: string | Date;
    watermark?: string;
    checkpoint?: string;
    includeDeleted?: boolean;
    batchSize?: number;
    lossless?: boolean;
    where?: string;
    params?: BindParams;
    mode?: "rest" | "bulk";
    bulk?: BulkOptions;
};
/**
 * Options of a Bulk API 2.0 job (`mode: 'bulk'`), every one optional: `maxRecords` (rows per
 * result page, `maxRecords`; default 50,000), `concurrency` (result pages downloaded at once,
 * default 4; up to this many held in memory), `deleteJob` (delete the job after its last page,
 * default true), `fallbackToRest` (read with REST when Bulk refuses the query or the job fails,
 * default true: `fallbackReason()` says why; false rejects instead), `pollTimeoutMs` (how long to
 * wait for the job; default: as long as it runs).
 */
type BulkOptions = {
    maxRecords?: number;
    concurrency?: number;
    deleteJob?: boolean;
    fallbackToRest?: boolean;
    pollTimeoutMs?: number;
};
/**
 * Options of a query: `params` (bind values), `allRows` (queryAll: deleted and archived rows
 * too), `batchSize` (200..2000), `checkpoint` (a token from `checkpoint()` of the same query, to
 * resume after), `children` (`'complete'`, the default: every parent arrives with all its
 * children, the rest of each child cursor fetched; `'asSent'`: nested cursors left as Salesforce
 * sent them), `lossless` (numbers as exact decimal strings), `mode` and `bulk` (as for an export;
 * a child subquery makes Bulk refuse and REST reads it).
 */
type QueryOptions = {
    params?: BindParams;
    allRows?: boolean;
    batchSize?: number;
    checkpoint?: string;
    children?: "complete" | "asSent";
    lossless?: boolean;
    mode?: "rest" | "bulk";
    bulk?: BulkOptions;
};
/**
 * The connection a callback completed, spelled as every input spells it.
 */
type CallbackKey = {
    /**
     * the seed's `account_id`
     */
    account_id: string;
    /**
     * the seed's `owner` (platform user id)
     */
    owner: string;
    /**
     * deprecated: use `account_id` (the spelling before issue 16)
     */
    accountId: string;
};
/**
 * What `callback` resolves: where to redirect the browser, and how the flow ended.
 */
type CallbackResult = {
    /**
     * where to send the browser (302)
     */
    url: string;
    outcome: "success" | "error";
    /**
     * why it failed (`outcome === 'error'`), as in the redirect's `reason=`
     */
    reason: string | null;
    /**
     * the connection the state belonged to
     */
    key: CallbackKey | null;
};
type TokenStore = import("./store").TokenStore;
type ConfigOptions = import("../index.js").ConfigOptions;
/** The SDK client: one per connected app; cheap to share across requests. */
declare class Client {
    /**
     * @param {Config | ConfigOptions} config a {@link Config} or its options
     * @param {TokenStore} store a token store (see `./store`): MemoryStore, FileStore or your own
     * @param {{ storeTimeoutMs?: number }} [options] `storeTimeoutMs` bounds each call to a
     *   JavaScript store (default 30000)
     */
    constructor(config: Config | ConfigOptions, store: TokenStore, options?: {
        storeTimeoutMs?: number;
    });
    /** @private */
    private _native;
    /** The configuration in use. */
    config: Config;
    /**
     * Starts a connection: resolves `{ url, alreadyConnected }`. `url` is Salesforce's authorize URL
     * (PKCE S256, signed state), or `forwardUrl?status=success&integration=salesforce` when the
     * connection already exists. Rejects `MissingForwardUrl` / `ForwardUrlNotAllowed`.
     * @param {ConnectionKey} key
     * @param {string} forwardUrl
     */
    login(key: ConnectionKey, forwardUrl: string): Promise<native.LoginResult>;
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
    callback(query: {
        code?: string;
        state?: string;
        error?: string;
        error_description?: string;
    }): Promise<CallbackResult>;
    /**
     * Revokes the tokens at Salesforce and deletes the stored connection: resolves
     * `{ revoked, revokeError }`. Rejects `NotConnected` when there is none.
     * @param {ConnectionKey} key
     */
    disconnect(key: ConnectionKey): Promise<native.DisconnectResult>;
    /**
     * Refreshes the access token now (single flight): resolves the connection info (no secrets).
     * Rejects `ReconnectRequired` when the refresh token is dead.
     * @param {ConnectionKey} key
     */
    refresh(key: ConnectionKey): Promise<native.ConnectionInfoObject>;
    /**
     * The stored connection's info (no secrets), or null.
     * @param {ConnectionKey} key
     */
    connectionInfo(key: ConnectionKey): Promise<native.ConnectionInfoObject>;
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
    exportPage(key: ConnectionKey, type: ExportType, options?: {
        page?: number | string;
        limit?: number | string;
        lossless?: boolean;
    } & FilterOptions): Promise<SeedExportBody>;
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
    export(key: ConnectionKey, type: ExportType, options?: ExportOptions): ExportIterator;
    /**
     * Streams an export into a file (`format`: 'csv' | 'ndjson' | 'json'); resolves the summary
     * `{ records, apiCalls, checkpoint, path, watermark, missing }`. Options as {@link Client#export}.
     * @param {ConnectionKey} key
     * @param {ExportType} type
     * @param {string} path
     * @param {ExportOptions & { format?: 'csv' | 'ndjson' | 'json' }} [options]
     */
    exportToFile(key: ConnectionKey, type: ExportType, path: string, options?: ExportOptions & {
        format?: "csv" | "ndjson" | "json";
    }): Promise<native.ExportFileSummary>;
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
    query(key: ConnectionKey, soqlText: string, options?: QueryOptions): ExportIterator;
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
    queryOne(key: ConnectionKey, soqlText: string, options?: {
        params?: BindParams;
        lossless?: boolean;
    }): Promise<SalesforceRecord | null>;
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
    queryToFile(key: ConnectionKey, soqlText: string, path: string, options?: QueryOptions & {
        format?: "csv" | "ndjson" | "json";
    }): Promise<native.ExportFileSummary>;
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
    describe(key: ConnectionKey, sobject: string): Promise<Record<string, any>>;
    /**
     * Every sObject of the org: Salesforce's `/sobjects` body, parsed (`sobjects[]` with `name`,
     * `label`, `custom`, `queryable`, ...). Cached as {@link Client#describe}.
     * @param {ConnectionKey} key
     * @returns {Promise<Record<string, any>>}
     */
    describeGlobal(key: ConnectionKey): Promise<Record<string, any>>;
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
    apiGet(key: ConnectionKey, path: string, options?: {
        lossless?: boolean;
    }): Promise<any>;
    /** The last `Sforce-Limit-Info` seen: `{ used, limit }`, or null. */
    apiUsage(): native.ApiUsageObject;
    /** Counters of the HTTP calls this client made (API, token endpoint, revoke, retries). */
    apiCalls(): native.ApiCallsObject;
}
declare class Config {
    /**
     * Loads the seed's `SALESFORCE_*` and the SDK's `SFCRM_*` environment variables (from `env`
     * when given, else from `process.env`). Throws `ConfigError` naming the variable.
     * @param {Record<string, string | undefined>} [env]
     */
    static fromEnv(env?: Record<string, string | undefined>): Config;
    /**
     * @param {ConfigOptions | import('../index.js').NativeConfig} options clientId, clientSecret,
     *   redirectUri, stateSecret, forwardOrigins, and optional tuning (see `ConfigOptions`)
     */
    constructor(options: ConfigOptions | import("../index.js").NativeConfig);
    /** @private */
    private _native;
    get loginUrl(): string;
    get redirectUri(): string;
    get clientId(): string;
}
import { MemoryStore } from "./store";
import { FileStore } from "./store";
import { SealedStore } from "./store";
import { ExportIterator } from "./iterator";
/**
 * The seed's pagination object for `items` records, page `page`, `perPage` per page (omitted:
 * all), exactly as the seed computes it for every valid input; zero records give `total_pages: 0`
 * and pages below 1 count as 1 (seed defect D14).
 * @param {number} items
 * @param {number | string | null} [page]
 * @param {number | string | null} [perPage]
 * @returns {Pagination}
 */
declare function paginator(items: number, page?: number | string | null, perPage?: number | string | null): Pagination;
import soql = require("./soql");
import errors = require("./errors");
/** @deprecated Use `MissingForwardUrl` (the name every binding uses): the same class. */
declare const MissingForwardUrlError: typeof errors.MissingForwardUrl;
/** @deprecated Use `ForwardUrlNotAllowed` (the name every binding uses): the same class. */
declare const ForwardUrlNotAllowedError: typeof errors.ForwardUrlNotAllowed;
/** @deprecated Use `UnknownExportType` (the name every binding uses): the same class. */
declare const UnknownExportTypeError: typeof errors.UnknownExportType;
/** @deprecated Use `InvalidIdentifier` (the name every binding uses): the same class. */
declare const InvalidIdentifierError: typeof errors.InvalidIdentifier;
/** @deprecated Use `InvalidState` (the name every binding uses): the same class. */
declare const InvalidStateError: typeof errors.InvalidState;
/** @deprecated Use `NotConnected` (the name every binding uses): the same class. */
declare const NotConnectedError: typeof errors.NotConnected;
/** @deprecated Use `ReconnectRequired` (the name every binding uses): the same class. */
declare const ReconnectRequiredError: typeof errors.ReconnectRequired;
/** @deprecated Use `SessionExpired` (the name every binding uses): the same class. */
declare const SessionExpiredError: typeof errors.SessionExpired;
/** @deprecated Use `RateLimited` (the name every binding uses): the same class. */
declare const RateLimitedError: typeof errors.RateLimited;
/** @deprecated Use `RequestTimeout` (the name every binding uses): the same class. */
declare const TimeoutError: typeof errors.RequestTimeout;
/** @deprecated Use `StoreConflict` (the name every binding uses): the same class. */
declare const StoreConflictError: typeof errors.StoreConflict;
/** @deprecated Use `ExportWriteError` (the name every binding uses): the same class. */
declare const IoError: typeof errors.ExportWriteError;
/** @deprecated Use `Cancelled` (the name every binding uses): the same class. */
declare const CancelledError: typeof errors.Cancelled;
import native = require("../index.js");
