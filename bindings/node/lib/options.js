'use strict';
/**
 * Arguments of the `Client` methods turned into the addon's option objects (`lib/index.js`):
 * export specs with `where`/`params`, query options, integer and page/limit options, and the
 * callback's key object.
 */
const errors = require('./errors');
const soql = require('./soql');

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
function exportSpec(type, filter = {}) {
  /** @type {import('../index.js').ExportSpecInput} */
  let spec;
  if (typeof type === 'string') {
    spec = { type };
  } else if (type && typeof type === 'object' && typeof type.sobject === 'string') {
    const fields = type.fields === '*' ? ['*'] : type.fields;
    if (!Array.isArray(fields) || fields.some((f) => typeof f !== 'string')) {
      throw new errors.InvalidArgumentError("a custom export type needs fields: an array of field names, or '*' for every field", {
        kind: 'invalid_argument',
        kindCode: 100,
      });
    }
    spec = { sobject: type.sobject, fields };
  } else {
    throw new errors.InvalidArgumentError(
      "an export type is 'contacts', 'deals', 'notes' or { sobject, fields } (fields: an array of field names, or '*')",
      { kind: 'invalid_argument', kindCode: 100 },
    );
  }
  const where = filter.where;
  if (where !== undefined && where !== null) {
    if (typeof where !== 'string') {
      throw new errors.InvalidArgumentError('where is one SOQL condition as a string, e.g. "Industry = :industry"', {
        kind: 'invalid_argument',
        kindCode: 100,
      });
    }
    spec.where = where;
  }
  const params = soql.paramsJson(filter.params);
  if (params !== null) spec.paramsJson = params;
  return spec;
}

/**
 * The native options of a query.
 * @param {QueryOptions} options
 * @returns {import('../index.js').QueryOptionsInput}
 */
function queryOptions(options) {
  const children = options.children;
  if (children !== undefined && children !== null && children !== 'complete' && children !== 'asSent') {
    throw new errors.InvalidArgumentError("children is 'complete' (fetch the rest of every child cursor) or 'asSent'", {
      kind: 'invalid_argument',
      kindCode: 100,
    });
  }
  return {
    paramsJson: soql.paramsJson(options.params) ?? undefined,
    allRows: !!options.allRows,
    batchSize: intOption('batchSize', options.batchSize, { min: 1 }),
    resumeFrom: options.checkpoint ?? undefined,
    children: children ?? undefined,
    ...bulkOptions(options),
  };
}

/**
 * The native `mode` and `bulk` of an export or a query (`mode: 'bulk'`: a Bulk API 2.0 job; the
 * core checks the rest, e.g. `bulk` without `mode: 'bulk'`).
 * @param {{ mode?: 'rest' | 'bulk', bulk?: import('./index').BulkOptions }} options
 * @returns {{ mode?: string, bulk?: import('../index.js').BulkOptionsInput }}
 */
function bulkOptions(options) {
  const { mode, bulk } = options;
  if (mode !== undefined && mode !== null && mode !== 'rest' && mode !== 'bulk') {
    throw new errors.InvalidArgumentError(`mode is 'rest' or 'bulk', not ${JSON.stringify(mode)}`, {
      kind: 'invalid_argument',
      kindCode: 100,
    });
  }
  if (bulk === undefined || bulk === null) return { mode: mode ?? undefined };
  const fail = (/** @type {string} */ m) => new errors.InvalidArgumentError(m, { kind: 'invalid_argument', kindCode: 100 });
  if (typeof bulk !== 'object' || Array.isArray(bulk)) throw fail('bulk is an object: { maxRecords, concurrency, deleteJob, fallbackToRest, pollTimeoutMs }');
  const known = ['maxRecords', 'concurrency', 'deleteJob', 'fallbackToRest', 'pollTimeoutMs'];
  for (const k of Object.keys(bulk)) {
    if (!known.includes(k)) throw fail(`bulk has no option ${JSON.stringify(k)}; the options are ${known.join(', ')}`);
  }
  for (const k of /** @type {const} */ (['deleteJob', 'fallbackToRest'])) {
    if (bulk[k] !== undefined && typeof bulk[k] !== 'boolean') throw fail(`bulk.${k} must be a boolean`);
  }
  const timeout = bulk.pollTimeoutMs;
  if (timeout !== undefined && timeout !== null && (typeof timeout !== 'number' || !(timeout >= 0) || !Number.isFinite(timeout))) {
    throw fail('bulk.pollTimeoutMs must be a number of milliseconds >= 0');
  }
  return {
    mode: mode ?? undefined,
    bulk: {
      maxRecords: intOption('bulk.maxRecords', bulk.maxRecords, { min: 1 }),
      concurrency: intOption('bulk.concurrency', bulk.concurrency, { min: 1 }),
      deleteJob: bulk.deleteJob,
      fallbackToRest: bulk.fallbackToRest,
      pollTimeoutMs: timeout ?? undefined,
    },
  };
}

/**
 * @param {string} what
 * @param {unknown} text
 */
function soqlArg(what, text) {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new errors.InvalidArgumentError(`${what} needs the SOQL text (SELECT ... FROM ...)`, { kind: 'invalid_argument', kindCode: 100 });
  }
  return text;
}

/**
 * @param {string} name
 * @param {unknown} v
 * @param {{ min?: number }} [bounds]
 * @returns {number | undefined}
 */
function intOption(name, v, { min = 0 } = {}) {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new errors.InvalidArgumentError(`${name} must be an integer >= ${min}`, { kind: 'invalid_argument', kindCode: 100 });
  }
  return v;
}

/** A page or limit option: a number, query-string text (the seed's parseInt rules), or absent. */
/**
 * @param {string} name
 * @param {unknown} v
 * @returns {number | string | null}
 */
function pageOrLimit(name, v) {
  if (v === undefined || v === null) return null;
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string') return v;
  throw new errors.InvalidArgumentError(`${name} must be a number or a numeric string`, { kind: 'invalid_argument', kindCode: 100 });
}

/**
 * The connection a callback completed: `{ account_id, owner }` plus the deprecated `accountId`
 * (not enumerable: `JSON.stringify` and `deepEqual` see the two canonical keys only).
 * @param {{ account_id: string, owner: string }} k
 * @returns {CallbackKey}
 */
function callbackKey(k) {
  const key = { account_id: k.account_id, owner: k.owner };
  Object.defineProperty(key, 'accountId', {
    get() {
      return this.account_id;
    },
    enumerable: false,
  });
  return /** @type {CallbackKey} */ (key);
}

module.exports = { exportSpec, queryOptions, bulkOptions, soqlArg, intOption, pageOrLimit, callbackKey };
