'use strict';
// Client#describe / describeGlobal (core Client::describe / describe_global; issue 11 item 4)
// against a private org emulator. Oracle: the org's own describe bodies fetched with the stored
// token; calls counted by the emulator and by apiCalls().
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const sfcrm = require('..');
const { startEmulator, testConfig, connect } = require('./support/emulator');

describe('Client#describe and describeGlobal against the org emulator', () => {
  let emu;
  let store;
  let client;
  const key = { account_id: 'describe-1', owner: 'user-1' };

  const raw = async (p) => {
    const doc = await store.load(key);
    const res = await fetch(`${doc.instance_url}${p}`, { headers: { authorization: `Bearer ${doc.token.access_token}` } });
    assert.equal(res.status, 200);
    return res.json();
  };

  before(async () => {
    emu = await startEmulator(['--contacts', '20', '--deals', '20', '--notes', '5', '--wide-rows', '5']);
    store = new sfcrm.MemoryStore();
    client = new sfcrm.Client(testConfig(emu, { maxRetries: 0 }), store);
    await connect(client, key);
  });
  after(async () => {
    if (emu) await emu.stop();
  });

  it("describe resolves Salesforce's body, parsed, and caches it (one API call)", async () => {
    await emu.resetCounters();
    const calls = client.apiCalls();
    const d = await client.describe(key, 'Account');
    assert.deepEqual(d, await raw('/services/data/v48.0/sobjects/Account/describe'));
    assert.equal(d.name, 'Account');
    const field = (n) => d.fields.find((f) => f.name === n);
    assert.equal(field('BillingStreet').compoundFieldName, 'BillingAddress');
    assert.equal(field('BillingAddress').type, 'address');
    assert.deepEqual(field('OwnerId').referenceTo, ['User']);
    assert.equal(field('OwnerId').relationshipName, 'Owner');
    for (const k of ['name', 'type', 'label', 'nillable', 'length', 'precision', 'scale']) assert.ok(k in field('Name'), k);
    assert.ok(d.childRelationships.some((r) => r.relationshipName === 'Contacts'));
    const again = await client.describe(key, 'account'); // cached, ignoring case
    assert.deepEqual(again, d);
    assert.equal((await emu.counters()).describe, 2); // ours once + the oracle's
    assert.equal(client.apiCalls().describe - calls.describe, 1);
  });

  it('describeGlobal lists the sObjects, the wide custom object included', async () => {
    const g = await client.describeGlobal(key);
    assert.deepEqual(g, await raw('/services/data/v48.0/sobjects'));
    const wide = g.sobjects.find((s) => s.name === 'Wide_Object__c');
    assert.ok(wide);
    assert.equal(wide.custom, true);
    assert.equal(wide.queryable, true);
  });

  it('a bad name is InvalidIdentifier without a request; an unknown sObject is ApiError NOT_FOUND', async () => {
    await emu.resetCounters();
    await assert.rejects(client.describe(key, 'Not a name'), sfcrm.InvalidIdentifier);
    assert.equal((await emu.counters()).describe, 0);
    await assert.rejects(client.describe(key, 'NoSuchThing__c'), (e) => {
      assert.ok(e instanceof sfcrm.ApiError, String(e));
      assert.equal(e.code, 'api');
      assert.equal(e.status, 404);
      assert.equal(e.errorCode, 'NOT_FOUND');
      return true;
    });
  });

  it('describeCacheTtlMs: 0 turns the cache off (every describe is a call)', async () => {
    const uncached = new sfcrm.Client(testConfig(emu, { maxRetries: 0, describeCacheTtlMs: 0 }), store);
    await emu.resetCounters();
    await uncached.describe(key, 'Contact');
    await uncached.describe(key, 'Contact');
    assert.equal((await emu.counters()).describe, 2);
    assert.equal(uncached.apiCalls().describe, 2);
    assert.throws(() => new sfcrm.Config(testConfig(emu, { maxQueryUriBytes: 10 })), (e) => {
      assert.ok(e instanceof sfcrm.ConfigError, String(e));
      assert.match(e.message, /max_query_uri_bytes|maxQueryUriBytes/);
      return true;
    });
  });
});
