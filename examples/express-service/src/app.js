'use strict';
/**
 * The seed's four Salesforce routes on the sfcrm SDK, as an Express router mounted under
 * `/v1/integrations/salesforce`:
 *
 * | route | seed behaviour kept | what changed (seed-defects.md) |
 * |---|---|---|
 * | `GET /auth/login?forward_url=` | 302 to `{forward_url}?status=success&integration=salesforce` when connected, else 302 to Salesforce's authorize URL; 400 `{success:false, errno:400, message:"Please provide forward_url"}` | D18 `success` spelled right; D11 forward URL allow-list (400 `forward_url is not allowed`), PKCE S256 |
 * | `GET /auth/callback` | 302 to `{forward_url}?status=success&integration=salesforce`; `Invalid State` body; token endpoint errors → `…status=error&integration=salesforce&reason=` | D12 a denial redirects to the forward URL with the reason |
 * | `DELETE /auth/` | `{success:true, message:"SUCCESS"}`; 404 `Access Token Not Found`; 400 `Unauthorized User` | D10 the token is revoked at Salesforce first |
 * | `GET /export/:type?page=&limit=` | `{success:true, message:"SUCCESS", data, pagination}`; 400 invalid type; 400 `Api Token Not Found`; 401 `Unauthorized User` | D1/D2/D3 every page answerable, complete and stable; D13 the type is checked first; D14 paginator edge cases |
 *
 * Status codes the seed leaves unstated are chosen here and documented in the README: `Invalid
 * State` is 400; errors the seed passed to `next(error)` are JSON `{success:false, errno, message,
 * code}` with a status per error kind (see `errorStatus`).
 */
const http = require('node:http');
const express = require('express');
const sfcrm = require('sfcrm');

const MESSAGES = {
  missingForwardUrl: 'Please provide forward_url',
  forwardUrlNotAllowed: 'forward_url is not allowed',
  unauthorized: 'Unauthorized User',
  invalidState: 'Invalid State',
  accessTokenNotFound: 'Access Token Not Found',
  apiTokenNotFound: 'Api Token Not Found',
  invalidType: 'Please provide valid type. Example contacts and deals',
};

/** The connection key of an authenticated request (`req.auth` from the platform JWT). */
function keyOf(req) {
  return { account_id: req.auth.account_id, owner: req.auth.uid };
}

/** First value of a query parameter (Express gives arrays for repeated keys). */
function q(v) {
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/**
 * Text from outside (a callback's `error_description`, Salesforce's messages, a request path) made
 * safe for a one-line log: backslash and every control character (C0, DEL, C1, U+2028/U+2029) are
 * written as escapes (`\\`, `\r`, `\n`, `\t`, `\u001b`...), so a CR/LF cannot start a forged line.
 * @param {unknown} value
 * @returns {string}
 */
function escapeLog(value) {
  const short = { '\\': '\\\\', '\r': '\\r', '\n': '\\n', '\t': '\\t' };
  return String(value).replace(
    /[\\\x00-\x1f\x7f-\x9f\u2028\u2029]/g,
    (c) => short[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * HTTP status for an SDK error the seed would have passed to `next(error)`.
 * @param {unknown} err
 */
function errorStatus(err) {
  switch (err && err.code) {
    case 'invalid_argument':
    case 'invalid_identifier':
    case 'unknown_export_type':
    case 'missing_forward_url':
    case 'forward_url_not_allowed':
      return 400;
    case 'not_connected':
      return 400;
    case 'reconnect_required':
    case 'session_expired':
      return 401;
    case 'rate_limited':
      return 429;
    case 'api':
    case 'protocol':
    case 'network':
    case 'oauth':
      return 502;
    case 'timeout':
      return 504;
    default:
      return 500;
  }
}

/**
 * The client error (4xx) Express or its router raised before a route ran, e.g. 400 for a path
 * parameter that does not URL-decode (`/export/%`); null for anything else.
 * @param {unknown} err
 * @returns {number | null}
 */
function frameworkClientStatus(err) {
  if (!err || err instanceof sfcrm.SfcrmError) return null;
  const status = /** @type {{ status?: unknown }} */ (err).status;
  return Number.isInteger(status) && status >= 400 && status < 500 ? /** @type {number} */ (status) : null;
}

/**
 * The JSON body of a failed route: `{success:false, errno, message, code}`. The message of a 500
 * is generic (its detail, e.g. a store's file path, goes to the log only); `code` is the SDK's
 * error kind, when it is an SDK error.
 * @param {unknown} err
 * @param {number} status
 */
function errorBody(err, status) {
  const sdk = err instanceof sfcrm.SfcrmError;
  const message = sdk && status !== 500 ? err.message : http.STATUS_CODES[status];
  /** @type {{ success: false, errno: number, message: string, code?: string }} */
  const body = { success: false, errno: status, message };
  if (sdk) body.code = err.code;
  return body;
}

/**
 * The router with the seed's routes.
 * @param {{ client: import('sfcrm').Client, log?: (msg: string, err?: unknown) => void }} options
 * @returns {import('express').Router}
 */
function salesforceRouter({ client, log: sink = () => {} }) {
  const router = express.Router();
  // Every line this router logs holds text from outside (Salesforce's messages, a callback's
  // error_description, a request path): escaped here, once, so no line can start another.
  const log = (/** @type {string} */ msg, /** @type {unknown} */ err) => sink(escapeLog(msg), err);

  router.get('/auth/login', async (req, res) => {
    const forwardUrl = q(req.query.forward_url);
    if (!forwardUrl) {
      return res.status(400).json({ success: false, errno: 400, message: MESSAGES.missingForwardUrl });
    }
    if (!req.auth) return res.status(400).json({ success: false, errno: 400, message: MESSAGES.unauthorized });
    try {
      const r = await client.login(keyOf(req), forwardUrl);
      return res.redirect(302, r.url);
    } catch (err) {
      if (err instanceof sfcrm.ForwardUrlNotAllowed || err instanceof sfcrm.MissingForwardUrl) {
        const message = err instanceof sfcrm.MissingForwardUrl ? MESSAGES.missingForwardUrl : MESSAGES.forwardUrlNotAllowed;
        return res.status(400).json({ success: false, errno: 400, message });
      }
      throw err;
    }
  });

  router.get('/auth/callback', async (req, res) => {
    try {
      const r = await client.callback({
        code: q(req.query.code),
        state: q(req.query.state),
        error: q(req.query.error),
        error_description: q(req.query.error_description),
      });
      if (r.outcome !== 'success') log(`salesforce callback failed: ${r.reason}`);
      return res.redirect(302, r.url);
    } catch (err) {
      if (err instanceof sfcrm.InvalidState) {
        return res.status(400).json({ success: false, message: MESSAGES.invalidState });
      }
      throw err;
    }
  });

  router.delete('/auth', async (req, res) => {
    if (!req.auth) return res.status(400).json({ success: false, errno: 400, message: MESSAGES.unauthorized });
    try {
      const r = await client.disconnect(keyOf(req));
      if (!r.revoked) log(`salesforce revoke failed (connection deleted anyway): ${r.revokeError}`);
      return res.status(200).json({ success: true, message: 'SUCCESS' });
    } catch (err) {
      if (err instanceof sfcrm.NotConnected) {
        return res.status(404).json({ success: false, errno: 404, message: MESSAGES.accessTokenNotFound });
      }
      throw err;
    }
  });

  router.get('/export/:type', async (req, res) => {
    if (!req.auth) return res.status(401).json({ message: MESSAGES.unauthorized });
    try {
      // page and limit go to the SDK as received: it applies the seed's parseInt rules.
      const body = await client.exportPage(keyOf(req), req.params.type, {
        page: q(req.query.page),
        limit: q(req.query.limit),
      });
      return res.status(200).json(body);
    } catch (err) {
      if (err instanceof sfcrm.UnknownExportType) {
        return res.status(400).json({ success: false, errno: 400, message: MESSAGES.invalidType });
      }
      if (err instanceof sfcrm.NotConnected) {
        return res.status(400).json({ success: false, errno: 400, message: MESSAGES.apiTokenNotFound });
      }
      throw err;
    }
  });

  // Errors the seed sent to next(error), and the router's own (a path that does not decode): one
  // JSON shape, never a stack trace, a token or a store's internals; the detail is logged, escaped.
  router.use((err, _req, res, _next) => {
    const status = frameworkClientStatus(err) ?? errorStatus(err);
    const kind = err instanceof sfcrm.SfcrmError ? ` (${err.code})` : '';
    log(`salesforce route failed with ${status}${kind}: ${err && err.message}`, err);
    res.status(status).json(errorBody(err, status));
  });

  return router;
}

/**
 * The whole app: platform JWT authentication, then the router under `basePath`.
 * @param {{ client: import('sfcrm').Client, jwtKey: string | Buffer, basePath?: string,
 *   log?: (msg: string, err?: unknown) => void }} options
 */
function createApp({ client, jwtKey, basePath = '/v1/integrations/salesforce', log }) {
  const { platformAuth } = require('./auth');
  const app = express();
  app.disable('x-powered-by');
  app.use(platformAuth(jwtKey));
  app.use(basePath, salesforceRouter({ client, log }));
  return app;
}

module.exports = { createApp, salesforceRouter, errorStatus, escapeLog, MESSAGES };
