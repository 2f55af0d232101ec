'use strict';
// Hostile and broken inputs the service must answer in its own shape (issue 16): a path parameter
// that does not decode, store internals in 500 bodies, JWT claims that are not strings, control
// characters in logged callback fields. (A stored refresh lease far in the future: lease.test.js.)
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sfcrm = require('sfcrm');
const { startEmulator } = require('../../../bindings/node/test/support/emulator');
const { FORWARD, BASE, startService, bearer, get, consentFor } = require('./support/service');

process.on('unhandledRejection', (e) => {
  throw new Error(`unhandled rejection: ${e && e.message}`);
});

/** No log line may be split or forged: no CR, LF or other control character reaches the log. */
function assertLogsClean(logs) {
  for (const line of logs) {
    assert.ok(!/[\x00-\x1f\x7f-\x9f\u2028\u2029]/.test(line), `a control character reached the log: ${JSON.stringify(line)}`);
  }
}

describe('express service: hostile and broken inputs', () => {
  let emu;
  let svc;
  let dir;
  const alice = bearer('acc-h', 'user-h');

  before(async () => {
    emu = await startEmulator(['--contacts', '50']);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfcrm-express-hardening-'));
    svc = await startService(emu, { store: new sfcrm.FileStore(dir) });
    assert.equal((await get(await consentFor(svc, alice))).location, `${FORWARD}?status=success&integration=salesforce`);
  });
  after(async () => {
    if (svc) await svc.close();
    if (emu) await emu.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('GET /export/% (a parameter that does not URL-decode): 400 in the service error shape, not 500', async () => {
    for (const type of ['%', '%E0%A4%A', 'contacts%']) {
      const r = await get(`${svc.origin}${BASE}/export/${type}?page=1`, alice);
      assert.equal(r.status, 400, `${type}: ${JSON.stringify(r.body)}`);
      assert.deepStrictEqual(r.body, { success: false, errno: 400, message: 'Bad Request' }, type);
    }
    // without authentication as well: the route is never reached, the path is the error
    const anon = await get(`${svc.origin}${BASE}/export/%`);
    assert.equal(anon.status, 400);
    assert.equal(anon.body.errno, 400);
  });

  it('a 500 says "Internal Server Error" (and the error kind); the detail (a file path) is only logged', async () => {
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
    assert.ok(file, 'the file store holds the connection');
    const full = path.join(dir, file);
    const saved = fs.readFileSync(full);
    fs.rmSync(full);
    fs.mkdirSync(full); // reading the document now fails with "cannot read <path>: Is a directory"
    const before = svc.logs.length;
    try {
      const r = await get(`${svc.origin}${BASE}/export/contacts?page=1&limit=5`, alice);
      assert.equal(r.status, 500, JSON.stringify(r.body));
      assert.deepStrictEqual(r.body, { success: false, errno: 500, message: 'Internal Server Error', code: 'store' });
      assert.ok(!JSON.stringify(r.body).includes(dir), 'the store path reached the response');
      const logged = svc.logs.slice(before).join('\n');
      assert.ok(logged.includes(full), `the detail is logged server-side: ${logged}`);
    } finally {
      fs.rmdirSync(full);
      fs.writeFileSync(full, saved, { mode: 0o600 });
    }
    assert.equal((await get(`${svc.origin}${BASE}/export/contacts?page=1&limit=5`, alice)).status, 200);
  });

  it('JWT claims that are not strings (arrays, objects, numbers) are no authentication', async () => {
    const cases = [
      [['acc-h'], 'user-h'],
      ['acc-h', ['user-h']],
      [{ toString: 'acc-h' }, 'user-h'],
      [{}, {}],
      [7, 'user-h'],
      [true, 'user-h'],
      ['', 'user-h'],
    ];
    for (const [account_id, uid] of cases) {
      const auth = bearer(account_id, uid);
      const what = JSON.stringify({ account_id, uid });
      const r = await get(`${svc.origin}${BASE}/export/contacts?page=1&limit=5`, auth);
      assert.equal(r.status, 401, `${what}: ${JSON.stringify(r.body)}`);
      assert.deepStrictEqual(r.body, { message: 'Unauthorized User' }, what);
      const login = await get(`${svc.origin}${BASE}/auth/login?forward_url=${encodeURIComponent(FORWARD)}`, auth);
      assert.deepStrictEqual(login.body, { success: false, errno: 400, message: 'Unauthorized User' }, what);
    }
    // control: the same ids as strings authenticate
    assert.equal((await get(`${svc.origin}${BASE}/export/contacts?page=1&limit=5`, alice)).status, 200);
  });

  it("a callback's error_description with CR/LF and other controls is logged escaped, on one line", async () => {
    const cb = new URL(await consentFor(svc, bearer('acc-cb', 'user-cb')));
    const forged = 'denied\r\n2030-01-01 admin login succeeded\u2028\x1b[31m\\';
    const qs = new URLSearchParams({ state: cb.searchParams.get('state'), error: 'access_denied', error_description: forged });
    const before = svc.logs.length;
    const r = await get(`${svc.origin}${BASE}/auth/callback?${qs}`);
    assert.equal(r.status, 302);
    assert.equal(new URL(r.location).searchParams.get('status'), 'error');
    const lines = svc.logs.slice(before);
    assert.ok(lines.length >= 1, 'the failed callback is logged');
    assertLogsClean(lines);
    const line = lines.find((l) => l.includes('admin login succeeded'));
    assert.ok(line, `the description is logged: ${JSON.stringify(lines)}`);
    assert.ok(line.includes('denied\\r\\n2030-01-01 admin login succeeded\\u2028\\u001b[31m\\\\'), line);
  });

  it('nothing this suite made the service log contains a raw control character', () => {
    assert.ok(svc.logs.length > 0);
    assertLogsClean(svc.logs);
  });
});
