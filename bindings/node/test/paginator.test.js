'use strict';
// The shared paginator vectors (shared/contract/paginator-seed-vectors.json) through the SDK's
// paginator, the same function exportPage uses: every valid input matches the seed exactly; the
// D14 divergences (zero records without per_page, pages below 1) are the documented values.
const { it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const sfcrm = require('..');
const { seedPaginator } = require('./support/seed');

const VECTORS = process.env.SFCRM_PAGINATOR_VECTORS || path.resolve(__dirname, '../../../../shared/contract/paginator-seed-vectors.json');

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
