'use strict';
// The app around a README's JavaScript snippet, and the user's browser (scripts/snippets/run.py).
// Usage: node prelude.js SNIPPET.js CONNECTED(0|1), from a directory whose node_modules/sfcrm is
// bindings/node. `req.query` is what Express hands the callback route: the query of the redirect
// that the emulator (which consents at once) answers to the authorize URL of the last
// `Client#login`; `req.auth` is what the platform's JWT middleware sets; `save(record)` counts.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire } = require('node:module');

const [snippetPath, connected] = process.argv.slice(2);
const snippetRequire = createRequire(path.resolve(snippetPath));
const sfcrm = snippetRequire('sfcrm');

const callbackQuery = {};
async function browser(url) {
  if (!url.startsWith(process.env.SALESFORCE_LOGIN_URL)) return; // already connected
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`the authorize URL did not redirect: ${res.status}`);
  for (const k of Object.keys(callbackQuery)) delete callbackQuery[k];
  Object.assign(callbackQuery, Object.fromEntries(new URL(location).searchParams));
}
const login = sfcrm.Client.prototype.login;
sfcrm.Client.prototype.login = async function (...args) {
  const r = await login.apply(this, args);
  await browser(r.url);
  return r;
};

const saved = [];
const req = { auth: { account_id: 'acc-1', uid: 'user-1' }, query: callbackQuery };
const save = (record) => { saved.push(record); };

async function connect() {
  const client = new sfcrm.Client(sfcrm.Config.fromEnv(), new sfcrm.FileStore('tokens'));
  const key = { account_id: 'acc-1', owner: 'user-1' };
  await client.login(key, process.env.SFCRM_FORWARD_ORIGINS.split(',')[0]);
  const done = await client.callback(callbackQuery);
  if (done.outcome !== 'success') throw new Error(`could not connect acc-1/user-1: ${done.url}`);
}

(async () => {
  if (connected === '1') await connect();
  // The snippet's lines keep their numbers: the wrapper is on the first line.
  const source = `(async (require, req, save) => { ${fs.readFileSync(snippetPath, 'utf8')}\n})`;
  const fn = vm.runInThisContext(source, { filename: snippetPath });
  await fn(snippetRequire, req, save);
  console.log(`snippet saved ${saved.length} records`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
