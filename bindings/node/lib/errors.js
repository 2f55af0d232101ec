'use strict';
/**
 * Error classes of the `sfcrm` package.
 *
 * Every failure of the SDK rejects with an instance of {@link SfcrmError} (a subclass of `Error`)
 * whose class tells what happened, e.g. `ReconnectRequired` (send the user through login again) or
 * `RateLimited` (the org's API quota; `apiUsage` says how much is used). There is one class per
 * core error kind, named as in every binding (the core's `ErrorKind::class_name`: Python raises
 * `sfcrm.ReconnectRequired` too). The names this package used
 * before (`ReconnectRequiredError`, `TimeoutError`, `IoError`, `CancelledError`, ...) stay as
 * deprecated aliases: the same class objects. Each error carries:
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
const native = require('../index.js');

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

/** A caller argument is malformed (bad page, checkpoint, key, option). */
class InvalidArgumentError extends SfcrmError {}
/** Configuration is missing or malformed; the message names the option or variable. */
class ConfigError extends SfcrmError {}
/** `login` without a forward URL (the seed's "Please provide forward_url"). */
class MissingForwardUrl extends SfcrmError {}
/** The forward URL is not http(s) or not in the allow-list (seed defect D11). */
class ForwardUrlNotAllowed extends SfcrmError {}
/** The export type is not contacts, deals or notes; no request was made (D13). */
class UnknownExportType extends SfcrmError {}
/** An sObject or field name fails Salesforce's identifier rules; nothing was sent. */
class InvalidIdentifier extends SfcrmError {}
/** The OAuth state is missing, tampered with or expired (the seed's "Invalid State"). */
class InvalidState extends SfcrmError {}
/** No stored connection for this key ("Access Token Not Found" / "Api Token Not Found"). */
class NotConnected extends SfcrmError {}
/** The token endpoint refused a request (`oauthError`, `oauthErrorDescription`). */
class OAuthError extends SfcrmError {}
/** The refresh token is dead (`invalid_grant`) or the connection is invalidated: log in again (D8). */
class ReconnectRequired extends SfcrmError {}
/** The access token was refused and could not be renewed. */
class SessionExpired extends SfcrmError {}
/** 403 REQUEST_LIMIT_EXCEEDED: the org's API quota; `apiUsage` carries Sforce-Limit-Info (D9). */
class RateLimited extends SfcrmError {}
/** Salesforce answered with an error: `status`, `errorCode`, `fields`. */
class ApiError extends SfcrmError {}
/** A success response without the documented shape. */
class ProtocolError extends SfcrmError {}
/** Connection refused/reset, DNS, TLS or a truncated body, after the retries allowed. */
class NetworkError extends SfcrmError {}
/** A request did not complete in time, after the retries allowed. */
class RequestTimeout extends SfcrmError {}
/** The token store failed: threw, rejected, timed out, or returned something malformed. */
class StoreError extends SfcrmError {}
/** Another process kept winning the compare-and-swap for longer than allowed. */
class StoreConflict extends SfcrmError {}
/** Writing an export failed. */
class ExportWriteError extends SfcrmError {}
/** The operation was cancelled by the caller. */
class Cancelled extends SfcrmError {}
/** A bug inside the SDK. */
class InternalError extends SfcrmError {}

/** @deprecated Use {@link MissingForwardUrl} (the name every binding uses). */
const MissingForwardUrlError = MissingForwardUrl;
/** @deprecated Use {@link ForwardUrlNotAllowed} (the name every binding uses). */
const ForwardUrlNotAllowedError = ForwardUrlNotAllowed;
/** @deprecated Use {@link UnknownExportType} (the name every binding uses). */
const UnknownExportTypeError = UnknownExportType;
/** @deprecated Use {@link InvalidIdentifier} (the name every binding uses). */
const InvalidIdentifierError = InvalidIdentifier;
/** @deprecated Use {@link InvalidState} (the name every binding uses). */
const InvalidStateError = InvalidState;
/** @deprecated Use {@link NotConnected} (the name every binding uses). */
const NotConnectedError = NotConnected;
/** @deprecated Use {@link ReconnectRequired} (the name every binding uses). */
const ReconnectRequiredError = ReconnectRequired;
/** @deprecated Use {@link SessionExpired} (the name every binding uses). */
const SessionExpiredError = SessionExpired;
/** @deprecated Use {@link RateLimited} (the name every binding uses). */
const RateLimitedError = RateLimited;
/** @deprecated Use {@link RequestTimeout} (the name every binding uses). */
const TimeoutError = RequestTimeout;
/** @deprecated Use {@link StoreConflict} (the name every binding uses). */
const StoreConflictError = StoreConflict;
/** @deprecated Use {@link ExportWriteError} (the name every binding uses). */
const IoError = ExportWriteError;
/** @deprecated Use {@link Cancelled} (the name every binding uses). */
const CancelledError = Cancelled;

/** The class of every core error kind, by class name (`ErrorKind::class_name`). */
const classes = {
  InvalidArgumentError,
  ConfigError,
  MissingForwardUrl,
  ForwardUrlNotAllowed,
  UnknownExportType,
  InvalidIdentifier,
  InvalidState,
  NotConnected,
  OAuthError,
  ReconnectRequired,
  SessionExpired,
  RateLimited,
  ApiError,
  ProtocolError,
  NetworkError,
  RequestTimeout,
  StoreError,
  StoreConflict,
  ExportWriteError,
  Cancelled,
  InternalError,
};

/** Deprecated class name → the class name every binding uses (both name the same class). */
const DEPRECATED_NAMES = {
  MissingForwardUrlError: 'MissingForwardUrl',
  ForwardUrlNotAllowedError: 'ForwardUrlNotAllowed',
  UnknownExportTypeError: 'UnknownExportType',
  InvalidIdentifierError: 'InvalidIdentifier',
  InvalidStateError: 'InvalidState',
  NotConnectedError: 'NotConnected',
  ReconnectRequiredError: 'ReconnectRequired',
  SessionExpiredError: 'SessionExpired',
  RateLimitedError: 'RateLimited',
  TimeoutError: 'RequestTimeout',
  StoreConflictError: 'StoreConflict',
  IoError: 'ExportWriteError',
  CancelledError: 'Cancelled',
};

/**
 * Kind name → class name, from the core's list (`errorKinds()` of the addon: `[kind, code,
 * className]`).
 * @type {Record<string, string>}
 */
const CLASS_NAMES = {};
/** @type {Record<string, typeof SfcrmError>} */
const byKind = {};
for (const [kind, , className] of native.errorKinds()) {
  CLASS_NAMES[kind] = className;
  byKind[kind] = classes[className];
}

/**
 * The error class for a kind name, or undefined.
 * @param {string} kind
 * @returns {typeof SfcrmError | undefined}
 */
function classForKind(kind) {
  return byKind[kind];
}

/** Property of a native error that holds its structured details (see `src/error.rs`). */
const DETAILS_PROPERTY = 'sfcrmDetails';

/**
 * Turns an error rejected by the native addon into the matching {@link SfcrmError} subclass: the
 * addon builds its errors with a `sfcrmDetails` object (kind, status, errorCode, ...), read here
 * as is. Errors that did not come from the SDK's core (e.g. a napi argument conversion failure)
 * become `InvalidArgumentError` when they are argument errors, else are returned unchanged.
 * @param {unknown} err
 * @returns {unknown}
 */
function convertError(err) {
  if (err instanceof SfcrmError) return err;
  const details = err && typeof err === 'object' ? err[DETAILS_PROPERTY] : undefined;
  if (details && typeof details === 'object' && typeof details.kind === 'string') {
    const cls = byKind[details.kind] || SfcrmError;
    return new cls(err.message, details);
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
  MissingForwardUrl,
  ForwardUrlNotAllowed,
  UnknownExportType,
  InvalidIdentifier,
  InvalidState,
  NotConnected,
  OAuthError,
  ReconnectRequired,
  SessionExpired,
  RateLimited,
  ApiError,
  ProtocolError,
  NetworkError,
  RequestTimeout,
  StoreError,
  StoreConflict,
  ExportWriteError,
  Cancelled,
  InternalError,
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
  CLASS_NAMES,
  DEPRECATED_NAMES,
  classForKind,
  convertError,
  call,
  callSync,
};
