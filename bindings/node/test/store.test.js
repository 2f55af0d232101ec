'use strict';
// Token stores: the built-in ones, and the bridge to a JavaScript store object. Every way a JS
// store can misbehave must surface as a StoreError: no crash, no unhandled rejection, no hang.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sfcrm = require('..');
const native = require('../index.js');
const { startEmulator, testConfig, connect } = require('./support/emulator');

const unhandled = [];
process.on('unhandledRejection', (e) => unhandled.push(e));

function doc(version, extra = {}) {
  return {
    schema: 1,
    account_id: 'acc',
    owner: 'usr',
    token: { access_token: `00Dtoken${version}`, refresh_token: '5Aeprefresh', issued_at: '1704844800000' },
    token_invalidated: false,
    instance_url: 'https://na1.salesforce.com',
    version,
    ...extra,
  };
}
const KEY = { account_id: 'acc', owner: 'usr' };

/** A correct JS store over a Map, counting calls. */
class MapStore {
  constructor() {
    this.docs = new Map();
    this.calls = { load: 0, save: 0, delete: 0 };
  }
  k(key) {
    return `${key.account_id}\u0000${key.owner}`;
  }
  async load(key) {
    this.calls.load++;
    await new Promise((r) => setTimeout(r, 2));
    const d = this.docs.get(this.k(key));
    return d ? structuredClone(d) : null;
  }
  async save(d, expected) {
    this.calls.save++;
    const cur = this.docs.get(this.k(d));
    if ((cur ? cur.version : null) !== expected) return 'conflict';
    this.docs.set(this.k(d), structuredClone(d));
    return 'saved';
  }
  async delete(key) {
    this.calls.delete++;
    return this.docs.delete(this.k(key));
  }
}

async function casContract(store) {
  assert.equal(await store.load(KEY), null);
  assert.equal(await store.save(doc(1), null), 'saved');
  assert.equal(await store.save(doc(1), null), 'conflict', 'insert only if absent');
  assert.equal(await store.save(doc(2), 5), 'conflict', 'wrong expected version');
  assert.equal(await store.save(doc(2), 1), 'saved');
  const d = await store.load(KEY);
  assert.equal(d.version, 2);
  assert.equal(d.token.access_token, '00Dtoken2');
  assert.equal(await store.delete(KEY), true);
  assert.equal(await store.delete(KEY), false);
}

describe('built-in stores', () => {
  it('MemoryStore keeps the compare-and-swap contract', async () => {
    await casContract(new sfcrm.MemoryStore());
  });
  it('FileStore keeps the compare-and-swap contract and persists across instances', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfcrm-fs-'));
    try {
      await casContract(new sfcrm.FileStore(dir));
      const a = new sfcrm.FileStore(dir);
      assert.equal(await a.save(doc(1), null), 'saved');
      assert.equal((await new sfcrm.FileStore(dir).load(KEY)).version, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a garbage document is a StoreError', async () => {
    await assert.rejects(new sfcrm.MemoryStore().save({ nope: true }, null), sfcrm.StoreError);
  });
});

describe('JavaScript store bridge', () => {
  let emu;
  before(async () => {
    emu = await startEmulator(['--contacts', '30']);
  });
  after(async () => {
    if (emu) await emu.stop();
    assert.deepEqual(unhandled, [], 'no unhandled rejections');
  });

  it('a correct JS store carries a full connection: login, callback, export, refresh, disconnect', async () => {
    const store = new MapStore();
    const client = new sfcrm.Client(testConfig(emu), store);
    const key = { account_id: 'js-1', owner: 'u' };
    await connect(client, key);
    assert.equal(store.docs.size, 1);
    const saved = [...store.docs.values()][0];
    assert.equal(saved.version, 1);
    assert.equal(saved.instance_url, emu.instanceUrl);
    const page = await client.exportPage(key, 'contacts', { page: 1, limit: 10 });
    assert.equal(page.data.length, 10);
    await client.refresh(key);
    assert.equal([...store.docs.values()][0].version >= 2, true);
    assert.ok(store.calls.load > 0 && store.calls.save >= 2);
    await client.disconnect(key);
    assert.equal(store.docs.size, 0);
  });

  /** A client whose store is `store`, and a call that reaches store.load. */
  function failing(store, options) {
    const client = new sfcrm.Client(testConfig(emu), store, options);
    return client.exportPage({ account_id: 'x', owner: 'y' }, 'contacts', { page: 1 });
  }
  const base = { save: async () => 'saved', delete: async () => true };

  for (const [name, load, pattern] of [
    ['a rejected Promise', async () => Promise.reject(new Error('db down')), /load\(\) failed: db down/],
    ['a synchronous throw', () => { throw new Error('sync boom'); }, /sync boom/],
    ['a rejection with a non-Error', async () => Promise.reject('just a string'), /load\(\) failed/],
    ['a non-object document', async () => 42, /document object or null/],
    ['a document of the wrong shape', async () => ({ hello: 'world' }), /not a valid connection document/],
    ['the document of another key', async () => doc(1), /returned the document of another connection \(acc\/usr\)/],
  ]) {
    it(`load: ${name} is a StoreError`, async () => {
      await assert.rejects(failing({ ...base, load }), (e) => {
        assert.ok(e instanceof sfcrm.StoreError, `${e.constructor.name}: ${e.message}`);
        assert.equal(e.code, 'store');
        assert.match(e.message, pattern);
        return true;
      });
    });
  }

  it('save: a result other than saved/conflict is a StoreError', async () => {
    const client = new sfcrm.Client(testConfig(emu), { load: async () => null, save: async () => 'maybe', delete: async () => true });
    const { url } = await client.login({ account_id: 'a', owner: 'b' }, 'https://app.example.com/');
    const { authorize } = require('./support/emulator');
    const q = await authorize(url);
    await assert.rejects(client.callback(q), (e) => e instanceof sfcrm.StoreError && /saved' or 'conflict/.test(e.message));
  });

  it('delete: a non-boolean result is a StoreError', async () => {
    const store = new MapStore();
    store.delete = async () => 'yes';
    const client = new sfcrm.Client(testConfig(emu), store);
    const key = { account_id: 'd', owner: 'e' };
    await connect(client, key);
    await assert.rejects(client.disconnect(key), (e) => e instanceof sfcrm.StoreError && /boolean/.test(e.message));
  });

  it('a Promise that never settles is a StoreError after storeTimeoutMs', async () => {
    const t0 = Date.now();
    await assert.rejects(failing({ ...base, load: () => new Promise(() => {}) }, { storeTimeoutMs: 200 }), (e) => {
      assert.ok(e instanceof sfcrm.StoreError);
      assert.match(e.message, /did not settle within 200 ms/);
      return true;
    });
    assert.ok(Date.now() - t0 < 5000);
  });

  it('the raw native bridge survives non-Promise returns and sync throws', async () => {
    const cfg = new native.NativeConfig(testConfig(emu));
    const call = async (load) => {
      const h = native.NativeStore.fromCallbacks(load, async () => 'saved', async () => true, 1000);
      const c = new native.NativeClient(cfg, h);
      return c.exportPage('x', 'y', { type: 'contacts' }, 1, null, false);
    };
    for (const load of [() => 'not a promise', () => { throw new TypeError('raw throw'); }, async () => 17]) {
      await assert.rejects(call(load), (e) => {
        const c = sfcrm.convertError(e);
        assert.ok(c instanceof sfcrm.StoreError, `${c.constructor.name}: ${c.message}`);
        return true;
      });
    }
  });

  it('the document of another key is a StoreError on a direct native load too (the core rule)', async () => {
    const h = native.NativeStore.fromCallbacks(async () => JSON.stringify(doc(1)), async () => 'saved', async () => true, 1000);
    await assert.rejects(h.load('x', 'y'), (e) => {
      const c = sfcrm.convertError(e);
      assert.ok(c instanceof sfcrm.StoreError, `${c.constructor.name}: ${c.message}`);
      assert.match(c.message, /returned the document of another connection \(acc\/usr\)/);
      return true;
    });
    assert.equal(JSON.parse(await h.load('acc', 'usr')).account_id, 'acc');
  });

  it('connection keys follow the core rule: empty or blank parts are InvalidArgumentError', async () => {
    const client = new sfcrm.Client(testConfig(emu), new sfcrm.MemoryStore());
    for (const key of [{ account_id: '', owner: 'o' }, { account_id: 'a', owner: '  ' }, { account_id: '\t', owner: 'o' }]) {
      await assert.rejects(client.connectionInfo(key), sfcrm.InvalidArgumentError);
      await assert.rejects(new sfcrm.MemoryStore().load(key), sfcrm.InvalidArgumentError);
    }
    assert.equal(await client.connectionInfo({ account_id: ' a', owner: 'o ' }), null);
  });

  it('a store object without the methods is refused at construction', () => {
    assert.throws(() => new sfcrm.Client(testConfig(emu), { load() {} }), TypeError);
  });
});

describe('SealedStore', () => {
  let emu;
  before(async () => {
    emu = await startEmulator(['--contacts', '12']);
  });
  after(async () => {
    if (emu) await emu.stop();
  });
  const k1 = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
  const k2 = `k2:${Buffer.alloc(32, 2).toString('base64')}`;

  it('seals the tokens before they reach a JS store, opens them for the SDK, and rotates keys', async () => {
    const inner = new MapStore();
    const client = new sfcrm.Client(testConfig(emu), new sfcrm.SealedStore(inner, k1));
    const key = { account_id: 'sealed', owner: 'u' };
    await connect(client, key);
    const raw = [...inner.docs.values()][0];
    assert.ok(raw.token.access_token.startsWith('sfcrm-sealed:v1:'), 'sealed at rest');
    assert.ok(raw.token.refresh_token.startsWith('sfcrm-sealed:v1:'));
    assert.equal(raw.account_id, 'sealed', 'the key fields stay readable');
    assert.equal((await client.exportPage(key, 'contacts', { page: 1, limit: 5 })).data.length, 5);
    // a new primary key still opens documents sealed with the old one
    const rotated = new sfcrm.Client(testConfig(emu), new sfcrm.SealedStore(inner, `${k2},${k1}`));
    assert.equal((await rotated.exportPage(key, 'contacts', { page: 2, limit: 5 })).data.length, 5);
    // without the key, the document cannot be opened: a StoreError, not garbage tokens
    const wrong = new sfcrm.Client(testConfig(emu), new sfcrm.SealedStore(inner, k2));
    await assert.rejects(wrong.exportPage(key, 'contacts', { page: 1, limit: 5 }), sfcrm.StoreError);
  });

  it('malformed keys are a ConfigError without the key material', () => {
    assert.throws(() => new sfcrm.SealedStore(new sfcrm.MemoryStore(), 'k1:not-base64!!'), (e) => {
      assert.ok(e instanceof sfcrm.ConfigError);
      assert.ok(!e.message.includes('not-base64'));
      return true;
    });
    assert.throws(() => new sfcrm.SealedStore(new sfcrm.MemoryStore(), `k1:${Buffer.alloc(8).toString('base64')}`), sfcrm.ConfigError);
  });
});
