'use strict';
// Incremental state (issue 16): each run returns a watermark; the next run passes it back and gets
// every change exactly once, also one committed "late" (its SystemModstamp earlier than the
// previous run's end). `since` accepts a Date; a checkpoint is refused where a watermark is expected.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sfcrm = require('..');
const { startEmulator, testConfig, connect } = require('./support/emulator');

process.on('unhandledRejection', (e) => {
  throw new Error(`unhandled rejection: ${e && e.message}`);
});

describe('incremental exports with a watermark', () => {
  let emu;
  let client;
  const key = { account_id: 'acc-inc', owner: 'user-1' };

  before(async () => {
    emu = await startEmulator(['--deals', '300', '--contacts', '10', '--notes', '1']);
    client = new sfcrm.Client(testConfig(emu), new sfcrm.MemoryStore());
    await connect(client, key);
  });
  after(async () => {
    if (emu) await emu.stop();
  });

  /** One run: the Ids (each once) and the watermark. */
  async function run(options) {
    const it = client.export(key, 'deals', { batchSize: 200, ...options });
    const ids = [];
    for await (const r of it) ids.push(r.Id);
    assert.equal(new Set(ids).size, ids.length, 'a record delivered twice in one run');
    const watermark = await it.watermark();
    assert.equal(typeof watermark, 'string');
    return { ids, watermark };
  }

  it('every change arrives exactly once across runs, including a late one', async () => {
    const first = await run({ since: new Date(Date.UTC(2000, 0, 1)) }); // a Date
    assert.equal(first.ids.length, 300);
    const changed = (await emu.control('records/touch', { sobject: 'Opportunity', count: 3 })).ids;
    const second = await run({ watermark: first.watermark });
    assert.deepEqual(new Set(second.ids), new Set(changed));
    // Late: written 120 s before run 2's end, committed after it; and one ordinary change.
    const other = first.ids.find((id) => !changed.includes(id));
    await emu.control('clock/advance', { ms: -120000 });
    const late = (await emu.control('records/touch', { sobject: 'Opportunity', ids: [other] })).ids;
    await emu.control('clock/advance', { ms: 120000 });
    const now = (await emu.control('records/touch', { sobject: 'Opportunity', count: 1 })).ids;
    const third = await run({ watermark: second.watermark });
    assert.deepEqual(new Set(third.ids), new Set([...late, ...now]));
    const fourth = await run({ watermark: third.watermark });
    assert.deepEqual(fourth.ids, []);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfcrm-inc-'));
    try {
      const s = await client.exportToFile(key, 'deals', path.join(dir, 'd.ndjson'), { format: 'ndjson', watermark: third.watermark });
      assert.equal(s.records, 0);
      assert.equal(typeof s.watermark, 'string');
      assert.equal(s.missing, 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a checkpoint is refused where a watermark is expected', async () => {
    const it = client.export(key, 'deals');
    for await (const _ of it); // eslint-disable-line no-unused-vars
    assert.equal(await it.watermark(), null, 'a full export has no watermark');
    const cp = await it.checkpoint();
    await assert.rejects(
      (async () => { for await (const _ of client.export(key, 'deals', { watermark: cp })); })(), // eslint-disable-line no-unused-vars
      (e) => e instanceof sfcrm.InvalidArgumentError && /resume checkpoint, not a watermark/.test(e.message),
    );
    await assert.rejects(
      (async () => { for await (const _ of client.export(key, 'deals', { since: new Date(NaN) })); })(), // eslint-disable-line no-unused-vars
      (e) => e instanceof sfcrm.InvalidArgumentError || e instanceof TypeError,
    );
  });
});
