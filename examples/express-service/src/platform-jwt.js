'use strict';
/**
 * A platform JWT to try the routes with, as the platform's own login would issue it: HS256 with
 * `PLATFORM_JWT_KEY`, payload `{ account_id, uid }` (what `src/auth.js` verifies), one hour.
 *
 *     PLATFORM_JWT_KEY=… node src/platform-jwt.js ACCOUNT_ID UID [SECONDS]   # prints the token
 *
 * Then `curl -H "Authorization: Bearer $TOKEN" …` (README, "Try it").
 */
const jwt = require('jsonwebtoken');

/**
 * @param {string} key the HS256 key (`PLATFORM_JWT_KEY`)
 * @param {string} accountId the `account_id` claim (the platform account)
 * @param {string} uid the `uid` claim (the platform user; the connection's `owner`)
 * @param {number} [expiresInS] lifetime in seconds (default 3600)
 * @returns {string}
 */
function platformJwt(key, accountId, uid, expiresInS = 3600) {
  if (!key) throw new Error('PLATFORM_JWT_KEY is not set');
  if (!accountId || !uid) throw new Error('usage: node src/platform-jwt.js ACCOUNT_ID UID [SECONDS]');
  return jwt.sign({ account_id: accountId, uid }, key, { algorithm: 'HS256', expiresIn: expiresInS });
}

if (require.main === module) {
  const [accountId, uid, seconds] = process.argv.slice(2);
  try {
    const lifetime = seconds === undefined ? 3600 : Number(seconds);
    if (!Number.isInteger(lifetime) || lifetime <= 0) throw new Error(`SECONDS must be a positive integer, not ${seconds}`);
    console.log(platformJwt(process.env.PLATFORM_JWT_KEY, accountId, uid, lifetime));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
}

module.exports = { platformJwt };
