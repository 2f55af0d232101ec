'use strict';
/**
 * Runs the service: `node src/server.js`.
 *
 * Environment: the SDK's (`SALESFORCE_CLIENT_ID`, `SALESFORCE_SECRET_ID`, `SALESFORCE_REDIRECT_URL`,
 * `SFCRM_STATE_SECRET`, `SFCRM_FORWARD_ORIGINS`, optional `SALESFORCE_LOGIN_URL`, ...; see the
 * sfcrm README), plus:
 * - `PORT` (default 3000), `HOST` (default 127.0.0.1);
 * - `PLATFORM_JWT_KEY`: the HS256 key of the platform's request JWTs (required);
 * - `MONGODB_URI` (+ optional `MONGODB_DB`): store connections in MongoDB's
 *   `integrations.salesforce.key`; `SALESFORCE_INSTANCE_URL` is the instance of documents the old
 *   service wrote (they have none);
 * - otherwise `SFCRM_STORE_DIR`: a file store in that directory; otherwise an in-memory store.
 */
const sfcrm = require('sfcrm');
const { createApp } = require('./app');

async function createStore(env) {
  if (env.MONGODB_URI) {
    const { MongoTokenStore } = require('./mongo-store');
    const { store, client } = await MongoTokenStore.connect(env.MONGODB_URI, {
      dbName: env.MONGODB_DB || undefined,
      defaultInstanceUrl: env.SALESFORCE_INSTANCE_URL || undefined,
    });
    return { store, close: () => client.close(), kind: 'mongodb' };
  }
  if (env.SFCRM_STORE_DIR) return { store: new sfcrm.FileStore(env.SFCRM_STORE_DIR), close: async () => {}, kind: 'file' };
  return { store: new sfcrm.MemoryStore(), close: async () => {}, kind: 'memory' };
}

async function main(env = process.env) {
  if (!env.PLATFORM_JWT_KEY) throw new Error('PLATFORM_JWT_KEY is not set');
  const { store, close, kind } = await createStore(env);
  const client = new sfcrm.Client(sfcrm.Config.fromEnv(env), store);
  const app = createApp({ client, jwtKey: env.PLATFORM_JWT_KEY, log: (m) => console.error(m) });
  const port = Number(env.PORT || 3000);
  const server = app.listen(port, env.HOST || '127.0.0.1', () => {
    const a = server.address();
    console.log(`sfcrm express service on http://${a.address}:${a.port} (store: ${kind})`);
  });
  const stop = () => server.close(() => close().finally(() => process.exit(0)));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}

module.exports = { main, createStore };
