'use strict';
// The MongoDB token store against a real MongoDB wire-protocol server: FerretDB (SQLite backend),
// built from the Go module proxy by scripts/test-node.sh into target/sfcrm-tools/sfcrm-ferretdb.
// Skipped, with a message, only when that binary could not be built (no Go toolchain).
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const jwt = require('jsonwebtoken');
const sfcrm = require('sfcrm');
const { MongoTokenStore, COLLECTION } = require('../src/mongo-store');
const { createStore } = require('../src/server');
const { createApp } = require('../src/app');
const { startEmulator, authorize } = require('../../../bindings/node/test/support/emulator');

const REPO = path.resolve(__dirname, '../../..');
const BIN = process.env.SFCRM_FERRETDB_BIN || path.join(REPO, 'target/sfcrm-tools/sfcrm-ferretdb');
const HAVE = fs.existsSync(BIN);

async function startFerret() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfcrm-ferret-'));
  const child = spawn(BIN, ['-dir', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const uri = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('FerretDB did not start within 30 s')), 30000);
    child.once('exit', (c) => reject(new Error(`FerretDB exited (${c})`)));
    readline.createInterface({ input: child.stdout }).on('line', (l) => {
      const m = /^FERRETDB_URI=(.+)$/.exec(l.trim());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  return {
    uri,
    stop: () =>
      new Promise((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => {
          fs.rmSync(dir, { recursive: true, force: true });
          r();
        });
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

const doc = (version, extra = {}) => ({
  schema: 1,
  account_id: 'acc',
  owner: 'usr',
  token: { access_token: `00D${version}`, refresh_token: '5Aep', issued_at: '1704844800000' },
  token_invalidated: false,
  instance_url: 'https://na1.salesforce.com',
  version,
  ...extra,
});
const KEY = { account_id: 'acc', owner: 'usr' };

describe('MongoDB token store (FerretDB)', { skip: HAVE ? false : `no FerretDB binary at ${BIN}` }, () => {
  let ferret;
  let mongo;
  let store;
  before(async () => {
    ferret = await startFerret();
    ({ store, client: mongo } = await MongoTokenStore.connect(ferret.uri, { dbName: 'sfcrm_test', defaultInstanceUrl: 'https://na1.salesforce.com' }));
  });
  after(async () => {
    if (mongo) await mongo.close();
    if (ferret) await ferret.stop();
  });

  it('keeps the compare-and-swap contract in integrations.salesforce.key', async () => {
    await store.collection.deleteMany({});
    assert.equal(store.collection.collectionName, COLLECTION);
    assert.equal(await store.load(KEY), null);
    assert.equal(await store.save(doc(1), null), 'saved');
    assert.equal(await store.save(doc(1), null), 'conflict');
    assert.equal(await store.save(doc(2), 7), 'conflict');
    assert.equal(await store.save(doc(2), 1), 'saved');
    const d = await store.load(KEY);
    assert.equal(d.version, 2);
    assert.equal(d._id, undefined);
    assert.equal(await store.delete(KEY), true);
    assert.equal(await store.delete(KEY), false);
  });

  it('racing inserts: exactly one wins (unique index on account_id, owner)', async () => {
    await store.collection.deleteMany({});
    const inserts = await Promise.all(Array.from({ length: 8 }, () => store.save(doc(1), null)));
    assert.equal(inserts.filter((r) => r === 'saved').length, 1);
  });

  // MongoDB applies a filtered updateOne atomically per document, so exactly one of these racing
  // conditional updates matches. FerretDB 1.x on SQLite evaluates the filter before a separate
  // write, so several can "win": a limitation of that server, reported as a todo there.
  it('racing conditional updates: exactly one wins', async (t) => {
    const info = await mongo.db('admin').command({ buildInfo: 1 });
    if (info.ferretdbVersion) t.todo(`FerretDB (build ${info.ferretdbVersion}) does not apply a filtered update atomically`);
    await store.collection.deleteMany({});
    assert.equal(await store.save(doc(1), null), 'saved');
    const updates = await Promise.all(Array.from({ length: 8 }, (_, i) => store.save(doc(2, { scope: `s${i}` }), 1)));
    assert.equal(updates.filter((r) => r === 'saved').length, 1);
  });

  it('reads a document the seed service wrote and upgrades it in place', async () => {
    await store.collection.deleteMany({});
    const seedDoc = { account_id: 'acc', owner: 'usr', token: { access_token: '00Dold', refresh_token: '5Aepold', issued_at: '1704844800000' }, token_invalidated: false };
    const { insertedId } = await store.collection.insertOne(seedDoc);
    const loaded = await store.load(KEY);
    assert.equal(loaded.version, 0);
    assert.equal(loaded.instance_url, 'https://na1.salesforce.com');
    assert.equal(await store.save({ ...loaded, schema: 1, version: 1, token: { ...loaded.token, access_token: '00Dnew' } }, 0), 'saved');
    const raw = await store.collection.findOne({ _id: insertedId });
    assert.equal(raw.version, 1);
    assert.equal(raw.token.access_token, '00Dnew');
    assert.equal(raw.token.refresh_token, '5Aepold', 'the seed fields keep their names');
  });

  it('serves the routes with MONGODB_URI set: connect, export, 20 concurrent exports = 1 refresh, disconnect', async () => {
    const emu = await startEmulator(['--contacts', '300']);
    const server = http.createServer();
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${server.address().port}`;
    const env = {
      MONGODB_URI: ferret.uri,
      MONGODB_DB: 'sfcrm_routes',
      SALESFORCE_CLIENT_ID: 'sfcrm-demo-client',
      SALESFORCE_SECRET_ID: 'sfcrm-demo-secret',
      SALESFORCE_REDIRECT_URL: `${origin}/v1/integrations/salesforce/auth/callback`,
      SALESFORCE_LOGIN_URL: emu.loginUrl,
      SFCRM_STATE_SECRET: 'mongo-route-test-state-secret-32-bytes',
      SFCRM_FORWARD_ORIGINS: 'https://app.example.com',
    };
    const created = await createStore(env);
    try {
      assert.equal(created.kind, 'mongodb');
      const client = new sfcrm.Client(sfcrm.Config.fromEnv(env), created.store);
      server.on('request', createApp({ client, jwtKey: 'k' }));
      const auth = { authorization: `Bearer ${jwt.sign({ account_id: 'm1', uid: 'u1' }, 'k', { algorithm: 'HS256' })}` };
      const base = `${origin}/v1/integrations/salesforce`;
      const login = await fetch(`${base}/auth/login?forward_url=${encodeURIComponent('https://app.example.com/x')}`, { headers: auth, redirect: 'manual' });
      const cbq = await authorize(login.headers.get('location'));
      const cb = await fetch(`${base}/auth/callback?${new URLSearchParams(cbq)}`, { redirect: 'manual' });
      assert.equal(cb.headers.get('location'), 'https://app.example.com/x?status=success&integration=salesforce');
      const stored = await created.store.collection.findOne({ account_id: 'm1', owner: 'u1' });
      assert.equal(stored.version, 1);
      await emu.expireSessions();
      await emu.resetCounters();
      const rs = await Promise.all(Array.from({ length: 20 }, () => fetch(`${base}/export/contacts?page=2&limit=100`, { headers: auth }).then((r) => r.json())));
      for (const r of rs) assert.equal(r.data.length, 100);
      assert.equal((await emu.counters()).token_refresh_token, 1);
      const del = await fetch(`${base}/auth/`, { method: 'DELETE', headers: auth }).then((r) => r.json());
      assert.deepStrictEqual(del, { success: true, message: 'SUCCESS' });
      assert.equal(await created.store.collection.countDocuments({ account_id: 'm1' }), 0);
    } finally {
      await created.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await emu.stop();
    }
  });
});
