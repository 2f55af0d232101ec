export type ExportType = import("./index").ExportType;
export type FilterOptions = import("./index").FilterOptions;
export type QueryOptions = import("./index").QueryOptions;
export type CallbackKey = import("./index").CallbackKey;
/** @typedef {import('./index').ExportType} ExportType */
/** @typedef {import('./index').FilterOptions} FilterOptions */
/** @typedef {import('./index').QueryOptions} QueryOptions */
/** @typedef {import('./index').CallbackKey} CallbackKey */
/**
 * Turns an export type argument and the `where` / `params` options into the native spec.
 * @param {ExportType} type
 * @param {FilterOptions} [filter]
 * @returns {import('../index.js').ExportSpecInput}
 */
export function exportSpec(type: ExportType, filter?: FilterOptions): import("../index.js").ExportSpecInput;
/**
 * The native options of a query.
 * @param {QueryOptions} options
 * @returns {import('../index.js').QueryOptionsInput}
 */
export function queryOptions(options: QueryOptions): import("../index.js").QueryOptionsInput;
/**
 * The native `mode` and `bulk` of an export or a query (`mode: 'bulk'`: a Bulk API 2.0 job; the
 * core checks the rest, e.g. `bulk` without `mode: 'bulk'`).
 * @param {{ mode?: 'rest' | 'bulk', bulk?: import('./index').BulkOptions }} options
 * @returns {{ mode?: string, bulk?: import('../index.js').BulkOptionsInput }}
 */
export function bulkOptions(options: {
    mode?: "rest" | "bulk";
    bulk?: import("./index").BulkOptions;
}): {
    mode?: string;
    bulk?: import("../index.js").BulkOptionsInput;
};
/**
 * @param {string} what
 * @param {unknown} text
 */
export function soqlArg(what: string, text: unknown): string;
/**
 * @param {string} name
 * @param {unknown} v
 * @param {{ min?: number }} [bounds]
 * @returns {number | undefined}
 */
export function intOption(name: string, v: unknown, { min }?: {
    min?: number;
}): number | undefined;
/** A page or limit option: a number, query-string text (the seed's parseInt rules), or absent. */
/**
 * @param {string} name
 * @param {unknown} v
 * @returns {number | string | null}
 */
export function pageOrLimit(name: string, v: unknown): number | string | null;
/**
 * The connection a callback completed: `{ account_id, owner }` plus the deprecated `accountId`
 * (not enumerable: `JSON.stringify` and `deepEqual` see the two canonical keys only).
 * @param {{ account_id: string, owner: string }} k
 * @returns {CallbackKey}
 */
export function callbackKey(k: {
    account_id: string;
    owner: string;
}): CallbackKey;
