'use strict';
/**
 * The platform's request authentication, as the seed's upstream middleware provides it: a JWT in
 * `Authorization: Bearer <token>`, HS256-signed with a configured key, whose payload carries
 * `account_id` and `uid`. On success `req.auth` is the payload (with both ids as strings); on any
 * failure `req.auth` stays undefined and each route answers as the seed does ("Unauthorized User").
 */
const jwt = require('jsonwebtoken');

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
        if (payload && typeof payload === 'object' && payload.account_id != null && payload.uid != null) {
          const accountId = String(payload.account_id);
          const uid = String(payload.uid);
          if (accountId !== '' && uid !== '') req.auth = { ...payload, account_id: accountId, uid };
        }
      } catch {
        // invalid, expired or wrongly signed: unauthenticated
      }
    }
    next();
  };
}

module.exports = { platformAuth };
