'use strict';
// Every Client API against the org emulator (spawned here; built by scripts/test-node.sh).
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sfcrm = require('..');
const { startEmulator, testConfig, authorize, connect } = require('./support/emulator');
const { seedBody, allSeedRecords } = require('./support/seed');

process.on('unhandledRejection', (e) => {
  throw new Error(`unhandled rejection: ${e && e.message}`);
});

const CONTACTS = 2600; // deep pages (OFFSET > 2000) exist
const FORWARD = 'https://app.example.com/settings/integrations';

describe('Client against the org emulator', () => {
  let emu;
  let store;
  let client;
  const key = { account_id: 'acc-1', owner: 'user-1' };
  let contacts; // oracle: all contacts in Id order, from the seed's query

  before(async () => {
    emu = await startEmulator(['--contacts', String(CONTACTS), '--deals', '900', '--notes', '120']);
    store = new sfcrm.MemoryStore();
    client = new sfcrm.Client(testConfig(emu), store);
  });
  after(async () => {
    if (emu) await emu.stop();
  });

  it('login without a connection redirects to the authorize URL with PKCE and a signed state', async () => {
    const r = await client.login(key, FORWARD);
    assert.equal(r.alreadyConnected, false);
    const u = new URL(r.url);
    assert.equal(`${u.origin}${u.pathname}`, `${emu.loginUrl}/services/oauth2/authorize`);
    assert.equal(u.searchParams.get('client_id'), 'sfcrm-demo-client');
    assert.equal(u.searchParams.get('response_type'), 'code');
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(u.searchParams.get('code_challenge'));
    assert.equal(u.searchParams.get('state').split('.').length, 3); // a JWT
  });

  it('rejects a missing or foreign forward URL with typed errors', async () => {
    await assert.rejects(client.login(key, ''), sfcrm.MissingForwardUrlError);
    await assert.rejects(client.login(key, 'https://evil.example.net/'), (e) => {
      assert.ok(e instanceof sfcrm.ForwardUrlNotAllowedError);
      assert.ok(e instanceof sfcrm.SfcrmError);
      assert.equal(e.code, 'forward_url_not_allowed');
      return true;
    });
  });

  it('callback stores the connection and redirects to the forward URL with status=success', async () => {
    const { url } = await client.login(key, FORWARD);
    const query = await authorize(url);
    const r = await client.callback(query);
    assert.equal(r.outcome, 'success');
    assert.equal(r.url, `${FORWARD}?status=success&integration=salesforce`);
    // issue 16: the key is spelled as every input spells it; `accountId` stays a deprecated alias
    assert.deepEqual(r.key, { account_id: 'acc-1', owner: 'user-1' });
    assert.deepEqual(JSON.parse(JSON.stringify(r.key)), { account_id: 'acc-1', owner: 'user-1' });
    assert.equal(r.key.accountId, 'acc-1');
    assert.equal(r.reason, null);
    const doc = await store.load(key);
    assert.equal(doc.account_id, 'acc-1');
    assert.equal(doc.owner, 'user-1');
    assert.equal(doc.instance_url, emu.instanceUrl);
    assert.ok(doc.token.access_token && doc.token.refresh_token);
    assert.equal(doc.version, 1);
    const info = await client.connectionInfo(key);
    assert.equal(info.instanceUrl, emu.instanceUrl);
    assert.equal(info.hasRefreshToken, true);
    assert.ok(!JSON.stringify(info).includes(doc.token.access_token), 'connectionInfo has no token');
    contacts = await allSeedRecords(doc, 'contacts');
    assert.equal(contacts.length, CONTACTS);
  });

  it('login with an existing connection redirects straight to the forward URL', async () => {
    const r = await client.login(key, FORWARD);
    assert.equal(r.alreadyConnected, true);
    assert.equal(r.url, `${FORWARD}?status=success&integration=salesforce`);
  });

  it('callback: a used code, a bad state and a denial', async () => {
    const other = { account_id: 'acc-2', owner: 'user-2' };
    const { url } = await client.login(other, FORWARD);
    const query = await authorize(url);
    assert.equal((await client.callback(query)).outcome, 'success');
    const again = await client.callback(query); // the code is single-use at Salesforce
    assert.equal(again.outcome, 'error');
    assert.ok(again.url.startsWith(`${FORWARD}?status=error&integration=salesforce&reason=`));
    await assert.rejects(client.callback({ ...query, state: `${query.state}x` }), sfcrm.InvalidStateError);
    await assert.rejects(client.callback({ code: 'x' }), (e) => e instanceof sfcrm.InvalidStateError && e.code === 'invalid_state');
    await emu.control('consent', { mode: 'deny' });
    try {
      const third = { account_id: 'acc-3', owner: 'user-3' };
      const denied = await authorize((await client.login(third, FORWARD)).url);
      assert.equal(denied.error, 'access_denied');
      const r = await client.callback(denied);
      assert.equal(r.outcome, 'error');
      assert.ok(r.url.startsWith(`${FORWARD}?status=error&integration=salesforce&reason=`), r.url);
      assert.equal(await store.load(third), null);
    } finally {
      await emu.control('consent', { mode: 'approve' });
    }
  });

  it('exportPage equals the seed body: page 1, a middle page, a deep page past OFFSET 2000, no limit, past the end', async () => {
    for (const [page, limit] of [[1, 100], [2, 100], [25, 100], [3, 1000], [undefined, undefined], [99, 100]]) {
      const body = await client.exportPage(key, 'contacts', { page, limit });
      assert.deepStrictEqual(body, seedBody(contacts, page, limit), `page ${page} limit ${limit}`);
    }
    // query-string text gets the seed's parseInt rules
    assert.deepStrictEqual(await client.exportPage(key, 'contacts', { page: '2', limit: '50' }), seedBody(contacts, 2, 50));
    assert.deepStrictEqual(await client.exportPage(key, 'contacts', { page: 'abc', limit: '10' }), seedBody(contacts, 1, 10));
  });

  it('exportPage refuses an unknown type before any request, and an unknown connection', async () => {
    await emu.resetCounters();
    await assert.rejects(client.exportPage(key, 'widgets', { page: 1 }), (e) => {
      assert.ok(e instanceof sfcrm.UnknownExportTypeError);
      // issue 16: all three types named, and the raw form (an sObject with fields) explained
      assert.equal(e.message, 'unknown export type "widgets": the built-in types are contacts, deals and notes; to export any other sObject (Account, Invoice__c, ...), give its API name with the fields to select');
      return true;
    });
    assert.equal((await emu.counters()).query, 0);
    await assert.rejects(client.exportPage({ account_id: 'nobody', owner: 'x' }, 'contacts'), sfcrm.NotConnectedError);
  });

  it('numbers are JS numbers by default and their exact text with lossless', async () => {
    const plain = await client.exportPage(key, 'deals', { page: 1, limit: 200 });
    const exact = await client.exportPage(key, 'deals', { page: 1, limit: 200, lossless: true });
    // the org's own text for the same records
    const doc = await store.load(key);
    const q = 'SELECT name, account.name, amount, CloseDate, StageName, opportunity.owner.alias FROM opportunity ORDER BY Id LIMIT 200';
    const res = await fetch(`${doc.instance_url}/services/data/v48.0/query?q=${encodeURIComponent(q)}`, {
      headers: { authorization: `Bearer ${doc.token.access_token}` },
    });
    const raw = [...(await res.text()).matchAll(/"Amount":(null|-?[0-9][0-9.eE+-]*)/g)].map((m) => m[1]);
    assert.equal(raw.length, 200);
    assert.deepStrictEqual(exact.data.map((r) => (r.Amount === null ? 'null' : r.Amount)), raw);
    assert.ok(raw.some((t) => t.includes('.')), 'some amounts have decimals');
    for (let i = 0; i < 200; i++) {
      const a = plain.data[i].Amount;
      if (raw[i] === 'null') assert.equal(a, null);
      else {
        assert.equal(typeof a, 'number');
        assert.equal(a, JSON.parse(raw[i])); // what the seed's JSON.parse gave
        assert.equal(typeof exact.data[i].Amount, 'string');
      }
    }
    assert.deepStrictEqual(exact.pagination, plain.pagination);
  });

  it('export() is an async iterable over every record with progress, checkpoints and resume', async () => {
    const it = client.export(key, 'contacts', { batchSize: 500 });
    const ids = [];
    let checkpoint;
    for await (const record of it) {
      ids.push(record.attributes.url.split('/').pop());
      if (ids.length === 1234) {
        checkpoint = await it.checkpoint();
        break;
      }
    }
    assert.equal(ids.length, 1234);
    const resumed = client.export(key, 'contacts', { checkpoint, batchSize: 500 });
    for await (const record of resumed) ids.push(record.attributes.url.split('/').pop());
    const expected = contacts.map((r) => r.attributes.url.split('/').pop());
    assert.deepStrictEqual(ids, expected);
    const p = await resumed.progress();
    assert.equal(p.records, CONTACTS);
    assert.equal(p.totalSize, CONTACTS);
    assert.equal(p.missing, 0); // no row deleted during the export (issue 16 item 3)
    assert.ok(p.batches >= 3);
  });

  it('export() records are the objects JSON.parse makes of the org\'s own response (unicode, nulls, nesting)', async () => {
    const streamed = [];
    for await (const r of client.export(key, 'contacts', { batchSize: 1000 })) streamed.push(r);
    assert.equal(streamed.length, CONTACTS);
    // the stream adds Id to the seed's fields; everything else is Salesforce's record, key order too
    const withoutId = streamed.map(({ Id, ...rest }) => {
      assert.equal(Id, rest.attributes.url.split('/').pop());
      return rest;
    });
    assert.deepStrictEqual(withoutId, contacts);
    for (let i = 0; i < 50; i++) assert.deepStrictEqual(Object.keys(withoutId[i]), Object.keys(contacts[i]));
    const nonAscii = streamed.map((r) => r.Name).filter((n) => /[^\x00-\x7f]/.test(n));
    assert.ok(nonAscii.length > 0, 'the org has non-ASCII names');
    assert.ok(streamed.some((r) => /[\u{10000}-\u{10ffff}]/u.test(JSON.stringify(r))), 'and characters above U+FFFF');
  });

  it('export() with lossless gives every number as its exact text, the same records otherwise', async () => {
    const exact = [];
    for await (const r of client.export(key, 'deals', { lossless: true, batchSize: 200 })) exact.push(r);
    const plain = [];
    for await (const r of client.export(key, 'deals', { batchSize: 200 })) plain.push(r);
    assert.equal(exact.length, 900);
    assert.equal(plain.length, 900);
    // the org's own text for the first 200 amounts
    const doc = await store.load(key);
    const q = 'SELECT Id, Amount FROM Opportunity ORDER BY Id LIMIT 200';
    const res = await fetch(`${doc.instance_url}/services/data/v48.0/query?q=${encodeURIComponent(q)}`, {
      headers: { authorization: `Bearer ${doc.token.access_token}` },
    });
    const raw = [...(await res.text()).matchAll(/"Amount":(null|-?[0-9][0-9.eE+-]*)/g)].map((m) => m[1]);
    assert.equal(raw.length, 200);
    assert.deepStrictEqual(exact.slice(0, 200).map((r) => (r.Amount === null ? 'null' : r.Amount)), raw);
    let numbers = 0;
    for (let i = 0; i < 900; i++) {
      const { Amount: a, ...rest } = plain[i];
      const { Amount: e, ...restExact } = exact[i];
      assert.deepStrictEqual(restExact, rest); // strings, dates, nested objects: unchanged
      if (a === null) assert.equal(e, null);
      else {
        numbers += 1;
        assert.equal(typeof a, 'number');
        assert.equal(typeof e, 'string');
        assert.equal(JSON.parse(e), a);
      }
    }
    assert.ok(numbers > 0);
  });

  it('export() holds memory bounded: a paused loop does not make the SDK fetch ahead', async () => {
    await emu.resetCounters();
    const it = client.export(key, 'contacts', { batchSize: 200 });
    assert.equal((await it.next()).done, false);
    assert.equal((await it.progress()).records, 200, 'batches of 200');
    await new Promise((r) => setTimeout(r, 300)); // the consumer pauses
    const c = await emu.counters();
    // the first batch plus at most one prefetched batch, out of 13
    assert.ok(c.query + c.query_more <= 2, JSON.stringify(c));
    await it.return();
  });

  it('cancel() stops an export: the native cursor rejects with CancelledError, the iterator ends', async () => {
    const it = client.export(key, 'contacts', { batchSize: 200 });
    const first = await it.next();
    assert.equal(first.done, false);
    it.cancel();
    assert.deepEqual(await it.next(), { done: true, value: undefined });
    const native = require('../index.js');
    const cursor = client._native.exportStream('acc-1', 'user-1', { spec: { type: 'contacts' } });
    cursor.cancel();
    await assert.rejects(cursor.nextBatch(false).catch((e) => { throw sfcrm.convertError(e); }), sfcrm.CancelledError);
    assert.ok(native.ExportCursor);
  });

  it('export() with since returns only records modified since, and rejects a bad checkpoint', async () => {
    const since = new Date(Date.now() + 60_000).toISOString();
    const none = [];
    for await (const r of client.export(key, 'contacts', { since })) none.push(r);
    assert.equal(none.length, 0);
    await assert.rejects(async () => {
      for await (const _ of client.export(key, 'contacts', { checkpoint: 'not-a-token' })) break;
    }, sfcrm.InvalidArgumentError);
  });

  it('export() of a custom sObject validates identifiers', async () => {
    const seen = [];
    for await (const r of client.export(key, { sobject: 'Opportunity', fields: ['Name', 'Amount'] })) seen.push(r);
    assert.equal(seen.length, 900);
    await assert.rejects(async () => {
      for await (const _ of client.export(key, { sobject: 'Contact; DELETE', fields: ['Name'] })) break;
    }, sfcrm.InvalidIdentifierError);
  });

  it('exportToFile writes CSV and NDJSON', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfcrm-node-'));
    try {
      const csv = await client.exportToFile(key, 'notes', path.join(dir, 'notes.csv'), { format: 'csv' });
      assert.equal(csv.records, 120);
      const lines = fs.readFileSync(csv.path, 'utf8').trimEnd().split('\r\n');
      assert.ok(lines[0].includes('Title'));
      assert.ok(lines.length >= 121); // header + rows (bodies may contain line breaks)
      const nd = await client.exportToFile(key, 'deals', path.join(dir, 'deals.ndjson'), { format: 'ndjson' });
      assert.equal(nd.records, 900);
      const rows = fs.readFileSync(nd.path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
      assert.equal(rows.length, 900);
      assert.ok(typeof nd.checkpoint === 'string' && nd.checkpoint.length > 0);
      await assert.rejects(client.exportToFile(key, 'notes', path.join(dir, 'x.xml'), { format: 'xml' }), sfcrm.InvalidArgumentError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('apiUsage and apiCalls report Sforce-Limit-Info and request counts', async () => {
    const usage = client.apiUsage();
    assert.ok(usage && usage.limit === 100000 && usage.used > 0, JSON.stringify(usage));
    const calls = client.apiCalls();
    assert.ok(calls.query > 0 && calls.apiRequests >= calls.query);
    assert.ok(calls.tokenRequests >= 2);
  });

  it('refresh renews the access token once; an expired session is refreshed transparently', async () => {
    const before = await store.load(key);
    const info = await client.refresh(key);
    const after = await store.load(key);
    assert.notEqual(after.token.access_token, before.token.access_token);
    assert.equal(info.version, after.version);
    await emu.expireSessions();
    await emu.resetCounters();
    const body = await client.exportPage(key, 'contacts', { page: 1, limit: 10 });
    assert.equal(body.data.length, 10);
    assert.equal((await emu.counters()).token_refresh_token, 1);
  });

  it('a revoked refresh token is ReconnectRequiredError and marks the connection invalidated', async () => {
    const k = { account_id: 'acc-9', owner: 'user-9' };
    await connect(client, k);
    await emu.control('refresh_tokens/revoke', {});
    await assert.rejects(client.refresh(k), (e) => {
      assert.ok(e instanceof sfcrm.ReconnectRequiredError, e.constructor.name);
      assert.equal(e.oauthError, 'invalid_grant');
      return true;
    });
    assert.equal((await store.load(k)).token_invalidated, true);
    // the next login starts a new OAuth flow
    assert.equal((await client.login(k, FORWARD)).alreadyConnected, false);
  });

  it('a 403 REQUEST_LIMIT_EXCEEDED is RateLimitedError with apiUsage', async () => {
    const k = { account_id: 'acc-10', owner: 'user-10' };
    await connect(client, k);
    await emu.control('faults', { endpoint: 'query', kind: 'request_limit', count: 10 });
    try {
      await assert.rejects(client.exportPage(k, 'notes', { page: 1, limit: 5 }), (e) => {
        assert.ok(e instanceof sfcrm.RateLimitedError, e.constructor.name);
        assert.equal(e.status, 403);
        assert.equal(e.errorCode, 'REQUEST_LIMIT_EXCEEDED');
        assert.ok(e.apiUsage && e.apiUsage.limit > 0);
        return true;
      });
    } finally {
      await emu.control('faults', undefined, 'DELETE');
    }
  });

  it('disconnect revokes at Salesforce and deletes; then NotConnectedError', async () => {
    const key = { account_id: 'acc-11', owner: 'user-11' };
    await connect(client, key);
    await emu.resetCounters();
    const r = await client.disconnect(key);
    assert.equal(r.revoked, true);
    assert.equal((await emu.counters()).revoke, 1);
    assert.equal(await store.load(key), null);
    await assert.rejects(client.disconnect(key), sfcrm.NotConnectedError);
  });
});
