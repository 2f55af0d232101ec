'use strict';
// Client#query / queryOne / queryToFile with bind values and child-relationship cursors
// (issue 11 items 1-3) against a private org emulator. Oracles: the org's own answers to
// hand-written SOQL, fetched with the stored token (not through the SDK).
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sfcrm = require('..');
const { soql } = sfcrm;
const { startEmulator, testConfig, connect } = require('./support/emulator');

describe('queries, bind values and child cursors against the org emulator', () => {
  let emu;
  let store;
  let client;
  let tmp;
  const key = { account_id: 'query-1', owner: 'user-1' };

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
    emu = await startEmulator(['--contacts', '600', '--deals', '300', '--notes', '20', '--wide-rows', '5']);
    store = new sfcrm.MemoryStore();
    client = new sfcrm.Client(testConfig(emu, { maxRetries: 0 }), store);
    await connect(client, key);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sfcrm-query-'));
  });
  after(async () => {
    if (emu) await emu.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a filtered query with bind values: quotes, backslashes, %, _, newlines and a DELETE attempt stay literals', async () => {
    // Real values that need escaping: a last name with an apostrophe, a multi-line street.
    const contacts = await rawQuery('SELECT Id, LastName FROM Contact ORDER BY Id');
    const quoted = contacts.find((c) => typeof c.LastName === 'string' && c.LastName.includes("'"));
    assert.ok(quoted, 'the emulator has a last name with an apostrophe');
    const accounts = await rawQuery('SELECT Id, BillingStreet FROM Account ORDER BY Id');
    const multiLine = accounts.find((a) => typeof a.BillingStreet === 'string' && a.BillingStreet.includes('\n'));
    assert.ok(multiLine, 'the emulator has a multi-line street');

    const hostile = `x\\' OR LastName != '' OR Name LIKE '%_%\n'; DELETE FROM Contact WHERE Id != null --\\`;
    await emu.resetCounters();
    const got = await collect(
      client.query(key, 'SELECT Id, LastName FROM Contact WHERE (LastName = :name OR LastName = :hostile) AND IsDeleted = :deleted AND CreatedDate < :before', {
        params: { name: quoted.LastName, hostile, deleted: false, before: new Date('2100-01-01T00:00:00Z') },
      }),
    );
    const expected = contacts.filter((c) => c.LastName === quoted.LastName);
    assert.ok(expected.length >= 1);
    assert.deepEqual(
      got.map((r) => [r.Id, r.LastName]).sort(),
      expected.map((r) => [r.Id, r.LastName]).sort(),
    );
    assert.equal((await emu.counters()).query, 1);

    // The hostile value alone matches nothing (as a literal) and is not an error.
    assert.deepEqual(await collect(client.query(key, 'SELECT Id FROM Contact WHERE LastName = :v', { params: { v: hostile } })), []);
    assert.equal(await client.queryOne(key, 'SELECT Id FROM Account WHERE Name = :v', { params: { v: hostile } }), null);

    // A newline inside a value is escaped and still matches the record that has it.
    const street = await collect(client.query(key, 'SELECT Id FROM Account WHERE BillingStreet = :s', { params: { s: multiLine.BillingStreet } }));
    assert.deepEqual(street.map((r) => r.Id), accounts.filter((a) => a.BillingStreet === multiLine.BillingStreet).map((a) => a.Id));

    // Lists, dates, decimals and integers against hand-written SOQL (the org's own answer).
    const opps = await rawQuery('SELECT Id FROM Opportunity ORDER BY Id LIMIT 40');
    const ids = opps.map((o) => o.Id);
    const q = 'SELECT Id, Amount, CloseDate FROM Opportunity WHERE Id IN :ids AND CloseDate >= :from AND Amount > :min ORDER BY Id LIMIT :n';
    const bound = await collect(client.query(key, q, { params: { ids, from: soql.date('2020-01-01'), min: soql.decimal('12.50'), n: 25 } }));
    const oracle = await rawQuery(
      `SELECT Id, Amount, CloseDate FROM Opportunity WHERE Id IN ('${ids.join("','")}') AND CloseDate >= 2020-01-01 AND Amount > 12.50 ORDER BY Id LIMIT 25`,
    );
    assert.ok(oracle.length > 0);
    assert.deepEqual(bound, oracle);
    // a non-integer number binds as a decimal, a bigint as an integer
    const viaNumber = await collect(client.query(key, q, { params: { ids, from: soql.date('2020-01-01'), min: 12.5, n: 25n } }));
    assert.deepEqual(viaNumber, oracle);
    // a number whose shortest text has an exponent is the same decimal (the core writes it out)
    const tiny = await collect(client.query(key, 'SELECT Id FROM Opportunity WHERE Id IN :ids AND Amount > :min ORDER BY Id', { params: { ids, min: 1e-7 } }));
    assert.deepEqual(tiny, await rawQuery(`SELECT Id FROM Opportunity WHERE Id IN ('${ids.join("','")}') AND Amount > 0.0000001 ORDER BY Id`));
  });

  it('bind names: a missing or unused name and an undefined value are typed errors before any request', async () => {
    await emu.resetCounters();
    await assert.rejects(collect(client.query(key, 'SELECT Id FROM Contact WHERE LastName = :name', { params: {} })), (e) => {
      assert.ok(e instanceof sfcrm.InvalidArgumentError, String(e));
      assert.equal(e.code, 'invalid_argument');
      assert.match(e.message, /name/);
      return true;
    });
    await assert.rejects(collect(client.query(key, 'SELECT Id FROM Contact', { params: { unused: 1 } })), sfcrm.InvalidArgumentError);
    await assert.rejects(collect(client.query(key, 'SELECT Id FROM Contact WHERE LastName = :v', { params: { v: undefined } })), (e) => {
      assert.ok(e instanceof sfcrm.InvalidArgumentError);
      assert.match(e.message, /:v is undefined/);
      return true;
    });
    await assert.rejects(client.queryOne(key, 'SELECT Id FROM Contact WHERE Amount = :v', { params: { v: NaN } }), sfcrm.InvalidArgumentError);
    await assert.rejects(client.queryOne(key, 'SELECT Id FROM Contact WHERE Amount = :v', { params: { v: 2n ** 63n } }), sfcrm.InvalidArgumentError);
    assert.throws(() => soql.date('2024-13-45'), sfcrm.InvalidArgumentError);
    assert.throws(() => soql.decimal('12,50'), sfcrm.InvalidArgumentError);
    assert.throws(() => soql.id('not an id!'), sfcrm.InvalidArgumentError);
    assert.throws(() => soql.date(new Date('nope')), sfcrm.InvalidArgumentError);
    await assert.rejects(collect(client.query(key, 'SELECT Id FROM Contact', { children: 'all' })), sfcrm.InvalidArgumentError);
    assert.equal((await emu.counters()).query, 0);
  });

  it('a parent with 3 children whose child cursor needs a second call arrives complete in 2 calls', async () => {
    const rows = await rawQuery('SELECT AccountId FROM Contact WHERE AccountId != null ORDER BY AccountId');
    const counts = new Map();
    for (const r of rows) counts.set(r.AccountId, (counts.get(r.AccountId) ?? 0) + 1);
    const parent = [...counts].find(([, n]) => n >= 3)[0];
    await emu.control('child_batch_size', { size: 2 });
    try {
      const q = 'SELECT Id, Name, (SELECT Id, LastName FROM Contacts ORDER BY Id LIMIT 3) FROM Account WHERE Id = :id';
      const before = client.apiCalls();
      await emu.resetCounters();
      const got = await collect(client.query(key, q, { params: { id: parent } }));
      const after = client.apiCalls();
      assert.equal(got.length, 1);
      const children = got[0].Contacts;
      assert.equal(children.done, true);
      assert.equal(children.totalSize, 3);
      assert.equal(children.records.length, 3);
      assert.equal(children.nextRecordsUrl, undefined);
      const c = await emu.counters();
      assert.equal(c.query, 1);
      assert.equal(c.query_more, 1);
      assert.equal(after.query - before.query, 1);
      assert.equal(after.queryMore - before.queryMore, 1);
      assert.equal(after.apiRequests - before.apiRequests, 2);

      // the oracle: the same query by hand, following the child's own nextRecordsUrl
      const [sent] = await rawQuery(`SELECT Id, Name, (SELECT Id, LastName FROM Contacts ORDER BY Id LIMIT 3) FROM Account WHERE Id = '${parent}'`);
      assert.equal(sent.Contacts.done, false);
      assert.equal(sent.Contacts.records.length, 2);
      const rest = await raw(sent.Contacts.nextRecordsUrl);
      assert.deepEqual(children.records, [...sent.Contacts.records, ...rest.records]);
      assert.equal(got[0].Id, sent.Id);
      assert.equal(got[0].Name, sent.Name);

      // children: 'asSent' leaves the nested cursor as Salesforce sent it (one call)
      await emu.resetCounters();
      const [asSent] = await collect(client.query(key, q, { params: { id: parent }, children: 'asSent' }));
      assert.equal(asSent.Contacts.done, false);
      assert.equal(asSent.Contacts.records.length, 2);
      assert.match(asSent.Contacts.nextRecordsUrl, /^\/services\/data\/v\d+\.\d\/query\//);
      assert.equal((await emu.counters()).query_more, 0);
    } finally {
      await emu.control('child_batch_size', { size: 200 });
    }
  });

  it('queryOne: the one record, null for none, InvalidArgumentError for several', async () => {
    const [first] = await rawQuery('SELECT Id, Name, Amount FROM Opportunity ORDER BY Id LIMIT 1');
    const one = await client.queryOne(key, 'SELECT Id, Name, Amount FROM Opportunity WHERE Id = :id', { params: { id: soql.id(first.Id) } });
    assert.deepEqual(one, first);
    const lossless = await client.queryOne(key, 'SELECT Id, Amount FROM Opportunity WHERE Id = :id', { params: { id: first.Id }, lossless: true });
    assert.equal(typeof lossless.Amount === 'string' || lossless.Amount === null, true);
    assert.equal(await client.queryOne(key, 'SELECT Id FROM Contact WHERE LastName = :n', { params: { n: 'no such name' } }), null);
    await assert.rejects(client.queryOne(key, 'SELECT Id FROM Opportunity'), (e) => {
      assert.ok(e instanceof sfcrm.InvalidArgumentError, String(e));
      assert.match(e.message, /LIMIT 1/);
      return true;
    });
    const limited = await client.queryOne(key, 'SELECT Id, Name, Amount FROM Opportunity ORDER BY Id LIMIT 1');
    assert.deepEqual(limited, first);
  });

  it('bad SOQL is an ApiError carrying Salesforce errorCode and message', async () => {
    await assert.rejects(collect(client.query(key, 'SELECT Id FROM Contact WHERE')), (e) => {
      assert.ok(e instanceof sfcrm.ApiError, String(e));
      assert.equal(e.code, 'api');
      assert.equal(e.errorCode, 'MALFORMED_QUERY');
      assert.equal(e.status, 400);
      assert.match(e.message, /ERROR at Row:1:Column:\d+/);
      return true;
    });
    await assert.rejects(collect(client.query(key, 'SELECT Id, NoSuchField__c FROM Contact')), (e) => {
      assert.ok(e instanceof sfcrm.ApiError);
      assert.equal(e.errorCode, 'INVALID_FIELD');
      assert.match(e.message, /No such column 'NoSuchField__c'/);
      return true;
    });
    await assert.rejects(client.queryOne(key, 'SELECT Id FROM NoSuchThing__c'), (e) => {
      assert.ok(e instanceof sfcrm.ApiError);
      assert.equal(e.errorCode, 'INVALID_TYPE');
      return true;
    });
  });

  it('a query resumed from a checkpoint after the session expired delivers every record once', async () => {
    const q = 'SELECT Id, Name, Email FROM Contact WHERE CreatedDate < :before';
    const params = { before: new Date('2100-01-01T00:00:00Z') };
    const oracle = await rawQuery('SELECT Id, Name, Email FROM Contact WHERE CreatedDate < 2100-01-01T00:00:00Z ORDER BY Id');
    assert.equal(oracle.length, 600);
    const first = [];
    const it = client.query(key, q, { params, batchSize: 200 });
    for await (const r of it) {
      first.push(r);
      if (first.length === 250) break;
    }
    const token = await it.checkpoint();
    assert.equal(typeof token, 'string');
    const refreshesBefore = client.apiCalls().refreshes;
    await emu.expireSessions();
    const rest = await collect(client.query(key, q, { params, batchSize: 200, checkpoint: token }));
    assert.equal(client.apiCalls().refreshes - refreshesBefore, 1);
    const all = [...first, ...rest];
    assert.equal(all.length, 600);
    assert.deepEqual(all, oracle);
    // a checkpoint binds its query: another query refuses it
    await assert.rejects(
      collect(client.query(key, 'SELECT Id, Name FROM Contact', { checkpoint: token })),
      sfcrm.InvalidArgumentError,
    );
  });

  it('a query that cannot resume by Id says what to change when its locator dies', async () => {
    const it = client.query(key, 'SELECT Id, Name FROM Contact ORDER BY Name', { batchSize: 200 });
    const first = await it.next();
    assert.equal(first.done, false);
    await emu.expireSessions(); // the stream may or may not have prefetched page 2 before this
    let n = 1;
    await assert.rejects(
      (async () => {
        for await (const r of it) {
          assert.ok(r.Id);
          n += 1;
        }
      })(),
      (e) => {
        assert.ok(e instanceof sfcrm.SfcrmError, String(e));
        assert.match(e.message, /cannot continue where it stopped/);
        assert.match(e.message, /select Id; no ORDER BY/);
        return true;
      },
    );
    // the pages read before the locator died (1 or 2 of the 3, by when page 2 was prefetched), never a
    // restart that would repeat or skip records
    assert.ok(n === 200 || n === 400, String(n));
  });

  it('queryToFile with bad SOQL rejects and leaves no file', async () => {
    const target = path.join(tmp, 'bad.csv');
    await assert.rejects(client.queryToFile(key, 'SELECT Id FROM Contact WHERE', target), (e) => {
      assert.ok(e instanceof sfcrm.ApiError);
      assert.equal(e.errorCode, 'MALFORMED_QUERY');
      return true;
    });
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('bad')), []);
  });

  it('allRows (queryAll) includes soft-deleted rows', async () => {
    const victims = (await rawQuery('SELECT Id FROM Lead ORDER BY Id LIMIT 2')).map((r) => r.Id);
    await emu.control('records/delete', { sobject: 'Lead', ids: victims });
    const q = 'SELECT Id, IsDeleted FROM Lead WHERE Id IN :ids';
    assert.deepEqual(await collect(client.query(key, q, { params: { ids: victims } })), []);
    const all = await collect(client.query(key, q, { params: { ids: victims }, allRows: true }));
    assert.deepEqual(all.map((r) => [r.Id, r.IsDeleted]).sort(), victims.map((id) => [id, true]).sort());
  });

  it('polymorphic lookups and TYPEOF pass through intact', async () => {
    for (const q of [
      'SELECT Id, What.Type, What.Name, Who.Name FROM Task WHERE WhatId != null ORDER BY Id LIMIT 20',
      'SELECT Id, TYPEOF What WHEN Account THEN Name, Industry WHEN Opportunity THEN Amount ELSE Name END FROM Event ORDER BY Id LIMIT 20',
    ]) {
      const got = await collect(client.query(key, q));
      assert.ok(got.length > 0);
      assert.deepEqual(got, await rawQuery(q));
    }
  });

  it('queryToFile writes CSV with a compound value as its JSON text in one cell', async () => {
    const target = path.join(tmp, 'accounts.csv');
    const s = await client.queryToFile(key, 'SELECT Id, Name, BillingAddress FROM Account WHERE BillingCity != :none', target, {
      params: { none: null },
      format: 'csv',
    });
    const oracle = await rawQuery('SELECT Id, Name, BillingAddress FROM Account WHERE BillingCity != null ORDER BY Id');
    assert.equal(s.records, oracle.length);
    const text = fs.readFileSync(target, 'utf8');
    assert.ok(!text.includes('[object Object]'));
    assert.ok(text.includes('""city""'), 'the address is a JSON object in its cell');
  });
});

