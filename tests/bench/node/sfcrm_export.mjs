// sfcrm Node client of the benchmark: a full export through `client.export(...)`, an async
// iterator yielding one object per record. Usage: node sfcrm_export.mjs LOGIN_URL STORE_DIR TYPE BATCH_SIZE
// Prints one JSON line; `seconds` covers the export only. The native addon is the one named by
// NAPI_RS_NATIVE_LIBRARY_PATH when set (the harness points it at a release build).
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const sfcrm = require('../../../bindings/node/lib/index.js');

const [loginUrl, storeDir, type, batchSize] = process.argv.slice(2);
const config = new sfcrm.Config({
  clientId: 'sfcrm-demo-client',
  clientSecret: 'sfcrm-demo-secret',
  redirectUri: 'http://127.0.0.1:8788/callback',
  stateSecret: 'bench-state-secret-0123456789abcdef0123456789',
  forwardOrigins: ['http://127.0.0.1:3000'],
  loginUrl,
});
const client = new sfcrm.Client(config, new sfcrm.FileStore(storeDir));
let records = 0;
const t0 = performance.now();
for await (const _record of client.export({ account_id: 'bench', owner: 'bench' }, type, { batchSize: Number(batchSize) })) {
  records += 1;
}
const seconds = (performance.now() - t0) / 1000;
const version = require('../../../bindings/node/package.json').version;
const m = process.memoryUsage();
const memory_mib = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v / 1048576 * 10) / 10]));
console.log(JSON.stringify({ records, seconds, memory_mib, version }));
