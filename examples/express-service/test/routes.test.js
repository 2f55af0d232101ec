'use strict';
// Every route of the drop-in service over real HTTP against the org emulator, with bodies
// compared to the seed's (seed-salesforce-integration.md; deviations per seed-defects.md).
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const jwt = require('jsonwebtoken');
const { startEmulator } = require('../../../bindings/node/test/support/emulator');
const { seedBody, allSeedRecords } = require('../../../bindings/node/test/support/seed');
const { STATE_SECRET, FORWARD, BASE, startService, bearer, get, consentFor: consent } = require('./support/service');

const CONTACTS = 2600;

process.on('unhandledRejection', (e) => {
  throw new Error(`unhandled rejection: ${e && e.message}`);
});

describe('express service routes', () => {
  let emu;
  let svc;
  const alice = bearer('acc-1', 'user-1');
  let contacts;
  const secretsSeen = new Set();
  async function noteSecrets(key) {
    const d = await svc.store.load(key);
    if (d) for (const t of [d.token.access_token, d.token.refresh_token]) if (t) secretsSeen.add(t);
  }

  before(async () => {
    emu = await startEmulator(['--contacts', String(CONTACTS), '--deals', '300', '--notes', '40']);
    svc = await startService(emu);
  });
  after(async () => {
    if (svc) await svc.close();
    if (emu) await emu.stop();
  });

  /** login → authorize (emulator consents) → the callback URL Salesforce redirects to. */
  const consentFor = (headers, forward = FORWARD) => consent(svc, headers, forward);

  it('GET /auth/login without forward_url: 400 with the seed body (D18: success spelled right)', async () => {
    const r = await get(`${svc.origin}${BASE}/auth/login`, alice);
    assert.equal(r.status, 400);
    assert.deepStrictEqual(r.body, { success: false, errno: 400, message: 'Please provide forward_url' });
  });

  it('GET /auth/login without auth: Unauthorized User', async () => {
    const r = await get(`${svc.origin}${BASE}/auth/login?forward_url=${encodeURIComponent(FORWARD)}`);
    assert.equal(r.status, 400);
    assert.deepStrictEqual(r.body, { success: false, errno: 400, message: 'Unauthorized User' });
    // a token signed with another key, or with alg none, is no authentication
    const forged = bearer('acc-1', 'user-1', 'wrong-key');
    assert.equal((await get(`${svc.origin}${BASE}/auth/login?forward_url=x`, forged)).body.message, 'Unauthorized User');
    const none = { authorization: `Bearer ${jwt.sign({ account_id: 'acc-1', uid: 'user-1' }, null, { algorithm: 'none' })}` };
    assert.equal((await get(`${svc.origin}${BASE}/auth/login?forward_url=x`, none)).body.message, 'Unauthorized User');
  });

  it('GET /auth/login to a forward URL outside the allow-list: 400 (D11)', async () => {
    const r = await get(`${svc.origin}${BASE}/auth/login?forward_url=${encodeURIComponent('https://evil.example.net/x')}`, alice);
    assert.equal(r.status, 400);
    assert.deepStrictEqual(r.body, { success: false, errno: 400, message: 'forward_url is not allowed' });
  });

  it('GET /auth/login without a connection: 302 to Salesforce authorize', async () => {
    const r = await get(`${svc.origin}${BASE}/auth/login?forward_url=${encodeURIComponent(FORWARD)}`, alice);
    assert.equal(r.status, 302);
    const u = new URL(r.location);
    assert.equal(`${u.origin}${u.pathname}`, `${emu.loginUrl}/services/oauth2/authorize`);
    assert.equal(u.searchParams.get('redirect_uri'), `${svc.origin}${BASE}/auth/callback`);
    assert.equal(u.searchParams.get('scope'), 'api id web refresh_token');
    assert.ok(u.searchParams.get('state'));
  });

  it('GET /auth/callback success: 302 to {forward_url}?status=success&integration=salesforce, stored', async () => {
    const cb = await consentFor(alice);
    assert.ok(cb.startsWith(`${svc.origin}${BASE}/auth/callback?`));
    const r = await get(cb);
    assert.equal(r.status, 302);
    assert.equal(r.location, `${FORWARD}?status=success&integration=salesforce`);
    const doc = await svc.store.load({ account_id: 'acc-1', owner: 'user-1' });
    assert.equal(doc.account_id, 'acc-1');
    assert.equal(doc.owner, 'user-1');
    contacts = await allSeedRecords(doc, 'contacts');
    await noteSecrets({ account_id: 'acc-1', owner: 'user-1' });
    // the code is single-use: replaying the callback is an error redirect with the reason
    const again = await get(cb);
    assert.equal(again.status, 302);
    const loc = new URL(again.location);
    assert.equal(`${loc.origin}${loc.pathname}`, FORWARD);
    assert.equal(loc.searchParams.get('status'), 'error');
    assert.equal(loc.searchParams.get('integration'), 'salesforce');
    assert.ok(loc.searchParams.get('reason'));
  });

  it('GET /auth/login with an existing connection: 302 straight to the forward URL', async () => {
    const r = await get(`${svc.origin}${BASE}/auth/login?forward_url=${encodeURIComponent(FORWARD)}`, alice);
    assert.equal(r.status, 302);
    assert.equal(r.location, `${FORWARD}?status=success&integration=salesforce`);
  });

  it('GET /auth/callback when the user denies: 302 to the forward URL with the reason (D12)', async () => {
    await emu.control('consent', { mode: 'deny' });
    try {
      const cb = await consentFor(bearer('acc-2', 'user-2'));
      const r = await get(cb);
      assert.equal(r.status, 302);
      const loc = new URL(r.location);
      assert.equal(`${loc.origin}${loc.pathname}`, FORWARD);
      assert.equal(loc.searchParams.get('status'), 'error');
      assert.equal(loc.searchParams.get('integration'), 'salesforce');
      assert.ok(loc.searchParams.get('reason'));
    } finally {
      await emu.control('consent', { mode: 'approve' });
    }
  });

  it('GET /auth/callback with a bad, missing or expired state: {success:false, message:"Invalid State"}', async () => {
    const cb = new URL(await consentFor(bearer('acc-3', 'user-3')));
    const state = cb.searchParams.get('state');
    const code = cb.searchParams.get('code');
    const tampered = await get(`${svc.origin}${BASE}/auth/callback?code=${code}&state=${state}x`);
    assert.equal(tampered.status, 400);
    assert.deepStrictEqual(tampered.body, { success: false, message: 'Invalid State' });
    const missing = await get(`${svc.origin}${BASE}/auth/callback?code=${code}`);
    assert.deepStrictEqual(missing.body, { success: false, message: 'Invalid State' });
    // the same claims, correctly signed, but expired an hour ago
    const claims = jwt.decode(state);
    const now = Math.floor(Date.now() / 1000);
    const expired = jwt.sign({ ...claims, iat: now - 7200, exp: now - 3600 }, STATE_SECRET, { algorithm: 'HS256' });
    const r = await get(`${svc.origin}${BASE}/auth/callback?code=${code}&state=${expired}`);
    assert.equal(r.status, 400);
    assert.deepStrictEqual(r.body, { success: false, message: 'Invalid State' });
    // control: the untouched state still works
    assert.equal((await get(cb.href)).location, `${FORWARD}?status=success&integration=salesforce`);
  });

  it('GET /auth/callback with a valid state and no code: error redirect "Authentication not initiated"', async () => {
    const cb = new URL(await consentFor(bearer('acc-4', 'user-4')));
    const r = await get(`${svc.origin}${BASE}/auth/callback?state=${cb.searchParams.get('state')}`);
    assert.equal(r.status, 302);
    const loc = new URL(r.location);
    assert.equal(loc.searchParams.get('status'), 'error');
    assert.equal(loc.searchParams.get('reason'), 'Authentication not initiated');
  });

  it('GET /export/contacts: page 1, a middle page, a deep page past OFFSET 2000, no limit: the seed body', async () => {
    for (const [page, limit] of [[1, 100], [7, 100], [25, 100], [2, 2000], [undefined, undefined], [40, 100]]) {
      const qs = new URLSearchParams();
      if (page !== undefined) qs.set('page', String(page));
      if (limit !== undefined) qs.set('limit', String(limit));
      const r = await get(`${svc.origin}${BASE}/export/contacts?${qs}`, alice);
      assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
      assert.deepStrictEqual(r.body, seedBody(contacts, page, limit), `page ${page} limit ${limit}`);
    }
  });

  it('GET /export/deals and /export/notes answer with the seed body', async () => {
    const doc = await svc.store.load({ account_id: 'acc-1', owner: 'user-1' });
    for (const type of ['deals', 'notes']) {
      const all = await allSeedRecords(doc, type);
      const r = await get(`${svc.origin}${BASE}/export/${type}?page=2&limit=25`, alice);
      assert.equal(r.status, 200);
      assert.deepStrictEqual(r.body, seedBody(all, 2, 25));
    }
  });

  it('GET /export/:type with an invalid type: 400 before any Salesforce request (D13)', async () => {
    await emu.resetCounters();
    const r = await get(`${svc.origin}${BASE}/export/widgets?page=1`, alice);
    assert.equal(r.status, 400);
    assert.deepStrictEqual(r.body, { success: false, errno: 400, message: 'Please provide valid type. Example contacts and deals' });
    assert.equal((await emu.counters()).query, 0);
  });

  it('GET /export/:type without auth: 401 Unauthorized User; without a connection: Api Token Not Found', async () => {
    const r = await get(`${svc.origin}${BASE}/export/contacts?page=1`);
    assert.equal(r.status, 401);
    assert.deepStrictEqual(r.body, { message: 'Unauthorized User' });
    const n = await get(`${svc.origin}${BASE}/export/contacts?page=1`, bearer('acc-none', 'nobody'));
    assert.equal(n.status, 400);
    assert.deepStrictEqual(n.body, { success: false, errno: 400, message: 'Api Token Not Found' });
  });

  it('GET /export/:type: a negative limit is 400; Salesforce rate limiting is a 429 JSON error', async () => {
    const bad = await get(`${svc.origin}${BASE}/export/contacts?page=1&limit=-5`, alice);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.success, false);
    assert.equal(bad.body.code, 'invalid_argument');
    await emu.control('faults', { endpoint: 'query', kind: 'request_limit', count: 10 });
    try {
      const r = await get(`${svc.origin}${BASE}/export/notes?page=1&limit=3`, alice);
      assert.equal(r.status, 429);
      assert.equal(r.body.code, 'rate_limited');
      assert.equal(r.body.errno, 429);
    } finally {
      await emu.control('faults', undefined, 'DELETE');
    }
  });

  it('20 concurrent exports on an expired session cause exactly one refresh', async () => {
    await emu.expireSessions();
    await emu.resetCounters();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => get(`${svc.origin}${BASE}/export/contacts?page=${(i % 5) + 1}&limit=50`, alice)),
    );
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 200);
      assert.deepStrictEqual(r.body, seedBody(contacts, (i % 5) + 1, 50));
    }
    const c = await emu.counters();
    assert.equal(c.token_refresh_token, 1, JSON.stringify(c));
    await noteSecrets({ account_id: 'acc-1', owner: 'user-1' });
  });

  it('DELETE /auth/: revokes and deletes; then 404 Access Token Not Found; no auth: Unauthorized User', async () => {
    await emu.resetCounters();
    const r = await get(`${svc.origin}${BASE}/auth/`, alice, 'DELETE');
    assert.equal(r.status, 200);
    assert.deepStrictEqual(r.body, { success: true, message: 'SUCCESS' });
    assert.equal((await emu.counters()).revoke, 1, 'revoked at Salesforce (D10)');
    assert.equal(await svc.store.load({ account_id: 'acc-1', owner: 'user-1' }), null);
    const again = await get(`${svc.origin}${BASE}/auth/`, alice, 'DELETE');
    assert.equal(again.status, 404);
    assert.deepStrictEqual(again.body, { success: false, errno: 404, message: 'Access Token Not Found' });
    const anon = await get(`${svc.origin}${BASE}/auth/`, {}, 'DELETE');
    assert.equal(anon.status, 400);
    assert.deepStrictEqual(anon.body, { success: false, errno: 400, message: 'Unauthorized User' });
  });

  it('a dead refresh token is a typed 401 JSON error, not a crash (D8)', async () => {
    const bob = bearer('acc-5', 'user-5');
    assert.equal((await get(await consentFor(bob))).status, 302);
    await emu.control('refresh_tokens/revoke', {});
    await emu.expireSessions();
    const r = await get(`${svc.origin}${BASE}/export/contacts?page=1&limit=5`, bob);
    assert.equal(r.status, 401);
    assert.equal(r.body.success, false);
    assert.equal(r.body.code, 'reconnect_required');
    // the next login starts a new OAuth flow instead of claiming success
    const login = await get(`${svc.origin}${BASE}/auth/login?forward_url=${encodeURIComponent(FORWARD)}`, bob);
    assert.ok(login.location.startsWith(`${emu.loginUrl}/services/oauth2/authorize`));
  });

  it('the service logged failures but never a token', () => {
    assert.ok(svc.logs.length > 0, 'failures were logged');
    assert.ok(secretsSeen.size >= 3);
    for (const line of svc.logs) for (const t of secretsSeen) assert.ok(!line.includes(t), 'a token reached the log');
  });
});
