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
   * @param {object} [details] structured details (see the module docs)
   */
  constructor(message, details = {}) {
    super(message);
    this.name = new.target.name;
    this.code = details.kind ?? 'internal';
    this.kindCode = details.kindCode ?? 900;
    this.status = details.status ?? null;
    this.errorCode = details.errorCode ?? null;
    this.fields = Array.isArray(details.fields) ? details.fields : [];
    this.oauthError = details.oauthError ?? null;
    this.oauthErrorDescription = details.oauthErrorDescription ?? null;
    this.apiUsage = details.apiUsage ?? null;
    this.retryAfterMs = details.retryAfterMs ?? null;
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

const classes = { SfcrmError };
const byKind = {};
for (const [kind, className] of Object.entries(CLASS_NAMES)) {
  // A named class per kind, so `err instanceof RateLimitedError` and stack traces read well.
  const cls = { [className]: class extends SfcrmError {} }[className];
  classes[className] = cls;
  byKind[kind] = cls;
}

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
    const e = new classes.InvalidArgumentError(err.message, { kind: 'invalid_argument', kindCode: 100 });
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

module.exports = { ...classes, CLASS_NAMES, classForKind, convertError, call, callSync, DETAILS_PREFIX };
