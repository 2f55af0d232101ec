'use strict';
/**
 * Token stores.
 *
 * A token store keeps one connection document per (account_id, owner) and writes it with
 * compare-and-swap on `version`, which is how several processes sharing one store still refresh a
 * connection exactly once. Any object with these three methods is a store:
 *
 * - `load(key) → Promise<ConnectionDocument | null>` where `key` is `{ account_id, owner }`;
 * - `save(doc, expectedVersion) → Promise<'saved' | 'conflict'>`: write `doc` only if the stored
 *   version equals `expectedVersion` (`null`: only if no document exists); `true`/`false` are
 *   accepted for saved/conflict;
 * - `delete(key) → Promise<boolean>`: whether a document existed.
 *
 * Documents are plain objects in the SDK's schema (the seed's `account_id`, `owner`,
 * `token{access_token, refresh_token, issued_at}`, `token_invalidated`, plus `instance_url`, `id`,
 * `scope`, `version`, `refresh_lease`, `updated_at_ms`, `schema`). Unknown fields (such as
 * MongoDB's `_id`) are ignored. A store that throws, rejects, never settles (see `storeTimeoutMs`)
 * or returns something else makes the SDK call fail with a `StoreError`.
 *
 * Built in: {@link MemoryStore} (this process only) and {@link FileStore} (one JSON file per
 * connection, atomic replace, a lock for the swap).
 */
/**
 * A stored connection (the seed's document plus the SDK's fields).
 * @typedef {{ schema?: number, account_id: string, owner: string,
 *   token: { access_token: string, refresh_token?: string | null, issued_at?: string },
 *   token_invalidated?: boolean, instance_url: string, id?: string | null, scope?: string | null,
 *   version: number, refresh_lease?: { holder: string, expires_at_ms: number } | null,
 *   updated_at_ms?: number, [extra: string]: unknown }} ConnectionDocument
 */
/**
 * The contract every token store implements (see the module docs).
 * @typedef {{
 *   load(key: { account_id: string, owner: string }): Promise<ConnectionDocument | null>,
 *   save(doc: ConnectionDocument, expectedVersion: number | null): Promise<'saved' | 'conflict' | boolean>,
 *   delete(key: { account_id: string, owner: string }): Promise<boolean>,
 * }} TokenStore
 */
const native = require('../index.js');
const { callSync, call } = require('./errors');

const NATIVE = Symbol.for('sfcrm.nativeStore');

/** Parses a key argument `{ account_id, owner }` (also accepts `{ accountId, owner }`). */
function keyParts(key) {
  if (!key || typeof key !== 'object') throw new TypeError('a connection key is an object { account_id, owner }');
  const accountId = key.account_id ?? key.accountId;
  const owner = key.owner ?? key.uid;
  if (typeof accountId !== 'string' || typeof owner !== 'string') {
    throw new TypeError('a connection key needs string account_id and owner');
  }
  return [accountId, owner];
}

/** Shared implementation of the built-in stores over a native handle. */
class NativeBackedStore {
  /**
   * @param {import('../index.js').NativeStore} handle a native store handle
   * @protected
   */
  constructor(handle) {
    Object.defineProperty(this, NATIVE, { value: handle });
  }
  /**
   * @param {{account_id: string, owner: string}} key
   * @returns {Promise<ConnectionDocument | null>}
   */
  async load(key) {
    const [a, o] = keyParts(key);
    const text = await call(() => this[NATIVE].load(a, o));
    return text == null ? null : JSON.parse(text);
  }
  /**
   * @param {ConnectionDocument} doc
   * @param {number | null} expectedVersion
   * @returns {Promise<'saved' | 'conflict'>}
   */
  async save(doc, expectedVersion) {
    // @ts-ignore: the addon resolves exactly 'saved' or 'conflict'
    return call(() => this[NATIVE].save(JSON.stringify(doc), expectedVersion ?? null));
  }
  /**
   * @param {{account_id: string, owner: string}} key
   * @returns {Promise<boolean>}
   */
  async delete(key) {
    const [a, o] = keyParts(key);
    return call(() => this[NATIVE].delete(a, o));
  }
}

/** An in-process store: connections live as long as this object. */
class MemoryStore extends NativeBackedStore {
  constructor() {
    super(callSync(() => native.NativeStore.memory()));
  }
}

/** One JSON file per connection under `dir` (created if missing; files are mode 0600). */
class FileStore extends NativeBackedStore {
  /** @param {string} dir */
  constructor(dir) {
    if (typeof dir !== 'string' || dir === '') throw new TypeError('FileStore needs a directory path');
    super(callSync(() => native.NativeStore.file(dir)));
  }
}

/**
 * Wraps a store so that the access and refresh tokens are sealed (authenticated encryption) before
 * they reach it, and opened when read (seed defect D17). `keys` is `kid:base64key[,kid:base64key…]`
 * (e.g. `SFCRM_SEALING_KEYS`): the first key seals, older ones still open, so keys can rotate.
 */
class SealedStore extends NativeBackedStore {
  /**
   * @param {TokenStore} inner the store that keeps the sealed documents
   * @param {string} keys
   * @param {{ storeTimeoutMs?: number }} [options] for a JavaScript `inner` store
   */
  constructor(inner, keys, options = {}) {
    if (typeof keys !== 'string' || keys === '') throw new TypeError('SealedStore needs keys: "kid:base64key[,…]"');
    const handle = toNativeStore(inner, options);
    super(callSync(() => native.NativeStore.sealed(handle, keys)));
  }
}

function normalizeOutcome(r) {
  if (r === 'saved' || r === true) return 'saved';
  if (r === 'conflict' || r === false) return 'conflict';
  throw new TypeError(`save() must resolve to 'saved' or 'conflict', got ${describe(r)}`);
}

function describe(v) {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40));
  return typeof v;
}

function stripHostFields(doc) {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new TypeError(`load() must resolve to a document object or null, got ${Array.isArray(doc) ? 'an array' : describe(doc)}`);
  }
  const { _id, ...rest } = doc;
  return rest;
}

/**
 * The native handle for a store: the built-in stores' own, or a bridge to a JavaScript store
 * object whose Promises are awaited from Rust.
 * @param {TokenStore} store
 * @param {{ storeTimeoutMs?: number }} [options]
 * @returns {import('../index.js').NativeStore}
 */
function toNativeStore(store, options = {}) {
  if (store && store[NATIVE]) return store[NATIVE];
  for (const m of ['load', 'save', 'delete']) {
    if (!store || typeof store[m] !== 'function') {
      throw new TypeError(`a token store needs load, save and delete methods (missing ${m})`);
    }
  }
  // Each adapter is async, so a synchronous throw becomes a rejection that the addon turns into a
  // StoreError; results are checked here and again (as JSON) in Rust.
  const load = async (keyJson) => {
    const doc = await store.load(JSON.parse(keyJson));
    return doc == null ? null : JSON.stringify(stripHostFields(doc));
  };
  const save = async (docJson, expectedVersion) =>
    normalizeOutcome(await store.save(JSON.parse(docJson), expectedVersion ?? null));
  const del = async (keyJson) => {
    const r = await store.delete(JSON.parse(keyJson));
    if (typeof r !== 'boolean') throw new TypeError(`delete() must resolve to a boolean, got ${describe(r)}`);
    return r;
  };
  return native.NativeStore.fromCallbacks(load, save, del, options.storeTimeoutMs ?? undefined);
}

module.exports = { MemoryStore, FileStore, SealedStore, toNativeStore, keyParts, NATIVE };
