'use strict';
// Client#apiGet (core Client::api_get_json; Python's Client.api_get) against a private org
// emulator: relative paths and absolute instance URLs, typed REST errors, one transparent refresh
// on an expired session, lossless numbers, and BR-12's `+` in a raw SOQL literal.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const sfcrm = require('..');
const { startEmulator, testConfig, connect } = require('./support/emulator');

describe('Client#apiGet against the org emulator', () => {
  let emu;
  let store;
  let client;
  const key = { account_id: 'api-1', owner: 'user-1' };

  /** The org's own response text for `path`, fetched with the stored token (the oracle). */
  const rawText = async (path) => {
    const doc = await store.load(key);
    const res = await fetch(`${doc.instance_url}${path}`, { headers: { authorization: `Bearer ${doc.token.access_token}` } });
    assert.equal(res.status, 200);
    return res.text();
  };

  before(async () => {
    emu = await startEmulator(['--contacts', '50', '--deals', '300', '--notes', '5']);
    store = new sfcrm.MemoryStore();
    client = new sfcrm.Client(testConfig(emu, { maxRetries: 0 }), store);
    await connect(client, key);
  });
  after(async () => {
    if (emu) await emu.stop();
  });

  it('a SOQL query path returns the parsed query body with its records', async () => {
    await emu.resetCounters();
    const body = await client.apiGet(key, '/services/data/v48.0/query?q=SELECT+Id+FROM+Contact+LIMIT+3');
    assert.equal(body.done, true);
    assert.equal(body.totalSize, 3);
    assert.equal(body.records.length, 3);
    for (const r of body.records) {
      assert.equal(r.attributes.type, 'Contact');
      assert.match(r.Id, /^003/);
    }
    assert.deepStrictEqual(body, JSON.parse(await rawText('/services/data/v48.0/query?q=SELECT+Id+FROM+Contact+LIMIT+3')));
    assert.equal((await emu.counters()).query, 2); // ours and the oracle's
    // the key's camelCase spelling is accepted as everywhere else
    const again = await client.apiGet({ accountId: 'api-1', owner: 'user-1' }, '/services/data/v48.0/query?q=SELECT+Id+FROM+Contact+LIMIT+3');
    assert.deepStrictEqual(again, body);
  });

  it('other resources: the versions list, a record by relative path and by absolute instance URL', async () => {
    const versions = await client.apiGet(key, '/services/data');
    assert.ok(Array.isArray(versions) && versions.length > 0);
    assert.ok(versions.some((v) => v.version === '48.0' && v.url === '/services/data/v48.0'), JSON.stringify(versions));
    const first = (await client.apiGet(key, '/services/data/v48.0/query?q=SELECT+Id,+Name+FROM+Contact+LIMIT+1')).records[0];
    const byPath = await client.apiGet(key, first.attributes.url);
    assert.equal(byPath.Id, first.Id);
    assert.equal(byPath.Name, first.Name);
    assert.deepStrictEqual(byPath, JSON.parse(await rawText(first.attributes.url)));
    const { instanceUrl } = await client.connectionInfo(key);
    assert.deepStrictEqual(await client.apiGet(key, `${instanceUrl}${first.attributes.url}`), byPath);
  });

  it("an unknown path is ApiError with status 404 and Salesforce's errorCode", async () => {
    await assert.rejects(client.apiGet(key, '/services/data/v48.0/no-such-resource'), (e) => {
      assert.ok(e instanceof sfcrm.ApiError, e.constructor.name);
      assert.ok(e instanceof sfcrm.SfcrmError);
      assert.equal(e.code, 'api');
      assert.equal(e.status, 404);
      assert.equal(e.errorCode, 'NOT_FOUND');
      assert.match(e.rawBody, /"errorCode":"NOT_FOUND"/);
      assert.ok(!e.rawBody.includes('Bearer'));
      return true;
    });
    // an unknown record Id under a real route: the same typed 404
    await assert.rejects(client.apiGet(key, '/services/data/v48.0/sobjects/Contact/003000000000000AAA'), (e) => {
      assert.ok(e instanceof sfcrm.ApiError, e.constructor.name);
      assert.equal(e.status, 404);
      assert.equal(e.errorCode, 'NOT_FOUND');
      return true;
    });
  });

  it('argument and connection errors are typed; a foreign host gets no request', async () => {
    await assert.rejects(client.apiGet({ account_id: 'nobody', owner: 'x' }, '/services/data'), sfcrm.NotConnectedError);
    await assert.rejects(client.apiGet(key, ''), sfcrm.InvalidArgumentError);
    await emu.resetCounters();
    await assert.rejects(client.apiGet(key, 'https://evil.example.net/services/data/v48.0/limits'), (e) => {
      assert.ok(e instanceof sfcrm.InvalidArgumentError, e.constructor.name);
      assert.match(e.message, /outside the allowed instance hosts/);
      return true;
    });
    await assert.rejects(client.apiGet(key, 42), TypeError);
    await assert.rejects(client.apiGet({}, '/services/data'), TypeError);
  });

  it('an expired session is refreshed once and the GET retried transparently', async () => {
    const before = (await store.load(key)).token.access_token;
    await emu.expireSessions();
    await emu.resetCounters();
    const calls = client.apiCalls();
    const body = await client.apiGet(key, '/services/data/v48.0/query?q=SELECT+Id+FROM+Contact+LIMIT+3');
    assert.equal(body.records.length, 3);
    const c = await emu.counters();
    assert.equal(c.token_refresh_token, 1);
    assert.equal(c.query, 2); // the 401 and the retry
    const after = client.apiCalls();
    assert.equal(after.refreshes - calls.refreshes, 1);
    assert.equal(after.apiRequests - calls.apiRequests, 2);
    assert.equal(after.tokenRequests - calls.tokenRequests, 1);
    assert.notEqual((await store.load(key)).token.access_token, before);
  });

  it('lossless keeps every number as its exact text; by default they are JS numbers', async () => {
    const path = `/services/data/v48.0/query?q=${encodeURIComponent('SELECT Id, Amount FROM Opportunity ORDER BY Id LIMIT 200')}`;
    const plain = await client.apiGet(key, path);
    const exact = await client.apiGet(key, path, { lossless: true });
    const raw = [...(await rawText(path)).matchAll(/"Amount":(null|-?[0-9][0-9.eE+-]*)/g)].map((m) => m[1]);
    assert.equal(raw.length, 200);
    assert.ok(raw.some((t) => t.includes('.')), 'some amounts have decimals');
    assert.deepStrictEqual(exact.records.map((r) => (r.Amount === null ? 'null' : r.Amount)), raw);
    assert.equal(typeof plain.totalSize, 'number');
    assert.equal(exact.totalSize, String(plain.totalSize));
    for (let i = 0; i < 200; i++) {
      const a = plain.records[i].Amount;
      if (raw[i] === 'null') assert.equal(a, null);
      else {
        assert.equal(typeof a, 'number');
        assert.equal(a, JSON.parse(raw[i]));
        assert.equal(typeof exact.records[i].Amount, 'string');
      }
      assert.equal(exact.records[i].Id, plain.records[i].Id);
    }
  });

  it('BR-12: a raw SOQL with a + in a datetime literal, percent-encoded, returns the matching record', async () => {
    const first = (await client.apiGet(key, '/services/data/v48.0/query?q=SELECT+Id+FROM+Contact+ORDER+BY+Id+LIMIT+1')).records[0];
    const soql = `SELECT Id FROM Contact WHERE Id = '${first.Id}' AND SystemModstamp >= 2000-01-01T00:00:00+00:00`;
    const body = await client.apiGet(key, `/services/data/v48.0/query?q=${encodeURIComponent(soql)}`);
    assert.equal(body.totalSize, 1);
    assert.deepStrictEqual(body.records.map((r) => r.Id), [first.Id]);
    // the path is sent as given: an unencoded + reaches Salesforce as a space, a malformed query
    const bare = `/services/data/v48.0/query?q=${encodeURIComponent(soql).replace('%2B', '+')}`;
    await assert.rejects(client.apiGet(key, bare), (e) => {
      assert.ok(e instanceof sfcrm.ApiError, e.constructor.name);
      assert.equal(e.status, 400);
      assert.equal(e.errorCode, 'MALFORMED_QUERY');
      return true;
    });
  });
});
