// The ESM entry point exposes the same objects as the CommonJS one.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as ns from 'sfcrm';
import sfcrmDefault, { Client, Config, MemoryStore, SfcrmError, ReconnectRequiredError, paginator, version } from 'sfcrm';

const require = createRequire(import.meta.url);
const cjs = require('sfcrm');

it('ESM and CommonJS entry points export the same objects', () => {
  assert.equal(Client, cjs.Client);
  assert.equal(Config, cjs.Config);
  assert.equal(MemoryStore, cjs.MemoryStore);
  assert.equal(SfcrmError, cjs.SfcrmError);
  assert.ok(ReconnectRequiredError.prototype instanceof SfcrmError);
  assert.equal(sfcrmDefault, cjs);
  assert.equal(version, cjs.version);
  assert.equal(paginator(10, 1, 5).total_pages, 2);
});

it('every CommonJS export is also a named ESM export', () => {
  const missing = Object.keys(cjs).filter((k) => !(k in ns));
  assert.deepEqual(missing, []);
});
