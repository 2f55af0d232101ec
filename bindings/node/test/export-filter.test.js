'use strict';
// Exports with `where` + `params` (bind values) and `fields: '*'` (issue 11 items 5 and 6) against
// a private org emulator, and the soql.* helpers. Oracles: the org's own answers to hand-written
// SOQL, fetched with the stored token (not through the SDK).
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sfcrm = require('..');
const { soql } = sfcrm;
const { startEmulator, testConfig, connect } = require('./support/emulator');

describe('filtered and every-field exports against the org emulator', () => {
  let emu;
  let store;
  let client;
  let tmp;
  const key = { account_id: 'filter-1', owner: 'user-1' };

  /** The org's JSON answer for `p` (a path under the instance), with the stored token. */
  const raw = async (p) => {
    const doc = await store.load(key);
    const res = await fetch(`${doc.instance_url}${p}`, { headers: { authorization: `Bearer ${doc.token.access_token}` } });
    const body = await res.json();
    if (!res.ok) throw new Error(`oracle GET ${p}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  /** Every record of `q` as the org returns it (following nextRecordsUrl), children as sent. */
  const rawQuery = async (q) => {
    let body = await raw(`/services/data/v48.0/query?q=${encodeURIComponent(q)}`);
    const out = [...body.records];
    while (!body.done) {
      body = await raw(body.nextRecordsUrl);
      out.push(...body.records);
    }
    return out;
  };
  /** Records without Salesforce's per-record `attributes` (those carry no data). */
  const collect = async (iterable) => {
    const out = [];
    for await (const r of iterable) out.push(r);
    return out;
  };

  before(async () => {
    emu = await startEmulator(['--contacts', '600', '--deals', '300', '--notes', '20', '--wide-rows', '120']);
    store = new sfcrm.MemoryStore();
    client = new sfcrm.Client(testConfig(emu, { maxRetries: 0 }), store);
    await connect(client, key);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sfcrm-filter-'));
  });
  after(async () => {
    if (emu) await emu.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("an all-fields export of the wide object equals the emulator's data, record by record", async () => {
    const d = await raw('/services/data/v48.0/sobjects/Wide_Object__c/describe');
    const names = d.fields.map((f) => f.name);
    assert.ok(names.length > 400);
    // The oracle reads every field in one SELECT, allowed by a longer URI limit for the oracle only.
    await emu.control('max_uri_bytes', { bytes: 1 << 20 });
    const oracle = await rawQuery(`SELECT ${names.join(', ')} FROM Wide_Object__c ORDER BY Id`);
    await emu.control('max_uri_bytes', { bytes: 16384 });
    assert.equal(oracle.length, 120);

    await emu.resetCounters();
    const got = await collect(client.export(key, { sobject: 'Wide_Object__c', fields: '*' }));
    assert.equal((await emu.counters()).uri_too_long, 0);
    assert.deepEqual(got.map((r) => r.Id), oracle.map((r) => r.Id));
    const compound = new Map(d.fields.filter((f) => f.compoundFieldName).map((f) => [f.name, f.compoundFieldName]));
    for (let i = 0; i < got.length; i += 1) {
      const have = Object.keys(got[i]).filter((k) => k !== 'attributes');
      for (const k of have) assert.deepEqual(got[i][k], oracle[i][k], `${got[i].Id}.${k}`);
      // every field is there, except one side of each compound (never both)
      for (const name of names) {
        const parent = compound.get(name);
        const present = have.includes(name);
        if (parent !== undefined) {
          assert.notEqual(present, have.includes(parent), `${name} and ${parent}: exactly one side`);
        } else if (![...compound.values()].includes(name)) {
          assert.ok(present, `${name} missing from record ${i}`);
        }
      }
    }
  });

  it('query SELECT FIELDS(ALL) of the wide object equals the every-field export; * takes a WHERE; FIELDS(CUSTOM) has no LIMIT 200', async () => {
    const exported = await collect(client.export(key, { sobject: 'Wide_Object__c', fields: '*' }));
    await emu.resetCounters();
    const queried = await collect(client.query(key, 'SELECT FIELDS(ALL) FROM Wide_Object__c'));
    const c = await emu.counters();
    assert.equal(c.uri_too_long, 0);
    assert.ok(c.query >= 2, `read in field groups joined by Id: ${c.query} queries`);
    assert.deepEqual(queried, exported);
    assert.deepEqual(Object.keys(queried[0]), Object.keys(exported[0]), 'key order too');
    const names = exported.slice(0, 25).map((r) => r.Name);
    const some = await collect(client.query(key, 'SELECT * FROM Wide_Object__c WHERE Name IN :names', { params: { names } }));
    assert.deepEqual(some, exported.filter((r) => names.includes(r.Name)));
    const custom = await collect(client.query(key, 'SELECT Id, FIELDS(CUSTOM) FROM Wide_Object__c'));
    assert.equal(custom.length, 120);
    assert.ok(Object.keys(custom[0]).filter((k) => k !== 'attributes' && k !== 'Id').every((k) => /__[cs]$/.test(k)));
    const d = await raw('/services/data/v48.0/sobjects/Account/describe');
    const standard = d.fields.filter((f) => !f.custom && f.type !== 'address' && f.type !== 'location').map((f) => f.name);
    const [account] = await collect(client.query(key, 'SELECT FIELDS(STANDARD), (SELECT Id FROM Contacts) FROM Account LIMIT 1'));
    assert.deepEqual(Object.keys(account).filter((k) => k !== 'attributes'), [...standard, 'Contacts']);
  });

  it('export where/params: stream, page and file, also with since', async () => {
    const contacts = await rawQuery("SELECT Id, Name, Email FROM Contact WHERE Name LIKE 'A%' ORDER BY Id");
    assert.ok(contacts.length > 0);
    const type = { sobject: 'Contact', fields: ['Name', 'Email'] };
    const opts = { where: 'Name LIKE :p', params: { p: 'A%' } };
    const got = await collect(client.export(key, type, opts));
    assert.deepEqual(got.map((r) => r.Id), contacts.map((r) => r.Id));
    const page = await client.exportPage(key, type, { ...opts, page: 1, limit: 5 });
    assert.equal(page.pagination.total, contacts.length);
    // the page selects the spec's fields only (the seed's body), in Id order
    assert.deepEqual(page.data.map((r) => [r.Name, r.Email]), contacts.slice(0, 5).map((r) => [r.Name, r.Email]));
    const s = await client.exportToFile(key, type, path.join(tmp, 'a.ndjson'), { ...opts, format: 'ndjson' });
    assert.equal(s.records, contacts.length);
    // since keeps working with a filter: touch two matching contacts and one that does not match
    const other = (await rawQuery("SELECT Id FROM Contact WHERE NOT Name LIKE 'A%' ORDER BY Id LIMIT 1"))[0];
    const touched = await emu.control('records/touch', { sobject: 'Contact', ids: [contacts[0].Id, contacts[contacts.length - 1].Id, other.Id] });
    assert.equal(touched.ids.length, 3);
    const stamp = (await rawQuery(`SELECT SystemModstamp FROM Contact WHERE Id = '${contacts[0].Id}'`))[0].SystemModstamp;
    const since = await collect(client.export(key, type, { ...opts, since: stamp }));
    assert.deepEqual(since.map((r) => r.Id).sort(), [contacts[0].Id, contacts[contacts.length - 1].Id].sort());
    // a bound value stays a literal: quotes, backslashes, %, _, a newline and a DELETE attempt
    const hostile = `x\\' OR Name != '' OR Name LIKE '%_%\n'; DELETE FROM Contact --`;
    assert.deepEqual(await collect(client.export(key, type, { where: 'Name = :n OR Email = :n', params: { n: hostile } })), []);
    await assert.rejects(collect(client.export(key, type, { where: 'Name = :p', params: {} })), sfcrm.InvalidArgumentError);
    await assert.rejects(collect(client.export(key, type, { where: 'Name = null ORDER BY Id' })), sfcrm.InvalidArgumentError);
  });
});

describe('soql helpers (no org)', () => {
  it('typed values are checked by the core where they are written', () => {
    assert.deepEqual(soql.date('2024-01-31').toJSON(), { date: '2024-01-31' });
    assert.deepEqual(soql.date(new Date(Date.UTC(2024, 0, 31, 23, 59))).toJSON(), { date: '2024-01-31' });
    assert.deepEqual(soql.decimal('-12.50').toJSON(), { decimal: '-12.50' });
    assert.deepEqual(soql.decimal(10n ** 30n).toJSON(), { decimal: '1' + '0'.repeat(30) });
    assert.equal(String(soql.id('001000000000001AAA')), 'soql.id("001000000000001AAA")');
    assert.throws(() => soql.date('2024-13-45'), sfcrm.InvalidArgumentError);
    assert.throws(() => soql.datetime('yesterday'), sfcrm.InvalidArgumentError);
    assert.throws(() => soql.decimal('12,50'), (e) => {
      assert.ok(e instanceof sfcrm.InvalidArgumentError);
      assert.match(e.message, /^soql\.decimal\(\): invalid decimal "12,50"/);
      return true;
    });
    assert.throws(() => soql.decimal('1e5'), sfcrm.InvalidArgumentError);
    assert.throws(() => soql.decimal(12.5), sfcrm.InvalidArgumentError); // a number has lost digits already
    assert.throws(() => soql.id('not an id!'), sfcrm.InvalidArgumentError);
    assert.throws(() => soql.date(new Date('nope')), sfcrm.InvalidArgumentError);
  });

  it('params serialise to the core JSON form', () => {
    const { paramsJson } = require('../lib/soql');
    assert.equal(paramsJson(undefined), null);
    assert.deepEqual(
      JSON.parse(
        paramsJson({ s: 'a"b', n: 3, d: 1.25, b: true, z: null, big: 2n ** 62n, when: new Date(Date.UTC(2024, 0, 31, 9, 30)), day: soql.date('2024-01-31'), list: ['a', 1] }),
      ),
      { s: 'a"b', n: 3, d: 1.25, b: true, z: null, big: 2 ** 62, when: { datetime: '2024-01-31T09:30:00.000Z' }, day: { date: '2024-01-31' }, list: ['a', 1] },
    );
    assert.match(paramsJson({ big: 2n ** 62n }), /"big":4611686018427387904/);
    assert.equal(paramsJson({ tiny: 1e-7, neg: -0 }), '{"tiny":1e-7,"neg":0}'); // the core writes the exponent out
    assert.equal(paramsJson(new Map([['x', 1]])), '{"x":1}');
    assert.throws(() => paramsJson([1]), sfcrm.InvalidArgumentError);
    assert.throws(() => paramsJson({ f: () => 1 }), sfcrm.InvalidArgumentError);
    assert.throws(() => paramsJson({ f: Infinity }), sfcrm.InvalidArgumentError);
    assert.throws(() => paramsJson({ f: -(2n ** 63n) - 1n }), sfcrm.InvalidArgumentError);
    // A hole in a list is named like undefined (before: 'bind params are not valid JSON')
    // eslint-disable-next-line no-sparse-arrays
    assert.throws(() => paramsJson({ ids: ['a', , 'b'] }), /bind value :ids\[1\] is undefined/);
  });
});
