/**
 * A stored connection (the seed's document plus the SDK's fields).
 */
export type ConnectionDocument = {
    schema?: number;
    account_id: string;
    owner: string;
    token: {
        access_token: string;
        refresh_token?: string | null;
        issued_at?: string;
    };
    token_invalidated?: boolean;
    instance_url: string;
    id?: string | null;
    scope?: string | null;
    version: number;
    refresh_lease?: {
        holder: string;
        expires_at_ms: number;
    } | null;
    updated_at_ms?: number;
    [extra: string]: unknown;
};
/**
 * The contract every token store implements (see the module docs).
 */
export type TokenStore = {
    load(key: {
        account_id: string;
        owner: string;
    }): Promise<ConnectionDocument | null>;
    save(doc: ConnectionDocument, expectedVersion: number | null): Promise<"saved" | "conflict" | boolean>;
    delete(key: {
        account_id: string;
        owner: string;
    }): Promise<boolean>;
};
/** An in-process store: connections live as long as this object. */
export class MemoryStore extends NativeBackedStore {
    constructor();
}
/** One JSON file per connection under `dir` (created if missing; files are mode 0600). */
export class FileStore extends NativeBackedStore {
    /** @param {string} dir */
    constructor(dir: string);
}
/**
 * Wraps a store so that the access and refresh tokens are sealed (authenticated encryption) before
 * they reach it, and opened when read (seed defect D17). `keys` is `kid:base64key[,kid:base64key…]`
 * (e.g. `SFCRM_SEALING_KEYS`): the first key seals, older ones still open, so keys can rotate.
 */
export class SealedStore extends NativeBackedStore {
    /**
     * @param {TokenStore} inner the store that keeps the sealed documents
     * @param {string} keys
     * @param {{ storeTimeoutMs?: number }} [options] for a JavaScript `inner` store
     */
    constructor(inner: TokenStore, keys: string, options?: {
        storeTimeoutMs?: number;
    });
}
/**
 * The native handle for a store: the built-in stores' own, or a bridge to a JavaScript store
 * object whose Promises are awaited from Rust.
 * @param {TokenStore} store
 * @param {{ storeTimeoutMs?: number }} [options]
 * @returns {import('../index.js').NativeStore}
 */
export function toNativeStore(store: TokenStore, options?: {
    storeTimeoutMs?: number;
}): import("../index.js").NativeStore;
/** Parses a key argument `{ account_id, owner }` (also accepts `{ accountId, owner }`). */
export function keyParts(key: any): string[];
export const NATIVE: unique symbol;
/** Shared implementation of the built-in stores over a native handle. */
declare class NativeBackedStore {
    /**
     * @param {import('../index.js').NativeStore} handle a native store handle
     * @protected
     */
    protected constructor();
    /**
     * @param {{account_id: string, owner: string}} key
     * @returns {Promise<ConnectionDocument | null>}
     */
    load(key: {
        account_id: string;
        owner: string;
    }): Promise<ConnectionDocument | null>;
    /**
     * @param {ConnectionDocument} doc
     * @param {number | null} expectedVersion
     * @returns {Promise<'saved' | 'conflict'>}
     */
    save(doc: ConnectionDocument, expectedVersion: number | null): Promise<"saved" | "conflict">;
    /**
     * @param {{account_id: string, owner: string}} key
     * @returns {Promise<boolean>}
     */
    delete(key: {
        account_id: string;
        owner: string;
    }): Promise<boolean>;
}
export {};
