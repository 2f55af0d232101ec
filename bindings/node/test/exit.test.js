'use strict';
// The addon never keeps the event loop alive on its own: a process holding clients, JS-store
// bridges and finished streams exits by itself (Weak threadsafe functions).
const { it } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');

function runChild(source, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', source], {
      cwd: path.resolve(__dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SFCRM_TEST_PKG: path.resolve(__dirname, '..') },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not exit within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

it('a process with a client and a JS store exits on its own after real work', async () => {
  const src = `
    const sfcrm = require(process.env.SFCRM_TEST_PKG);
    const { startEmulator, testConfig, connect } = require(process.env.SFCRM_TEST_PKG + '/test/support/emulator');
    (async () => {
      const emu = await startEmulator(['--contacts', '20']);
      const docs = new Map();
      const store = {
        load: async (k) => docs.get(k.account_id + '/' + k.owner) ?? null,
        save: async (d, v) => { const c = docs.get(d.account_id + '/' + d.owner); if ((c ? c.version : null) !== v) return 'conflict'; docs.set(d.account_id + '/' + d.owner, d); return 'saved'; },
        delete: async (k) => docs.delete(k.account_id + '/' + k.owner),
      };
      const client = new sfcrm.Client(testConfig(emu), store);
      const key = { account_id: 'a', owner: 'b' };
      await connect(client, key);
      const page = await client.exportPage(key, 'contacts', { page: 1, limit: 5 });
      let n = 0;
      for await (const _ of client.export(key, 'contacts')) n++;
      const unfinished = client.export(key, 'contacts');
      await unfinished.next();
      globalThis.keep = { client, unfinished };
      await emu.stop();
      console.log('done', page.data.length, n);
    })().catch((e) => { console.error(e); process.exit(3); });
  `;
  const { code, out } = await runChild(src);
  assert.equal(code, 0, out);
  assert.match(out, /done 5 20/);
});

it('a store Promise that never settles does not hang the process when a timeout is set', async () => {
  const src = `
    const sfcrm = require(process.env.SFCRM_TEST_PKG);
    const client = new sfcrm.Client({ clientId: 'x', clientSecret: 'y', redirectUri: 'http://127.0.0.1/cb',
      stateSecret: 'z'.repeat(32), forwardOrigins: ['*'], loginUrl: 'http://127.0.0.1:9' },
      { load: () => new Promise(() => {}), save: async () => 'saved', delete: async () => true },
      { storeTimeoutMs: 300 });
    client.exportPage({ account_id: 'a', owner: 'b' }, 'contacts').then(
      () => console.log('resolved?'),
      (e) => console.log('rejected', e.constructor.name));
  `;
  const { code, out } = await runChild(src);
  assert.equal(code, 0, out);
  assert.match(out, /rejected StoreError/);
});
