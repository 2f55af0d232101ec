/** Base class of every error the SDK raises. */
export class SfcrmError extends Error {
    /**
     * @param {string} message short human message
     * @param {{ kind?: string, kindCode?: number, status?: number | null, errorCode?: string | null,
     *   fields?: string[], oauthError?: string | null, oauthErrorDescription?: string | null,
     *   apiUsage?: { used: number, limit: number } | null, retryAfterMs?: number | null,
     *   rawBody?: string | null }} [details] structured details (see the module docs)
     */
    constructor(message: string, details?: {
        kind?: string;
        kindCode?: number;
        status?: number | null;
        errorCode?: string | null;
        fields?: string[];
        oauthError?: string | null;
        oauthErrorDescription?: string | null;
        apiUsage?: {
            used: number;
            limit: number;
        } | null;
        retryAfterMs?: number | null;
        rawBody?: string | null;
    });
    /** @type {string} the stable kind name, e.g. `reconnect_required` */
    code: string;
    /** @type {number} the stable numeric code shared with the C ABI */
    kindCode: number;
    /** @type {number | null} HTTP status */
    status: number | null;
    /** @type {string | null} Salesforce `errorCode` */
    errorCode: string | null;
    /** @type {string[]} fields Salesforce named */
    fields: string[];
    /** @type {string | null} OAuth `error` */
    oauthError: string | null;
    /** @type {string | null} OAuth `error_description` */
    oauthErrorDescription: string | null;
    /** @type {{ used: number, limit: number } | null} Sforce-Limit-Info */
    apiUsage: {
        used: number;
        limit: number;
    } | null;
    /** @type {number | null} Retry-After, ms */
    retryAfterMs: number | null;
    /** @type {string | null} raw response body (not enumerable) */
    rawBody: string | null;
}
/** A caller argument is malformed (bad page, checkpoint, key, option). */
export class InvalidArgumentError extends SfcrmError {
}
/** Configuration is missing or malformed; the message names the option or variable. */
export class ConfigError extends SfcrmError {
}
/** `login` without a forward URL (the seed's "Please provide forward_url"). */
export class MissingForwardUrlError extends SfcrmError {
}
/** The forward URL is not http(s) or not in the allow-list (seed defect D11). */
export class ForwardUrlNotAllowedError extends SfcrmError {
}
/** The export type is not contacts, deals or notes; no request was made (D13). */
export class UnknownExportTypeError extends SfcrmError {
}
/** An sObject or field name fails Salesforce's identifier rules; nothing was sent. */
export class InvalidIdentifierError extends SfcrmError {
}
/** The OAuth state is missing, tampered with or expired (the seed's "Invalid State"). */
export class InvalidStateError extends SfcrmError {
}
/** No stored connection for this key ("Access Token Not Found" / "Api Token Not Found"). */
export class NotConnectedError extends SfcrmError {
}
/** The token endpoint refused a request (`oauthError`, `oauthErrorDescription`). */
export class OAuthError extends SfcrmError {
}
/** The refresh token is dead (`invalid_grant`) or the connection is invalidated: log in again (D8). */
export class ReconnectRequiredError extends SfcrmError {
}
/** The access token was refused and could not be renewed. */
export class SessionExpiredError extends SfcrmError {
}
/** 403 REQUEST_LIMIT_EXCEEDED: the org's API quota; `apiUsage` carries Sforce-Limit-Info (D9). */
export class RateLimitedError extends SfcrmError {
}
/** Salesforce answered with an error: `status`, `errorCode`, `fields`. */
export class ApiError extends SfcrmError {
}
/** A success response without the documented shape. */
export class ProtocolError extends SfcrmError {
}
/** Connection refused/reset, DNS, TLS or a truncated body, after the retries allowed. */
export class NetworkError extends SfcrmError {
}
/** A request did not complete in time, after the retries allowed. */
export class TimeoutError extends SfcrmError {
}
/** The token store failed: threw, rejected, timed out, or returned something malformed. */
export class StoreError extends SfcrmError {
}
/** Another process kept winning the compare-and-swap for longer than allowed. */
export class StoreConflictError extends SfcrmError {
}
/** Writing an export failed. */
export class IoError extends SfcrmError {
}
/** The operation was cancelled by the caller. */
export class CancelledError extends SfcrmError {
}
/** A bug inside the SDK. */
export class InternalError extends SfcrmError {
}
export namespace CLASS_NAMES {
    let invalid_argument: string;
    let config: string;
    let missing_forward_url: string;
    let forward_url_not_allowed: string;
    let unknown_export_type: string;
    let invalid_identifier: string;
    let invalid_state: string;
    let not_connected: string;
    let oauth: string;
    let reconnect_required: string;
    let session_expired: string;
    let rate_limited: string;
    let api: string;
    let protocol: string;
    let network: string;
    let timeout: string;
    let store: string;
    let store_conflict: string;
    let io: string;
    let cancelled: string;
    let internal: string;
}
/**
 * The error class for a kind name, or undefined.
 * @param {string} kind
 */
export function classForKind(kind: string): typeof SfcrmError;
/**
 * Turns an error rejected by the native addon into the matching {@link SfcrmError} subclass.
 * Errors that did not come from the SDK's core (e.g. a napi argument conversion failure) become
 * `InvalidArgumentError` when they are argument errors, else are returned unchanged.
 * @param {unknown} err
 * @returns {unknown}
 */
export function convertError(err: unknown): unknown;
/**
 * Calls `fn` and converts a thrown error or a rejection with {@link convertError}.
 * @template T
 * @param {() => T | Promise<T>} fn
 * @returns {Promise<Awaited<T>>}
 */
export function call<T>(fn: () => T | Promise<T>): Promise<Awaited<T>>;
/**
 * Synchronous variant of {@link call}.
 * @template T
 * @param {() => T} fn
 * @returns {T}
 */
export function callSync<T>(fn: () => T): T;
/**
 * Error classes of the `sfcrm` package.
 *
 * Every failure of the SDK rejects with an instance of {@link SfcrmError} (a subclass of `Error`)
 * whose class tells what happened, e.g. `ReconnectRequiredError` (send the user through login
 * again) or `RateLimitedError` (the org's API quota; `apiUsage` says how much is used). Each error
 * carries:
 * - `code`: the stable kind name (`"reconnect_required"`, `"rate_limited"`, ...),
 * - `kindCode`: the stable numeric code shared with the C ABI (e.g. 203),
 * - `status`: the HTTP status of the response that caused it, or `null`,
 * - `errorCode`: the Salesforce `errorCode` (e.g. `"INVALID_SESSION_ID"`), or `null`,
 * - `fields`: the fields Salesforce named (array, maybe empty),
 * - `oauthError` / `oauthErrorDescription`: the token endpoint's `error` / `error_description`,
 * - `apiUsage`: `{ used, limit }` from `Sforce-Limit-Info`, or `null`,
 * - `retryAfterMs`: the `Retry-After` delay in milliseconds, or `null`,
 * - `rawBody`: the raw response body (cut to 64 KiB), or `null`. Never a token.
 */
export const DETAILS_PREFIX: "sfcrm-error-details:";
