'use strict';
// Failure parity with the C and Python bindings: the scenarios of bindings/failure-scenarios.json
// against the org emulator, each surfacing the same kind (`code`), numeric code (`kindCode`), HTTP
// status, Salesforce errorCode, OAuth error/description and fields. The same run checks that no
// secret (access token, refresh token, authorization code, client secret, state secret, sealing
// key) appears in any error's message, stack, util.inspect output, JSON or own properties
// (`rawBody` included: it never holds a token).
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const sfcrm = require('..');
const { startEmulator, testConfig, authorize, connect } = require('./support/emulator');

const { scenarios: SCENARIOS } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'failure-scenarios.json'), 'utf8'));
const SEALING_KEY = Buffer.alloc(32, 7).toString('base64');
const FORWARD = 'https://app.example.com/done';
let seq = 0;
const freshKey = () => ({ account_id: `par-${++seq}`, owner: 'u' });

describe('failure parity (bindings/failure-scenarios.json)', () => {
  let emu;
  before(async () => {
    emu = await startEmulator();
  });
  after(async () => {
    if (emu) await emu.stop();
  });

  /** Produces the error of one scenario; records the secrets it handled. */
  async function run(name, secrets) {
    if (name === 'forward_url_not_allowed') {
      await new sfcrm.Client(testConfig(emu), new sfcrm.MemoryStore()).login(freshKey(), 'https://evil.example.com/x');
    }
    if (name === 'invalid_state') {
      const c = new sfcrm.Client(testConfig(emu), new sfcrm.MemoryStore());
      const q = await authorize((await c.login(freshKey(), FORWARD)).url);
      secrets.push(q.code);
      await c.callback({ ...q, state: `${q.state.slice(0, -2)}xx` });
    }
    const store = new sfcrm.SealedStore(new sfcrm.MemoryStore(), `k1:${SEALING_KEY}`);
    const scopes = name === 'session_expired_no_refresh_token' ? 'api id web' : 'api id web refresh_token';
    const c = new sfcrm.Client(testConfig(emu, { maxRetries: 0, scopes }), store);
    const key = freshKey();
    await connect(c, key);
    const { token } = await store.load(key);
    assert.ok(!token.access_token.startsWith('sfcrm-sealed:'), 'the sealed store opens the tokens');
    for (const t of [token.access_token, token.refresh_token]) if (t) secrets.push(t);
    if (name === 'session_expired_no_refresh_token') {
      assert.ok(!token.refresh_token);
      await emu.expireSessions();
      await c.exportPage(key, 'notes', { page: 1, limit: 3 });
    }
    if (name === 'refresh_token_revoked') {
      await emu.control('refresh_tokens/revoke', {});
      await c.refresh(key);
    }
    if (name === 'request_limit_exceeded') {
      await emu.control('faults', { endpoint: 'query', kind: 'request_limit', count: 5 });
      await c.exportPage(key, 'notes', { page: 1, limit: 3 });
    }
    if (name === 'invalid_field') {
      for await (const _ of c.export(key, { sobject: 'Contact', fields: ['Name', 'Bogus__c'] })) void _;
    }
    if (name === 'unknown_export_type') await c.exportPage(key, 'widgets', { page: 1, limit: 3 });
    throw new Error(`${name}: no error`);
  }

  for (const name of Object.keys(SCENARIOS).sort()) {
    it(`${name}: same kind, code, status, errorCode, OAuth details, fields; no secret in the error`, async () => {
      const want = SCENARIOS[name];
      const secrets = ['sfcrm-demo-secret', 'test-state-secret-of-at-least-32-bytes!!', SEALING_KEY];
      await emu.control('faults', undefined, 'DELETE');
      let e;
      try {
        await run(name, secrets);
      } catch (err) {
        e = err;
      } finally {
        await emu.control('faults', undefined, 'DELETE');
      }
      assert.ok(e instanceof sfcrm.SfcrmError, `${name}: ${e && e.stack}`);
      assert.deepStrictEqual(
        {
          kind: e.code,
          code: e.kindCode,
          status: e.status,
          error_code: e.errorCode,
          oauth_error: e.oauthError,
          oauth_error_description: e.oauthErrorDescription,
          fields: e.fields,
        },
        {
          kind: want.kind,
          code: want.code,
          status: want.status,
          error_code: want.error_code,
          oauth_error: want.oauth_error,
          oauth_error_description: want.oauth_error_description,
          fields: want.fields,
        },
      );
      assert.ok(e.message);
      if ('api_usage_limit' in want) assert.equal(e.apiUsage && e.apiUsage.limit, want.api_usage_limit);
      // the fixed secrets, plus the code (invalid_state) or at least the access token (connected ones)
      assert.ok(secrets.length >= (name === 'forward_url_not_allowed' ? 3 : 4));
      const own = Object.getOwnPropertyNames(e).map((p) => util.inspect(e[p], { depth: 5 }));
      const text = [e.message, e.stack, String(e), util.inspect(e, { depth: 5, showHidden: true }), JSON.stringify(e), ...own].join('\n');
      for (const s of secrets) assert.ok(!text.includes(s), `${name}: a secret appears in the error`);
    });
  }

  it('sealing key material never appears in a ConfigError (malformed, short key) or a StoreError (wrong key)', async () => {
    const right = Buffer.alloc(32, 'R').toString('base64');
    const wrong = Buffer.alloc(32, 'W').toString('base64');
    const short = Buffer.alloc(9, 'S').toString('base64');
    const show = (e) => [e.message, e.stack, util.inspect(e, { depth: 5, showHidden: true }), JSON.stringify(e)].join('\n');
    for (const [bad, secret] of [[`k1:${right.slice(0, -4)}!!!!`, right.slice(0, -4)], [`k1:${short}`, short]]) {
      assert.throws(() => new sfcrm.SealedStore(new sfcrm.MemoryStore(), bad), (e) => {
        assert.ok(e instanceof sfcrm.ConfigError, e.constructor.name);
        assert.ok(!show(e).includes(secret));
        return true;
      });
    }
    const inner = new sfcrm.MemoryStore();
    const key = freshKey();
    await connect(new sfcrm.Client(testConfig(emu), new sfcrm.SealedStore(inner, `k1:${right}`)), key);
    const other = new sfcrm.Client(testConfig(emu), new sfcrm.SealedStore(inner, `k1:${wrong}`));
    await assert.rejects(other.exportPage(key, 'notes', { page: 1, limit: 3 }), (e) => {
      assert.ok(e instanceof sfcrm.StoreError, e.constructor.name);
      assert.ok(!show(e).includes(right) && !show(e).includes(wrong));
      return true;
    });
  });

  it('the version is the Cargo workspace version in the addon and in package.json', () => {
    const cargo = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'Cargo.toml'), 'utf8');
    const section = cargo.split('[workspace.package]')[1].split('\n[')[0];
    const version = /^version\s*=\s*"([^"]+)"/m.exec(section)[1];
    assert.equal(sfcrm.version, version);
    assert.equal(require('../package.json').version, version);
  });
});
