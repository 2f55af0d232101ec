'use strict';
/**
 * A token store in MongoDB, in the seed's collection `integrations.salesforce.key`.
 *
 * Documents stay readable by the seed service: `account_id`, `owner`,
 * `token{access_token, refresh_token, issued_at}` and `token_invalidated` keep their names and
 * meaning; the SDK adds `instance_url`, `id`, `scope`, `version`, `refresh_lease`,
 * `updated_at_ms` and `schema`. Writes are compare-and-swap on `version`:
 * `updateOne({account_id, owner, version: expected}, {$set: doc})` matches nothing when another
 * process wrote first, which the SDK sees as a conflict. Inserts rely on a unique index on
 * (account_id, owner), so two racing first saves cannot both win.
 *
 * Documents the seed wrote (no `version`, no `instance_url`) load as version 0 with the
 * configured `defaultInstanceUrl` (the host the seed had hard-coded, seed defect D4); the first
 * save by the SDK upgrades them in place (matching "version absent" as version 0).
 */
const { MongoClient } = require('mongodb');

const COLLECTION = 'integrations.salesforce.key';

class MongoTokenStore {
  /**
   * @param {import('mongodb').Collection} collection
   * @param {{ defaultInstanceUrl?: string }} [options]
   */
  constructor(collection, options = {}) {
    this.collection = collection;
    this.defaultInstanceUrl = options.defaultInstanceUrl;
  }

  /**
   * Connects and makes sure the unique (account_id, owner) index exists.
   * @param {string} uri MongoDB connection string
   * @param {{ dbName?: string, collection?: string, defaultInstanceUrl?: string }} [options]
   * @returns {Promise<{ store: MongoTokenStore, client: MongoClient }>}
   */
  static async connect(uri, options = {}) {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10000 });
    await client.connect();
    const collection = client.db(options.dbName).collection(options.collection ?? COLLECTION);
    const store = new MongoTokenStore(collection, options);
    await store.ensureIndexes();
    return { store, client };
  }

  /** Creates the unique index on (account_id, owner) that makes inserts compare-and-swap. */
  async ensureIndexes() {
    await this.collection.createIndex({ account_id: 1, owner: 1 }, { unique: true, name: 'account_id_owner_unique' });
  }

  /** @param {{account_id: string, owner: string}} key */
  async load(key) {
    const doc = await this.collection.findOne({ account_id: String(key.account_id), owner: String(key.owner) });
    if (!doc) return null;
    const { _id, ...rest } = doc;
    if (rest.version === undefined || rest.version === null) rest.version = 0;
    if (!rest.instance_url) {
      if (!this.defaultInstanceUrl) {
        throw new Error(
          'the stored Salesforce connection has no instance_url (written by the old service); set SALESFORCE_INSTANCE_URL',
        );
      }
      rest.instance_url = this.defaultInstanceUrl;
    }
    return rest;
  }

  /**
   * @param {object} doc the full document (version already expectedVersion + 1)
   * @param {number | null} expectedVersion
   * @returns {Promise<'saved' | 'conflict'>}
   */
  async save(doc, expectedVersion) {
    const key = { account_id: doc.account_id, owner: doc.owner };
    if (expectedVersion === null || expectedVersion === undefined) {
      try {
        await this.collection.insertOne({ ...doc });
        return 'saved';
      } catch (err) {
        if (err && err.code === 11000) return 'conflict'; // duplicate key: someone inserted first
        throw err;
      }
    }
    const versionFilter =
      expectedVersion === 0 ? { $or: [{ version: 0 }, { version: { $exists: false } }, { version: null }] } : { version: expectedVersion };
    const r = await this.collection.updateOne({ ...key, ...versionFilter }, { $set: doc });
    return r.matchedCount === 1 ? 'saved' : 'conflict';
  }

  /** @param {{account_id: string, owner: string}} key */
  async delete(key) {
    const r = await this.collection.deleteOne({ account_id: String(key.account_id), owner: String(key.owner) });
    return r.deletedCount > 0;
  }
}

module.exports = { MongoTokenStore, COLLECTION };
