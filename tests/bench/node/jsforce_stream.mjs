// jsforce client of the benchmark, record-stream form: `conn.query(soql, { autoFetch, maxFetch })
// .stream('record')` consumed with `for await`. Usage: node jsforce_stream.mjs SESSION_JSON SOQL BATCH_SIZE MAX_FETCH
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import jsforce from 'jsforce';

const require = createRequire(import.meta.url);
const [sessionFile, soql, batchSize, maxFetch] = process.argv.slice(2);
const session = JSON.parse(readFileSync(sessionFile, 'utf8'));
const conn = new jsforce.Connection({ instanceUrl: session.instance_url, accessToken: session.access_token, version: '48.0' });
const t0 = performance.now();
const stream = conn
  .query(soql, { autoFetch: true, maxFetch: Number(maxFetch), headers: { 'Sforce-Query-Options': `batchSize=${batchSize}` } })
  .stream('record');
let records = 0;
for await (const _record of stream) {
  records += 1;
}
const seconds = (performance.now() - t0) / 1000;
const m = process.memoryUsage();
const memory_mib = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v / 1048576 * 10) / 10]));
console.log(JSON.stringify({ records, seconds, memory_mib, version: require('jsforce/package.json').version }));
