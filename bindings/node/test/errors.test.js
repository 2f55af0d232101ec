'use strict';
// The error classes: one per core kind, all SfcrmError subclasses with the structured fields.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const sfcrm = require('..');
const errors = require('../lib/errors');

describe('error classes', () => {
  it('every core error kind has its own SfcrmError subclass, named as the core names it', () => {
    assert.equal(sfcrm.errorKinds.length, 21);
    const seen = new Set();
    for (const [kind, code, className] of sfcrm.errorKinds) {
      const cls = errors.classForKind(kind);
      assert.ok(cls, `no class for ${kind}`);
      assert.ok(cls.prototype instanceof sfcrm.SfcrmError);
      assert.ok(!seen.has(cls), `${kind} shares a class`);
      seen.add(cls);
      // The same name as Python's class of this kind (ErrorKind::class_name).
      assert.equal(cls.name, className);
      assert.equal(errors.CLASS_NAMES[kind], className);
      assert.equal(sfcrm[className], cls, `${className} is exported`);
      const e = new cls('m', { kind, kindCode: code });
      assert.ok(e instanceof Error);
      assert.equal(e.name, className);
      assert.equal(e.code, kind);
      assert.equal(e.kindCode, code);
    }
    assert.equal(Object.keys(errors.CLASS_NAMES).length, sfcrm.errorKinds.length, 'no class for a kind that does not exist');
  });

  it('the class names every binding uses (RequestTimeout, ExportWriteError, Cancelled, ...)', () => {
    const names = Object.fromEntries(sfcrm.errorKinds.map(([kind, , className]) => [kind, className]));
    assert.equal(names.timeout, 'RequestTimeout');
    assert.equal(names.io, 'ExportWriteError');
    assert.equal(names.cancelled, 'Cancelled');
    assert.equal(names.reconnect_required, 'ReconnectRequired');
    assert.equal(names.invalid_argument, 'InvalidArgumentError');
  });

  it('the old class names are still importable: deprecated aliases of the same classes', async () => {
    const esm = await import('sfcrm');
    const old = {
      MissingForwardUrlError: 'MissingForwardUrl',
      ForwardUrlNotAllowedError: 'ForwardUrlNotAllowed',
      UnknownExportTypeError: 'UnknownExportType',
      InvalidIdentifierError: 'InvalidIdentifier',
      InvalidStateError: 'InvalidState',
      NotConnectedError: 'NotConnected',
      ReconnectRequiredError: 'ReconnectRequired',
      SessionExpiredError: 'SessionExpired',
      RateLimitedError: 'RateLimited',
      TimeoutError: 'RequestTimeout',
      StoreConflictError: 'StoreConflict',
      IoError: 'ExportWriteError',
      CancelledError: 'Cancelled',
    };
    assert.deepEqual(errors.DEPRECATED_NAMES, old);
    for (const [oldName, name] of Object.entries(old)) {
      assert.ok(sfcrm[name], name);
      assert.equal(sfcrm[oldName], sfcrm[name], `${oldName} is ${name}`);
      assert.equal(errors[oldName], sfcrm[name]);
      assert.equal(esm[oldName], sfcrm[name], `ESM ${oldName}`);
      assert.equal(esm[name], sfcrm[name], `ESM ${name}`);
    }
    const e = new sfcrm.TimeoutError('slow', { kind: 'timeout', kindCode: 401 });
    assert.ok(e instanceof sfcrm.RequestTimeout && e.name === 'RequestTimeout');
  });

  it('native errors convert from their structured details: status, errorCode, fields, apiUsage, rawBody', () => {
    const native = new Error('Field does not exist (HTTP 400, INVALID_FIELD)');
    native.code = 'api';
    native.sfcrmDetails = {
      kind: 'api',
      kindCode: 301,
      className: 'ApiError',
      status: 400,
      errorCode: 'INVALID_FIELD',
      fields: ['Foo__c'],
      oauthError: null,
      apiUsage: { used: 5, limit: 100 },
      retryAfterMs: 1500,
      rawBody: '[{"errorCode":"INVALID_FIELD"}]',
    };
    const e = sfcrm.convertError(native);
    assert.ok(e instanceof sfcrm.ApiError);
    assert.equal(e.message, native.message);
    assert.equal(e.status, 400);
    assert.equal(e.errorCode, 'INVALID_FIELD');
    assert.deepEqual(e.fields, ['Foo__c']);
    assert.deepEqual(e.apiUsage, { used: 5, limit: 100 });
    assert.equal(e.retryAfterMs, 1500);
    assert.equal(e.rawBody, '[{"errorCode":"INVALID_FIELD"}]');
    assert.ok(!Object.keys(e).includes('rawBody'), 'rawBody is not enumerable (kept out of logs)');
  });

  it('the addon throws and rejects Error objects carrying the details as data (no text to parse)', async () => {
    const addon = require('../index.js');
    const check = (e, kind, code) => {
      assert.ok(e instanceof Error);
      assert.equal(e.code, kind);
      const d = e.sfcrmDetails;
      assert.equal(typeof d, 'object');
      assert.equal(d.kind, kind);
      assert.equal(d.kindCode, code);
      assert.equal(d.className, sfcrm.errorKinds.find(([k]) => k === kind)[2]);
      assert.equal(typeof d.message, 'string');
      assert.ok(e.message.startsWith(d.message));
      assert.equal(d.status, null);
      assert.equal(d.errorCode, null);
      assert.deepEqual(d.fields, []);
      assert.equal(d.apiUsage, null);
      assert.equal(d.retryAfterMs, null);
      assert.equal(d.rawBody, null);
      assert.ok(!/sfcrm-error-details/.test(JSON.stringify(e)) && e.cause === undefined);
      return true;
    };
    // Synchronous: thrown.
    assert.throws(() => addon.paginator(-1, null, null), (e) => check(e, 'invalid_argument', 100));
    assert.throws(() => addon.NativeConfig.fromEnv({}), (e) => check(e, 'config', 101));
    // Asynchronous: rejected (built when the Promise settles on the JavaScript thread).
    const store = addon.NativeStore.memory();
    await assert.rejects(store.load(' ', 'owner'), (e) => check(e, 'invalid_argument', 100));
    await assert.rejects(store.save('{"not":"a document"}', null), (e) => check(e, 'store', 500));
    // And converted to the kind's class.
    await assert.rejects(new sfcrm.MemoryStore().load({ account_id: 'a', owner: '' }), (e) => {
      assert.ok(e instanceof sfcrm.InvalidArgumentError, e.constructor.name);
      assert.equal(e.code, 'invalid_argument');
      assert.equal(e.kindCode, 100);
      return true;
    });
  });

  it('errors from the addon arrive typed (ConfigError names the variable)', () => {
    assert.throws(() => sfcrm.Config.fromEnv({ SALESFORCE_CLIENT_ID: 'x' }), (e) => {
      assert.ok(e instanceof sfcrm.ConfigError);
      assert.match(e.message, /SALESFORCE_SECRET_ID is not set/);
      return true;
    });
    assert.throws(
      () =>
        new sfcrm.Config({
          clientId: 'x',
          clientSecret: 'y',
          redirectUri: 'http://127.0.0.1/cb',
          stateSecret: 'short',
          forwardOrigins: ['*'],
        }),
      (e) => e instanceof sfcrm.ConfigError && /state_secret/.test(e.message),
    );
  });

  it('a duration beyond the core maximum (30 days) is a ConfigError naming it, not a panic', () => {
    const base = {
      clientId: 'x',
      clientSecret: 'y',
      redirectUri: 'http://127.0.0.1/cb',
      stateSecret: 's'.repeat(40),
      forwardOrigins: ['*'],
    };
    for (const [option, value, name] of [
      ['requestTimeoutMs', 4294967295, /request_timeout/],
      ['refreshWaitMs', 4294967295, /refresh_wait/],
      ['stateTtlSecs', 4294967295, /state_ttl/],
    ]) {
      assert.throws(
        () => new sfcrm.Config({ ...base, [option]: value }),
        (e) => e instanceof sfcrm.ConfigError && name.test(e.message),
        option,
      );
    }
  });

  it('Config.fromEnv reads the seed variable names; secrets are not readable back', () => {
    const c = sfcrm.Config.fromEnv({
      SALESFORCE_CLIENT_ID: 'cid',
      SALESFORCE_SECRET_ID: 'csecret',
      SALESFORCE_REDIRECT_URL: 'https://svc.example.com/v1/integrations/salesforce/auth/callback',
      SFCRM_STATE_SECRET: 's'.repeat(40),
      SFCRM_FORWARD_ORIGINS: 'https://app.example.com',
    });
    assert.equal(c.clientId, 'cid');
    assert.equal(c.loginUrl, 'https://login.salesforce.com');
    assert.ok(!JSON.stringify(c).includes('csecret'));
  });

  it('Config.fromEnv() without an argument reads process.env', () => {
    const names = {
      SALESFORCE_CLIENT_ID: 'env-cid',
      SALESFORCE_SECRET_ID: 'env-secret',
      SALESFORCE_REDIRECT_URL: 'https://svc.example.com/cb',
      SFCRM_STATE_SECRET: 'e'.repeat(40),
      SFCRM_FORWARD_ORIGINS: '*',
      SALESFORCE_LOGIN_URL: 'https://test.salesforce.com',
    };
    const saved = {};
    for (const [k, v] of Object.entries(names)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    try {
      const c = sfcrm.Config.fromEnv();
      assert.equal(c.clientId, 'env-cid');
      assert.equal(c.loginUrl, 'https://test.salesforce.com');
    } finally {
      for (const k of Object.keys(names)) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it('the npm package and the Rust crate report the same version', () => {
    assert.equal(require('../package.json').version, sfcrm.version);
  });

  it('unrelated errors pass through unchanged', () => {
    const e = new RangeError('x');
    assert.equal(sfcrm.convertError(e), e);
  });
});
