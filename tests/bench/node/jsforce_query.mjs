// jsforce client of the benchmark, promise form: `conn.query(soql, { autoFetch: true, maxFetch })`
// resolves with every record in memory. Usage: node jsforce_query.mjs SESSION_JSON SOQL BATCH_SIZE MAX_FETCH
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import jsforce from 'jsforce';

const require = createRequire(import.meta.url);
const [sessionFile, soql, batchSize, maxFetch] = process.argv.slice(2);
const session = JSON.parse(readFileSync(sessionFile, 'utf8'));
const conn = new jsforce.Connection({ instanceUrl: session.instance_url, accessToken: session.access_token, version: '48.0' });
const t0 = performance.now();
const result = await conn.query(soql, {
  autoFetch: true,
  maxFetch: Number(maxFetch),
  headers: { 'Sforce-Query-Options': `batchSize=${batchSize}` },
});
const records = result.records.length;
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ records, total_size: result.totalSize, seconds, version: require('jsforce/package.json').version }));
