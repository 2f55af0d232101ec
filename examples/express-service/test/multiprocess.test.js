'use strict';
// Two service processes sharing one store directory (FileStore): 20 concurrent exports split
// across them, on an expired session, cause exactly one refresh at Salesforce (seed defect D7,
// across processes through the store's compare-and-swap and refresh lease).
const { it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const jwt = require('jsonwebtoken');
const { startEmulator, authorize } = require('../../../bindings/node/test/support/emulator');

const SERVER = path.resolve(__dirname, '../src/server.js');

/** Runs src/server.js with `env` on a free port; resolves its origin and a stop function. */
function runServer(env) {
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the service did not start')), 20000);
    child.once('exit', (c) => reject(new Error(`the service exited (${c})`)));
    readline.createInterface({ input: child.stdout }).on('line', (l) => {
      const m = /on (http:\/\/127\.0\.0\.1:\d+) \(store: (\w+)\)/.exec(l);
      if (m) {
        clearTimeout(timer);
        resolve({
          origin: m[1],
          store: m[2],
          stop: () =>
            new Promise((r) => {
              if (child.exitCode !== null) return r();
              child.once('exit', r);
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), 3000).unref();
            }),
        });
      }
    });
  });
}

it('two processes sharing a FileStore refresh an expired session exactly once', async () => {
  const emu = await startEmulator(['--contacts', '500']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfcrm-mp-'));
  const servers = [];
  try {
    const env = {
      PLATFORM_JWT_KEY: 'mp-key',
      SFCRM_STORE_DIR: dir,
      SALESFORCE_CLIENT_ID: 'sfcrm-demo-client',
      SALESFORCE_SECRET_ID: 'sfcrm-demo-secret',
      SALESFORCE_REDIRECT_URL: 'http://127.0.0.1:9/v1/integrations/salesforce/auth/callback',
      SALESFORCE_LOGIN_URL: emu.loginUrl,
      SFCRM_STATE_SECRET: 'multi-process-state-secret-32-bytes!!',
      SFCRM_FORWARD_ORIGINS: 'https://app.example.com',
    };
    servers.push(await runServer(env), await runServer(env));
    assert.deepEqual(servers.map((s) => s.store), ['file', 'file']);
    const auth = { authorization: `Bearer ${jwt.sign({ account_id: 'mp', uid: 'u' }, 'mp-key', { algorithm: 'HS256' })}` };
    const base = (s) => `${s.origin}/v1/integrations/salesforce`;
    // connect through process A (the callback's host does not matter: the code carries the state)
    const login = await fetch(`${base(servers[0])}/auth/login?forward_url=${encodeURIComponent('https://app.example.com/')}`, { headers: auth, redirect: 'manual' });
    const query = await authorize(login.headers.get('location'));
    const cb = await fetch(`${base(servers[1])}/auth/callback?${new URLSearchParams(query)}`, { redirect: 'manual' });
    assert.equal(cb.headers.get('location'), 'https://app.example.com/?status=success&integration=salesforce');
    await emu.expireSessions();
    await emu.resetCounters();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`${base(servers[i % 2])}/export/contacts?page=${(i % 4) + 1}&limit=50`, { headers: auth }).then(async (r) => [r.status, await r.json()]),
      ),
    );
    for (const [status, body] of results) {
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.data.length, 50);
    }
    assert.equal((await emu.counters()).token_refresh_token, 1);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
