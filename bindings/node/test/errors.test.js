'use strict';
// The error classes: one per core kind, all SfcrmError subclasses with the structured fields.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const sfcrm = require('..');
const errors = require('../lib/errors');

describe('error classes', () => {
  it('every core error kind has its own SfcrmError subclass', () => {
    assert.equal(sfcrm.errorKinds.length, 21);
    const seen = new Set();
    for (const [kind, code] of sfcrm.errorKinds) {
      const cls = errors.classForKind(kind);
      assert.ok(cls, `no class for ${kind}`);
      assert.ok(cls.prototype instanceof sfcrm.SfcrmError);
      assert.ok(!seen.has(cls), `${kind} shares a class`);
      seen.add(cls);
      assert.equal(sfcrm[cls.name], cls, `${cls.name} is exported`);
      const e = new cls('m', { kind, kindCode: code });
      assert.ok(e instanceof Error);
      assert.equal(e.name, cls.name);
      assert.equal(e.code, kind);
      assert.equal(e.kindCode, code);
    }
    assert.equal(Object.keys(errors.CLASS_NAMES).length, sfcrm.errorKinds.length, 'no class for a kind that does not exist');
  });

  it('native errors convert with status, errorCode, fields, oauthError, apiUsage', () => {
    const native = new Error('Field does not exist (HTTP 400, INVALID_FIELD)');
    native.cause = new Error(
      `${errors.DETAILS_PREFIX}${JSON.stringify({
        kind: 'api',
        kindCode: 301,
        status: 400,
        errorCode: 'INVALID_FIELD',
        fields: ['Foo__c'],
        oauthError: null,
        apiUsage: { used: 5, limit: 100 },
        retryAfterMs: 1500,
        rawBody: '[{"errorCode":"INVALID_FIELD"}]',
      })}`,
    );
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
