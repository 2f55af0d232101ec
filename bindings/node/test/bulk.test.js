'use strict';
// Bulk API 2.0 (issue 12, Node surface): `mode: 'bulk'` on export, query and the file variants
// gives the REST export's records; a refused query (a child subquery) and a failed job fall back
// to REST with the reason; the job's state and numberRecordsProcessed show in progress(); the
// Bulk calls are counted in apiCalls(). A private emulator (Bulk knobs, job faults).
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sfcrm = require('..');
const { startEmulator, testConfig, connect } = require('./support/emulator');

describe('Bulk API 2.0 exports and queries against the org emulator', () => {
  let emu;
  let client;
  let tmp;
  let rest;
  const key = { account_id: 'bulk-1', owner: 'user-1' };
  const fields = ['Name', 'Email', 'AccountId', 'Account.Name', 'CreatedDate'];
  const type = { sobject: 'Contact', fields };
  const SOQL = 'SELECT Id, Name, Email, AccountId, Account.Name, CreatedDate FROM Contact';

  const collect = async (iterable) => {
    const out = [];
    for await (const r of iterable) out.push(r);
    return out;
  };
  /**
   * A record as both sources deliver it: Bulk's CSV carries no `attributes` on a nested parent
   * and no empty text (an empty cell is null), as the core documents (`ExportMode::Bulk`).
   */
  const comparable = (v, top = true) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).filter(([k]) => top || k !== 'attributes').map(([k, x]) => [k, comparable(x, false)]));
    }
    return v === '' ? null : v;
  };
  /** Records by Id (each Id once). */
  const byId = (records) => {
    const m = new Map(records.map((r) => [r.Id, comparable(r)]));
    assert.equal(m.size, records.length, 'a record was delivered twice');
    return m;
  };
  /** The ApiCalls counters `run` cost. */
  const costOf = async (run) => {
    const before = client.apiCalls();
    const result = await run();
    const afterCalls = client.apiCalls();
    const d = {};
    for (const k of Object.keys(afterCalls)) d[k] = afterCalls[k] - before[k];
    return [result, d];
  };

  before(async () => {
    emu = await startEmulator(['--contacts', '600', '--deals', '50', '--notes', '5']);
    await emu.control('bulk/settings', { queue_delay_ms: 0, overhead_ms: 0 });
    client = new sfcrm.Client(testConfig(emu, { maxRetries: 0 }), new sfcrm.MemoryStore());
    await connect(client, key);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sfcrm-bulk-'));
    rest = byId(await collect(client.export(key, type)));
    assert.ok(rest.size > 100);
  });
  after(async () => {
    if (emu) await emu.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a Bulk export equals the REST export record for record; progress has the job; calls counted', async () => {
    const it = client.export(key, type, { mode: 'bulk' });
    const [got, calls] = await costOf(() => collect(it));
    assert.deepEqual(byId(got), rest);
    assert.equal(await it.fallbackReason(), null);
    const jobId = await it.bulkJobId();
    assert.match(jobId, /^750/);
    const p = await it.progress();
    assert.equal(p.records, rest.size);
    assert.equal(p.jobState, 'JobComplete');
    assert.equal(p.recordsProcessed, rest.size);
    assert.equal(calls.bulkCreate, 1);
    assert.ok(calls.bulkPoll >= 1 && calls.bulkResults >= 1, JSON.stringify(calls));
    assert.equal(calls.bulkDelete, 1);
    assert.equal(calls.query + calls.queryMore, 0);
    const jobs = await emu.control('bulk/jobs');
    assert.ok(!jobs.some((j) => j.id === jobId), 'the job was deleted');
  });

  it('bulk options: page size, parallel pages, keeping the job', async () => {
    const pages = 4;
    const it = client.export(key, type, { mode: 'bulk', bulk: { maxRecords: Math.floor(rest.size / pages) + 1, concurrency: 2, deleteJob: false } });
    const [got, calls] = await costOf(() => collect(it));
    assert.deepEqual(byId(got), rest);
    assert.ok(calls.bulkResults >= pages, JSON.stringify(calls));
    assert.equal(calls.bulkDelete, 0);
    const jobId = await it.bulkJobId();
    const job = (await emu.control('bulk/jobs')).find((j) => j.id === jobId);
    assert.equal(job.state, 'JobComplete');
    assert.equal(job.numberRecordsProcessed, rest.size);
  });

  it('a Bulk query equals the REST query', async () => {
    const q = `${SOQL} WHERE Email != null`;
    const want = byId(await collect(client.query(key, q)));
    const it = client.query(key, q, { mode: 'bulk' });
    assert.deepEqual(byId(await collect(it)), want);
    assert.equal(await it.fallbackReason(), null);
    assert.equal((await it.progress()).jobState, 'JobComplete');
  });

  it('a child subquery falls back to REST with the reason; without the fallback it rejects', async () => {
    const q = 'SELECT Id, Name, (SELECT Id, LastName FROM Contacts) FROM Account';
    const want = byId(await collect(client.query(key, q)));
    const it = client.query(key, q, { mode: 'bulk' });
    const [got, calls] = await costOf(() => collect(it));
    assert.deepEqual(byId(got), want);
    assert.match(await it.fallbackReason(), /FEATURENOTENABLED/);
    assert.equal((await it.progress()).jobState, undefined); // absent, as totalSize before the first batch
    assert.equal(calls.bulkCreate, 1);
    assert.ok(calls.query >= 1);
    await assert.rejects(collect(client.query(key, q, { mode: 'bulk', bulk: { fallbackToRest: false } })), (e) => {
      assert.ok(e instanceof sfcrm.SfcrmError);
      assert.match(e.message, /FEATURENOTENABLED/);
      return true;
    });
  });

  it('a failed job falls back to REST with its errorMessage, or rejects', async () => {
    await emu.control('bulk/job_faults', { count: 1, kind: 'failed', error_message: 'disk quota gone' });
    const it = client.export(key, type, { mode: 'bulk' });
    const [got, calls] = await costOf(() => collect(it));
    assert.deepEqual(byId(got), rest);
    assert.match(await it.fallbackReason(), /disk quota gone/);
    assert.equal(calls.bulkCreate, 1);
    assert.ok(calls.query >= 1);
    await emu.control('bulk/job_faults', { count: 1, kind: 'failed', error_message: 'disk quota gone' });
    await assert.rejects(collect(client.export(key, type, { mode: 'bulk', bulk: { fallbackToRest: false } })), /disk quota gone/);
  });

  it('file exports and queries in Bulk mode', async () => {
    const rows = (p) => {
      const lines = fs.readFileSync(p, 'utf8').split('\r\n').filter((l) => l !== '');
      return [lines[0], lines.slice(1).sort()];
    };
    await client.exportToFile(key, type, path.join(tmp, 'rest.csv'));
    const s = await client.exportToFile(key, type, path.join(tmp, 'bulk.csv'), { mode: 'bulk' });
    assert.equal(s.records, rest.size);
    assert.deepEqual(rows(path.join(tmp, 'bulk.csv')), rows(path.join(tmp, 'rest.csv')));
    const q = await client.queryToFile(key, SOQL, path.join(tmp, 'q.ndjson'), { format: 'ndjson', mode: 'bulk', bulk: { concurrency: 1 } });
    assert.equal(q.records, rest.size);
    const ids = fs.readFileSync(path.join(tmp, 'q.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).Id);
    assert.deepEqual(ids.sort(), [...rest.keys()].sort());
  });

  it('bad mode and bulk options are refused before any request', async () => {
    const cases = [
      [{ mode: 'BULK' }, /mode is 'rest' or 'bulk'/],
      [{ mode: 'bulk', bulk: { max_records: 10 } }, /bulk has no option "max_records"/],
      [{ mode: 'bulk', bulk: { maxRecords: 0 } }, /bulk.maxRecords must be an integer >= 1/],
      [{ mode: 'bulk', bulk: { deleteJob: 'no' } }, /bulk.deleteJob must be a boolean/],
      [{ mode: 'bulk', bulk: { pollTimeoutMs: -1 } }, /pollTimeoutMs/],
      [{ bulk: { concurrency: 2 } }, /bulk options need mode: 'bulk'/],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(collect(client.export(key, type, options)), (e) => {
        assert.ok(e instanceof sfcrm.InvalidArgumentError, `${JSON.stringify(options)}: ${e}`);
        assert.match(e.message, message);
        return true;
      });
    }
  });
});
