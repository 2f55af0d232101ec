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
export class MissingForwardUrl extends SfcrmError {
}
/** The forward URL is not http(s) or not in the allow-list (seed defect D11). */
export class ForwardUrlNotAllowed extends SfcrmError {
}
/** The export type is not contacts, deals or notes; no request was made (D13). */
export class UnknownExportType extends SfcrmError {
}
/** An sObject or field name fails Salesforce's identifier rules; nothing was sent. */
export class InvalidIdentifier extends SfcrmError {
}
/** The OAuth state is missing, tampered with or expired (the seed's "Invalid State"). */
export class InvalidState extends SfcrmError {
}
/** No stored connection for this key ("Access Token Not Found" / "Api Token Not Found"). */
export class NotConnected extends SfcrmError {
}
/** The token endpoint refused a request (`oauthError`, `oauthErrorDescription`). */
export class OAuthError extends SfcrmError {
}
/** The refresh token is dead (`invalid_grant`) or the connection is invalidated: log in again (D8). */
export class ReconnectRequired extends SfcrmError {
}
/** The access token was refused and could not be renewed. */
export class SessionExpired extends SfcrmError {
}
/** 403 REQUEST_LIMIT_EXCEEDED: the org's API quota; `apiUsage` carries Sforce-Limit-Info (D9). */
export class RateLimited extends SfcrmError {
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
export class RequestTimeout extends SfcrmError {
}
/** The token store failed: threw, rejected, timed out, or returned something malformed. */
export class StoreError extends SfcrmError {
}
/** Another process kept winning the compare-and-swap for longer than allowed. */
export class StoreConflict extends SfcrmError {
}
/** Writing an export failed. */
export class ExportWriteError extends SfcrmError {
}
/** The operation was cancelled by the caller. */
export class Cancelled extends SfcrmError {
}
/** A bug inside the SDK. */
export class InternalError extends SfcrmError {
}
/** @deprecated Use {@link MissingForwardUrl} (the name every binding uses). */
export const MissingForwardUrlError: typeof MissingForwardUrl;
/** @deprecated Use {@link ForwardUrlNotAllowed} (the name every binding uses). */
export const ForwardUrlNotAllowedError: typeof ForwardUrlNotAllowed;
/** @deprecated Use {@link UnknownExportType} (the name every binding uses). */
export const UnknownExportTypeError: typeof UnknownExportType;
/** @deprecated Use {@link InvalidIdentifier} (the name every binding uses). */
export const InvalidIdentifierError: typeof InvalidIdentifier;
/** @deprecated Use {@link InvalidState} (the name every binding uses). */
export const InvalidStateError: typeof InvalidState;
/** @deprecated Use {@link NotConnected} (the name every binding uses). */
export const NotConnectedError: typeof NotConnected;
/** @deprecated Use {@link ReconnectRequired} (the name every binding uses). */
export const ReconnectRequiredError: typeof ReconnectRequired;
/** @deprecated Use {@link SessionExpired} (the name every binding uses). */
export const SessionExpiredError: typeof SessionExpired;
/** @deprecated Use {@link RateLimited} (the name every binding uses). */
export const RateLimitedError: typeof RateLimited;
/** @deprecated Use {@link RequestTimeout} (the name every binding uses). */
export const TimeoutError: typeof RequestTimeout;
/** @deprecated Use {@link StoreConflict} (the name every binding uses). */
export const StoreConflictError: typeof StoreConflict;
/** @deprecated Use {@link ExportWriteError} (the name every binding uses). */
export const IoError: typeof ExportWriteError;
/** @deprecated Use {@link Cancelled} (the name every binding uses). */
export const CancelledError: typeof Cancelled;
/**
 * Kind name → class name, from the core's list (`errorKinds()` of the addon: `[kind, code,
 * className]`).
 * @type {Record<string, string>}
 */
export const CLASS_NAMES: Record<string, string>;
export namespace DEPRECATED_NAMES {
    let MissingForwardUrlError: string;
    let ForwardUrlNotAllowedError: string;
    let UnknownExportTypeError: string;
    let InvalidIdentifierError: string;
    let InvalidStateError: string;
    let NotConnectedError: string;
    let ReconnectRequiredError: string;
    let SessionExpiredError: string;
    let RateLimitedError: string;
    let TimeoutError: string;
    let StoreConflictError: string;
    let IoError: string;
    let CancelledError: string;
}
/**
 * The error class for a kind name, or undefined.
 * @param {string} kind
 * @returns {typeof SfcrmError | undefined}
 */
export function classForKind(kind: string): typeof SfcrmError | undefined;
/**
 * Turns an error rejected by the native addon into the matching {@link SfcrmError} subclass: the
 * addon builds its errors with a `sfcrmDetails` object (kind, status, errorCode, ...), read here
 * as is. Errors that did not come from the SDK's core (e.g. a napi argument conversion failure)
 * become `InvalidArgumentError` when they are argument errors, else are returned unchanged.
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
