'use strict';
// A stored refresh lease far in the future (issue 16): no process takes a lease for longer than the
// configured lease time (refreshLeaseTtlMs), so such a lease is stale and must not make every
// export wait refreshWaitMs and fail with store_conflict until someone fixes the document.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('../../../bindings/node/test/support/emulator');
const { FORWARD, BASE, startService, bearer, get, consentFor } = require('./support/service');

process.on('unhandledRejection', (e) => {
  throw new Error(`unhandled rejection: ${e && e.message}`);
});

describe('express service: refresh leases', () => {
  let emu;
  let svc;
  const alice = bearer('acc-h', 'user-h');

  before(async () => {
    emu = await startEmulator(['--contacts', '50']);
    // refreshWaitMs: how long an export waits for another process's refresh (default 30 s);
    // refreshLeaseTtlMs: how long a refresh holds its lease (default 60 s).
    svc = await startService(emu, { configOverrides: { refreshWaitMs: 1500, refreshLeaseTtlMs: 60_000 } });
    assert.equal((await get(await consentFor(svc, alice))).location, `${FORWARD}?status=success&integration=salesforce`);
  });
  after(async () => {
    if (svc) await svc.close();
    if (emu) await emu.stop();
  });

  it('a stored refresh lease far in the future does not block refreshes (bounded by the lease TTL)', async () => {
    const key = { account_id: 'acc-h', owner: 'user-h' };
    const lease = async (expiresAtMs) => {
      const doc = await svc.store.load(key);
      doc.refresh_lease = { holder: 'another-process', expires_at_ms: expiresAtMs };
      assert.equal(await svc.store.save({ ...doc, version: doc.version + 1 }, doc.version), 'saved');
    };
    try {
      // control: a plausible foreign lease (within the 60 s TTL) is honoured: the export waits
      // for it (refreshWaitMs) and gives up with store_conflict rather than refreshing alongside it
      await lease(Date.now() + 50_000);
      await emu.expireSessions();
      await emu.resetCounters();
      const waited = await get(`${svc.origin}${BASE}/export/contacts?page=1&limit=5`, alice);
      assert.equal(waited.status, 500, JSON.stringify(waited.body));
      assert.equal(waited.body.code, 'store_conflict');
      assert.equal((await emu.counters()).token_refresh_token, 0);
      // ten years ahead: no process holds a lease that long (it lasts refreshLeaseTtlMs at most),
      // so it is stale and taken over at once
      await lease(Date.now() + 10 * 365 * 86_400_000);
      const t0 = Date.now();
      const r = await get(`${svc.origin}${BASE}/export/contacts?page=1&limit=5`, alice);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.data.length, 5);
      assert.ok(Date.now() - t0 < 1500, `the export waited ${Date.now() - t0} ms for the stale lease`);
      assert.equal((await emu.counters()).token_refresh_token, 1);
      assert.equal((await svc.store.load(key)).refresh_lease ?? null, null, 'the lease is cleared after the refresh');
    } finally {
      // whatever happened, the next tests start from a connection without a foreign lease
      const doc = await svc.store.load(key);
      if (doc.refresh_lease) {
        await svc.store.save({ ...doc, refresh_lease: null, version: doc.version + 1 }, doc.version);
      }
    }
  });
});
