'use strict';
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

const DETAILS_PREFIX = 'sfcrm-error-details:';

/** Base class of every error the SDK raises. */
class SfcrmError extends Error {
  /**
   * @param {string} message short human message
   * @param {{ kind?: string, kindCode?: number, status?: number | null, errorCode?: string | null,
   *   fields?: string[], oauthError?: string | null, oauthErrorDescription?: string | null,
   *   apiUsage?: { used: number, limit: number } | null, retryAfterMs?: number | null,
   *   rawBody?: string | null }} [details] structured details (see the module docs)
   */
  constructor(message, details = {}) {
    super(message);
    this.name = new.target.name;
    /** @type {string} the stable kind name, e.g. `reconnect_required` */
    this.code = details.kind ?? 'internal';
    /** @type {number} the stable numeric code shared with the C ABI */
    this.kindCode = details.kindCode ?? 900;
    /** @type {number | null} HTTP status */
    this.status = details.status ?? null;
    /** @type {string | null} Salesforce `errorCode` */
    this.errorCode = details.errorCode ?? null;
    /** @type {string[]} fields Salesforce named */
    this.fields = Array.isArray(details.fields) ? details.fields : [];
    /** @type {string | null} OAuth `error` */
    this.oauthError = details.oauthError ?? null;
    /** @type {string | null} OAuth `error_description` */
    this.oauthErrorDescription = details.oauthErrorDescription ?? null;
    /** @type {{ used: number, limit: number } | null} Sforce-Limit-Info */
    this.apiUsage = details.apiUsage ?? null;
    /** @type {number | null} Retry-After, ms */
    this.retryAfterMs = details.retryAfterMs ?? null;
    /** @type {string | null} raw response body (not enumerable) */
    this.rawBody = null;
    Object.defineProperty(this, 'rawBody', { value: details.rawBody ?? null, enumerable: false, writable: true });
  }
}

/** Kind name → class name (kinds come from the core's `ErrorKind::ALL`). */
const CLASS_NAMES = {
  invalid_argument: 'InvalidArgumentError',
  config: 'ConfigError',
  missing_forward_url: 'MissingForwardUrlError',
  forward_url_not_allowed: 'ForwardUrlNotAllowedError',
  unknown_export_type: 'UnknownExportTypeError',
  invalid_identifier: 'InvalidIdentifierError',
  invalid_state: 'InvalidStateError',
  not_connected: 'NotConnectedError',
  oauth: 'OAuthError',
  reconnect_required: 'ReconnectRequiredError',
  session_expired: 'SessionExpiredError',
  rate_limited: 'RateLimitedError',
  api: 'ApiError',
  protocol: 'ProtocolError',
  network: 'NetworkError',
  timeout: 'TimeoutError',
  store: 'StoreError',
  store_conflict: 'StoreConflictError',
  io: 'IoError',
  cancelled: 'CancelledError',
  internal: 'InternalError',
};

/** A caller argument is malformed (bad page, checkpoint, key, option). */
class InvalidArgumentError extends SfcrmError {}
/** Configuration is missing or malformed; the message names the option or variable. */
class ConfigError extends SfcrmError {}
/** `login` without a forward URL (the seed's "Please provide forward_url"). */
class MissingForwardUrlError extends SfcrmError {}
/** The forward URL is not http(s) or not in the allow-list (seed defect D11). */
class ForwardUrlNotAllowedError extends SfcrmError {}
/** The export type is not contacts, deals or notes; no request was made (D13). */
class UnknownExportTypeError extends SfcrmError {}
/** An sObject or field name fails Salesforce's identifier rules; nothing was sent. */
class InvalidIdentifierError extends SfcrmError {}
/** The OAuth state is missing, tampered with or expired (the seed's "Invalid State"). */
class InvalidStateError extends SfcrmError {}
/** No stored connection for this key ("Access Token Not Found" / "Api Token Not Found"). */
class NotConnectedError extends SfcrmError {}
/** The token endpoint refused a request (`oauthError`, `oauthErrorDescription`). */
class OAuthError extends SfcrmError {}
/** The refresh token is dead (`invalid_grant`) or the connection is invalidated: log in again (D8). */
class ReconnectRequiredError extends SfcrmError {}
/** The access token was refused and could not be renewed. */
class SessionExpiredError extends SfcrmError {}
/** 403 REQUEST_LIMIT_EXCEEDED: the org's API quota; `apiUsage` carries Sforce-Limit-Info (D9). */
class RateLimitedError extends SfcrmError {}
/** Salesforce answered with an error: `status`, `errorCode`, `fields`. */
class ApiError extends SfcrmError {}
/** A success response without the documented shape. */
class ProtocolError extends SfcrmError {}
/** Connection refused/reset, DNS, TLS or a truncated body, after the retries allowed. */
class NetworkError extends SfcrmError {}
/** A request did not complete in time, after the retries allowed. */
class TimeoutError extends SfcrmError {}
/** The token store failed: threw, rejected, timed out, or returned something malformed. */
class StoreError extends SfcrmError {}
/** Another process kept winning the compare-and-swap for longer than allowed. */
class StoreConflictError extends SfcrmError {}
/** Writing an export failed. */
class IoError extends SfcrmError {}
/** The operation was cancelled by the caller. */
class CancelledError extends SfcrmError {}
/** A bug inside the SDK. */
class InternalError extends SfcrmError {}

const classes = {
  SfcrmError,
  InvalidArgumentError,
  ConfigError,
  MissingForwardUrlError,
  ForwardUrlNotAllowedError,
  UnknownExportTypeError,
  InvalidIdentifierError,
  InvalidStateError,
  NotConnectedError,
  OAuthError,
  ReconnectRequiredError,
  SessionExpiredError,
  RateLimitedError,
  ApiError,
  ProtocolError,
  NetworkError,
  TimeoutError,
  StoreError,
  StoreConflictError,
  IoError,
  CancelledError,
  InternalError,
};
/** @type {Record<string, typeof SfcrmError>} */
const byKind = {};
for (const [kind, className] of Object.entries(CLASS_NAMES)) byKind[kind] = classes[className];

/**
 * The error class for a kind name, or undefined.
 * @param {string} kind
 */
function classForKind(kind) {
  return byKind[kind];
}

/**
 * Turns an error rejected by the native addon into the matching {@link SfcrmError} subclass.
 * Errors that did not come from the SDK's core (e.g. a napi argument conversion failure) become
 * `InvalidArgumentError` when they are argument errors, else are returned unchanged.
 * @param {unknown} err
 * @returns {unknown}
 */
function convertError(err) {
  if (err instanceof SfcrmError) return err;
  const cause = err && err.cause;
  if (cause && typeof cause.message === 'string' && cause.message.startsWith(DETAILS_PREFIX)) {
    let details;
    try {
      details = JSON.parse(cause.message.slice(DETAILS_PREFIX.length));
    } catch {
      details = { kind: 'internal' };
    }
    const cls = byKind[details.kind] || SfcrmError;
    const e = new cls(err.message, details);
    return e;
  }
  if (err && (err.code === 'InvalidArg' || err.code === 'NumberExpected' || err.code === 'StringExpected' || err.code === 'ObjectExpected')) {
    const e = new InvalidArgumentError(err.message, { kind: 'invalid_argument', kindCode: 100 });
    e.cause = err;
    return e;
  }
  return err;
}

/**
 * Calls `fn` and converts a thrown error or a rejection with {@link convertError}.
 * @template T
 * @param {() => T | Promise<T>} fn
 * @returns {Promise<Awaited<T>>}
 */
async function call(fn) {
  try {
    return await fn();
  } catch (err) {
    throw convertError(err);
  }
}

/**
 * Synchronous variant of {@link call}.
 * @template T
 * @param {() => T} fn
 * @returns {T}
 */
function callSync(fn) {
  try {
    return fn();
  } catch (err) {
    throw convertError(err);
  }
}

module.exports = {
  SfcrmError,
  InvalidArgumentError,
  ConfigError,
  MissingForwardUrlError,
  ForwardUrlNotAllowedError,
  UnknownExportTypeError,
  InvalidIdentifierError,
  InvalidStateError,
  NotConnectedError,
  OAuthError,
  ReconnectRequiredError,
  SessionExpiredError,
  RateLimitedError,
  ApiError,
  ProtocolError,
  NetworkError,
  TimeoutError,
  StoreError,
  StoreConflictError,
  IoError,
  CancelledError,
  InternalError,
  CLASS_NAMES,
  classForKind,
  convertError,
  call,
  callSync,
  DETAILS_PREFIX,
};
