'use strict';
// Field cases (tests/contract/field-cases.md) on the Node surface, against a private emulator, the
// same cases bindings/python/tests/test_field_cases.py runs: BR-02 (a second 401 is
// SessionExpiredError without a loop; BR-17's empty 401), BR-03 (refresh without refresh_token /
// rotation), BR-06 (nextRecordsUrl paging), BR-09 (null parent), BR-12 (dates verbatim), BR-14
// (unicode), BR-15 (HTML error page and REST error array). BR-01, BR-04, BR-08 and BR-18 are in
// client.test.js (used code, revoked refresh token, deep page, REQUEST_LIMIT_EXCEEDED).
const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const sfcrm = require('..');
const { startEmulator, testConfig, connect } = require('./support/emulator');

let seq = 0;
const freshKey = () => ({ account_id: `field-${++seq}`, owner: 'u' });

describe('field cases (tests/contract/field-cases.md)', () => {
  let emu;
  let store;
  let client;
  before(async () => {
    emu = await startEmulator(['--contacts', '5000']);
    store = new sfcrm.MemoryStore();
    client = new sfcrm.Client(testConfig(emu, { maxRetries: 0 }), store);
  });
  afterEach(async () => {
    await emu.control('faults', undefined, 'DELETE');
    await emu.control('rotation', { enabled: false });
  });
  after(async () => {
    if (emu) await emu.stop();
  });

  it('BR-02 / BR-17: a second (empty) 401 is SessionExpiredError after exactly one refresh', async () => {
    const key = freshKey();
    await connect(client, key);
    await emu.control('faults', { endpoint: 'query', kind: 'empty401', count: 5 });
    const before = client.apiCalls();
    await assert.rejects(client.exportPage(key, 'notes', { page: 1, limit: 3 }), (e) => {
      assert.ok(e instanceof sfcrm.SessionExpiredError, e.constructor.name);
      assert.equal(e.status, 401);
      assert.ok(e.message);
      return true;
    });
    const after = client.apiCalls();
    assert.equal(after.tokenRequests - before.tokenRequests, 1);
    assert.equal(after.apiRequests - before.apiRequests, 2);
  });

  it('BR-03: the refresh token is kept when not rotated, and a rotated one is stored and used', async () => {
    const key = freshKey();
    await connect(client, key);
    const rt = (await store.load(key)).token.refresh_token;
    await client.refresh(key);
    await client.refresh(key);
    assert.equal((await store.load(key)).token.refresh_token, rt);
    await emu.control('rotation', { enabled: true });
    await client.refresh(key);
    const rt2 = (await store.load(key)).token.refresh_token;
    assert.notEqual(rt2, rt);
    await client.refresh(key); // invalid_grant if the old token were sent
    assert.ok(![rt, rt2].includes((await store.load(key)).token.refresh_token));
    assert.equal((await client.exportPage(key, 'notes', { page: 1, limit: 2 })).data.length, 2);
  });

  it('BR-06 / BR-09 / BR-14: a whole export follows nextRecordsUrl; null parents are null; unicode intact', async () => {
    const key = freshKey();
    await connect(client, key);
    const before = client.apiCalls();
    const rows = [];
    for await (const r of client.export(key, 'contacts')) rows.push(r);
    const after = client.apiCalls();
    const ids = rows.map((r) => r.Id);
    assert.equal(ids.length, 5000);
    assert.equal(new Set(ids).size, 5000);
    assert.deepEqual(ids, [...ids].sort());
    assert.equal(after.query - before.query, 1);
    assert.equal(after.queryMore - before.queryMore, 2); // 2000 + 2000 + 1000
    assert.ok(rows.some((r) => r.Account === null), 'contacts without an Account');
    assert.equal(typeof rows.find((r) => r.Account !== null).Account.Name, 'string');
    const nonAscii = rows.map((r) => r.Name).filter((n) => /[^\x00-\x7f]/.test(n));
    assert.ok(nonAscii.length > 0 && !nonAscii.some((n) => n.includes('Ã')));
  });

  it('BR-12: dates and datetimes are kept verbatim', async () => {
    const key = freshKey();
    await connect(client, key);
    const deal = (await client.exportPage(key, 'deals', { page: 1, limit: 1 })).data[0];
    assert.match(deal.CloseDate, /^\d{4}-\d{2}-\d{2}$/);
    for await (const r of client.export(key, 'deals', { since: '2000-01-01T00:00:00.000+0000' })) {
      assert.match(r.SystemModstamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
      break;
    }
  });

  it('BR-15: an HTML error page is ApiError with the raw body and Retry-After; a REST error array keeps errorCode', async () => {
    const key = freshKey();
    await connect(client, key);
    await emu.control('faults', { endpoint: 'query', kind: 'html503', count: 1 });
    await assert.rejects(client.exportPage(key, 'notes', { page: 1, limit: 3 }), (e) => {
      assert.ok(e instanceof sfcrm.ApiError, e.constructor.name);
      assert.equal(e.status, 503);
      assert.match(e.rawBody.trimStart().toLowerCase(), /^<!doctype html/);
      assert.equal(e.retryAfterMs, 1000);
      return true;
    });
    await emu.control('faults', { endpoint: 'query', kind: 'invalid_locator', count: 1 });
    await assert.rejects(client.exportPage(key, 'notes', { page: 1, limit: 3 }), (e) => {
      assert.ok(e instanceof sfcrm.ApiError, e.constructor.name);
      assert.equal(e.status, 400);
      assert.equal(e.errorCode, 'INVALID_QUERY_LOCATOR');
      // Node's message carries the details after Salesforce's text (Python keeps it in str(e))
      assert.equal(e.message, 'invalid query locator (HTTP 400, INVALID_QUERY_LOCATOR)');
      return true;
    });
  });
});
