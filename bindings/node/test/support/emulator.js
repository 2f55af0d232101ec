'use strict';
// Test support: spawns the org emulator (target/debug/sf-org-emulator, built by
// scripts/test-node.sh) and drives its /__emulator/ controls. Shared by the addon's tests and the
// express-service tests.
const { spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');
const readline = require('node:readline');

const REPO = path.resolve(__dirname, '../../../..');
const BIN = process.env.SF_ORG_EMULATOR_BIN || path.join(REPO, 'target/debug/sf-org-emulator');

/**
 * Starts an emulator; resolves `{ loginUrl, instanceUrl, control(path, body?), counters(), stop() }`.
 * @param {string[]} [args] extra CLI arguments (`--contacts N`, `--rotation`, ...)
 */
async function startEmulator(args = []) {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run scripts/test-node.sh (it builds it)`);
  const child = spawn(BIN, ['--exit-on-stdin-close', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const urls = await new Promise((resolve, reject) => {
    const found = {};
    const rl = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('the emulator did not start within 20 s')), 20000);
    child.once('exit', (code) => reject(new Error(`the emulator exited early (${code})`)));
    rl.on('line', (line) => {
      const m = /^SF_ORG_EMULATOR_(LOGIN|INSTANCE)_URL=(.+)$/.exec(line.trim());
      if (m) found[m[1]] = m[2];
      if (found.LOGIN && found.INSTANCE) {
        clearTimeout(timer);
        resolve({ loginUrl: found.LOGIN, instanceUrl: found.INSTANCE });
      }
    });
  });
  child.stdout.resume();
  const control = async (p, body, method) => {
    const res = await fetch(`${urls.loginUrl}/__emulator/${p}`, {
      method: method || (body === undefined ? 'GET' : 'POST'),
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`emulator control ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    ...urls,
    control,
    counters: () => control('counters'),
    resetCounters: () => control('counters/reset', {}),
    expireSessions: () => control('sessions/expire', {}),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** Test configuration for a client against `emu`. */
function testConfig(emu, overrides = {}) {
  return {
    clientId: 'sfcrm-demo-client',
    clientSecret: 'sfcrm-demo-secret',
    redirectUri: 'http://127.0.0.1:9/v1/integrations/salesforce/auth/callback',
    loginUrl: emu.loginUrl,
    stateSecret: 'test-state-secret-of-at-least-32-bytes!!',
    forwardOrigins: ['https://app.example.com'],
    maxRetries: 1,
    initialBackoffMs: 10,
    ...overrides,
  };
}

/**
 * Follows Salesforce's authorize URL (the emulator auto-consents) and returns the callback's
 * query as an object (`code`, `state` or `error`, `error_description`).
 */
async function authorize(url) {
  const res = await fetch(url, { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
  const loc = new URL(res.headers.get('location'));
  return Object.fromEntries(loc.searchParams);
}

/** login + authorize + callback: a connected key. */
async function connect(client, key, forwardUrl = 'https://app.example.com/done') {
  const { url } = await client.login(key, forwardUrl);
  const query = await authorize(url);
  const r = await client.callback(query);
  if (r.outcome !== 'success') throw new Error(`callback failed: ${r.reason}`);
  return r;
}

module.exports = { startEmulator, testConfig, authorize, connect, REPO };
