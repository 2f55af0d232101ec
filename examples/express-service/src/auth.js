'use strict';
/**
 * The platform's request authentication, as the seed's upstream middleware provides it: a JWT in
 * `Authorization: Bearer <token>`, HS256-signed with a configured key, whose payload carries
 * `account_id` and `uid`, both non-empty strings. On success `req.auth` is the payload; on any
 * failure (a bad signature, an expired token, an id that is missing, empty or not a string: an
 * array, an object or a number is never converted to one) `req.auth` stays undefined and each route
 * answers as the seed does ("Unauthorized User": 401 on export).
 */
const jwt = require('jsonwebtoken');

/**
 * Whether a claim is a connection id: a non-empty string (`["acc-1"]` is not `"acc-1"`).
 * @param {unknown} v
 */
function isId(v) {
  return typeof v === 'string' && v !== '';
}

/**
 * @param {string | Buffer} key the HS256 key (e.g. the platform's JWT secret)
 * @returns {import('express').RequestHandler}
 */
function platformAuth(key) {
  if (!key || key.length === 0) throw new Error('platformAuth needs a non-empty JWT key');
  return (req, _res, next) => {
    const header = req.get('authorization');
    const m = header && /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m) {
      try {
        // Only HS256 is accepted: a token with alg "none" or another algorithm is refused.
        const payload = jwt.verify(m[1], key, { algorithms: ['HS256'] });
        if (payload && typeof payload === 'object' && isId(payload.account_id) && isId(payload.uid)) {
          req.auth = { ...payload };
        }
      } catch {
        // invalid, expired or wrongly signed: unauthenticated
      }
    }
    next();
  };
}

module.exports = { platformAuth };
