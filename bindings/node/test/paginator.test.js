'use strict';
// The seed paginator vectors (tests/contract/paginator-seed-vectors.json) through the SDK's
// paginator, the same function exportPage uses: every valid input matches the seed exactly; the
// D14 divergences (zero records without per_page, pages below 1) are the documented values.
const { it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const sfcrm = require('..');
const { seedPaginator } = require('./support/seed');

// The copy vendored in the repository (kept equal to ../shared/contract by
// scripts/check-contract.sh), found from this file, not the working directory.
const VECTORS = path.resolve(__dirname, '..', '..', '..', 'tests', 'contract', 'paginator-seed-vectors.json');

it('paginator matches every seed vector (D14 divergences documented)', () => {
  const { cases } = JSON.parse(fs.readFileSync(VECTORS, 'utf8'));
  assert.ok(cases.length > 100);
  let exact = 0;
  let divergent = 0;
  for (const { input, seed_output: seed } of cases) {
    const got = sfcrm.paginator(input.items, input.page, input.per_page);
    const pageValue = (input.page && parseInt(input.page)) || 1;
    const valid = pageValue >= 1 && seed.total_pages !== null;
    if (valid) {
      assert.deepStrictEqual(got, seed, JSON.stringify(input));
      assert.deepStrictEqual(Object.keys(got), Object.keys(seed), 'key order');
      exact++;
    } else {
      assert.deepStrictEqual(got, seedPaginator(input.items, input.page, input.per_page), JSON.stringify(input));
      if (seed.total_pages === null) assert.equal(got.total_pages, 0);
      if (pageValue < 1) {
        assert.equal(got.page, 1);
        assert.ok(got.offsetValue >= 0);
      }
      divergent++;
    }
  }
  assert.ok(exact > divergent, `${exact} exact, ${divergent} D14`);
});

it('exportPage serves the same pagination (and the matching records) for the vectors of 0, 1500 and 2001 records', async () => {
  const { startEmulator, testConfig, connect } = require('./support/emulator');
  const emu = await startEmulator(['--contacts', '1500', '--deals', '2001', '--notes', '0']);
  try {
    const client = new sfcrm.Client(testConfig(emu), new sfcrm.MemoryStore());
    const key = { account_id: 'pv', owner: 'u' };
    await connect(client, key);
    const typeFor = { 1500: 'contacts', 2001: 'deals', 0: 'notes' };
    const { cases } = JSON.parse(fs.readFileSync(VECTORS, 'utf8'));
    let checked = 0;
    for (const { input, seed_output: seed } of cases) {
      const type = typeFor[input.items];
      if (!type) continue;
      const body = await client.exportPage(key, type, { page: input.page, limit: input.per_page });
      const want = seedPaginator(input.items, input.page, input.per_page);
      const pageValue = (input.page && parseInt(input.page)) || 1;
      if (pageValue >= 1 && seed.total_pages !== null) assert.deepStrictEqual(want, seed); // the oracle is the seed
      assert.deepStrictEqual(body.pagination, want, JSON.stringify(input));
      const start = (want.page - 1) * want.per_page;
      const expected = want.page <= want.total_pages ? Math.min(want.per_page, input.items - start) : 0;
      assert.equal(body.data.length, expected, JSON.stringify(input));
      checked++;
    }
    assert.equal(checked, 210);
  } finally {
    await emu.stop();
  }
});
