'use strict';
/**
 * SOQL bind values: what `params` of `client.query`, `queryOne`, `export`, `exportPage` and
 * `exportToFile` accept, and the helpers for the SOQL types JavaScript has no value for.
 *
 * ```js
 * const { soql } = require('sfcrm');
 * for await (const c of client.query(key,
 *     'SELECT Id, Name FROM Contact WHERE LastName = :name AND CreatedDate > :after AND Id IN :ids',
 *     { params: { name: "O'Brien", after: new Date('2024-01-01T00:00:00Z'), ids: ['003…', '003…'] } })) { … }
 * await client.queryOne(key, 'SELECT Id FROM Opportunity WHERE CloseDate = :d AND Amount > :min',
 *     { params: { d: soql.date('2024-01-31'), min: soql.decimal('12.50') } });
 * ```
 *
 * A `:name` placeholder (outside string literals; not `LAST_N_DAYS:30`, not a time) is replaced
 * by the value's SOQL literal by the Rust core (`sfcrm_core::soql::bind`): strings are escaped
 * (quotes, backslashes, newlines, ... [salesforce-api.md §8]), so a value can never change the
 * query's structure. A missing or unused name is an `InvalidArgumentError` before any request.
 *
 * JavaScript values → SOQL:
 * - string → a quoted string literal; boolean → `true`/`false`; `null` → `null`;
 * - an integer number (in the 64-bit range) → an integer; any other finite number → a decimal,
 *   written with the shortest text that reads back as the same number (`0.1` → `0.1`,
 *   `1e-7` → `0.0000001`); `NaN` and `±Infinity` are refused;
 * - bigint → an integer (-2^63 ≤ n < 2^63, else refused);
 * - `Date` → a dateTime in UTC (`2024-01-31T09:30:00.000Z`); an invalid Date is refused;
 * - an array → a list for `IN` / `NOT IN` (`('a','b')`; an empty list is refused by the core);
 * - `soql.date('2024-01-31')`, `soql.datetime('…')`, `soql.decimal('12.50')` (exact: the text is
 *   kept), `soql.id('001…')`, `soql.string('…')`: typed values, checked where they are written;
 * - `undefined`, functions, symbols → `InvalidArgumentError` naming the parameter.
 *
 * On the way to the core the values are JSON in the core's form (`Params::from_json`, the same
 * form the C ABI and the CLI take): numbers as JSON numbers, typed values as one-key objects
 * `{"date": "2024-01-31"}`. A plain object of that form is accepted as a value too.
 */
const native = require('../index.js');
const errors = require('./errors');

/**
 * @param {string} message
 * @returns {import('./errors').InvalidArgumentError}
 */
function invalid(message) {
  return new errors.InvalidArgumentError(message, { kind: 'invalid_argument', kindCode: 100 });
}

/** A typed SOQL value made by the `soql.*` helpers (immutable). */
class SoqlValue {
  /**
   * @param {'date' | 'datetime' | 'decimal' | 'id' | 'string'} type
   * @param {string} text
   * @private
   */
  constructor(type, text) {
    /** @readonly the SOQL type: `date`, `datetime`, `decimal`, `id` or `string` */
    this.type = type;
    /** @readonly the value's text */
    this.text = text;
    Object.freeze(this);
  }
  /** The core's JSON form: `{ [type]: text }`. */
  toJSON() {
    return { [this.type]: this.text };
  }
  toString() {
    return `soql.${this.type}(${JSON.stringify(this.text)})`;
  }
}

/**
 * Makes a typed value and checks it now with the core's rules (so a bad date fails where it is
 * written rather than at the query).
 * @param {'date' | 'datetime' | 'decimal' | 'id' | 'string'} type
 * @param {string} text
 * @returns {SoqlValue}
 */
function typed(type, text) {
  const v = new SoqlValue(type, text);
  try {
    errors.callSync(() => native.checkParams(JSON.stringify({ value: v })));
  } catch (e) {
    // The core names the wrapper's key; name the helper instead.
    if (e instanceof errors.InvalidArgumentError) e.message = e.message.replace(/^bind param "value": /, `soql.${type}(): `);
    throw e;
  }
  return v;
}

/**
 * @param {string} name
 * @param {unknown} v
 * @returns {string}
 */
function textArg(name, v) {
  if (typeof v !== 'string') throw invalid(`soql.${name}() takes a string, not ${describe(v)}`);
  return v;
}

/**
 * A SOQL date (`YYYY-MM-DD`). A `Date` gives its UTC calendar day.
 * @param {string | Date} value e.g. `'2024-01-31'`
 * @returns {SoqlValue}
 */
function date(value) {
  if (value instanceof Date) return typed('date', isoDate(value, 'soql.date()').slice(0, 10));
  return typed('date', textArg('date', value));
}

/**
 * A SOQL dateTime. A string is read by the core (`2024-01-31T09:30:00Z`, offsets, fractions);
 * a `Date` is its UTC instant.
 * @param {string | Date} value
 * @returns {SoqlValue}
 */
function datetime(value) {
  if (value instanceof Date) return typed('datetime', isoDate(value, 'soql.datetime()'));
  return typed('datetime', textArg('datetime', value));
}

/**
 * An exact decimal (`-?digits[.digits]`, e.g. `'12.50'`): the text is sent as written. A bigint
 * is its digits.
 * @param {string | bigint} value
 * @returns {SoqlValue}
 */
function decimal(value) {
  if (typeof value === 'bigint') return typed('decimal', value.toString());
  return typed('decimal', textArg('decimal', value));
}

/**
 * A record Id (15 or 18 characters, checked by the core), bound as a quoted literal.
 * @param {string} value
 * @returns {SoqlValue}
 */
function id(value) {
  return typed('id', textArg('id', value));
}

/**
 * A string, bound as a quoted, escaped literal (what a plain JavaScript string already is).
 * @param {string} value
 * @returns {SoqlValue}
 */
function string(value) {
  return typed('string', textArg('string', value));
}

/**
 * @param {Date} d
 * @param {string} where
 * @returns {string}
 */
function isoDate(d, where) {
  if (Number.isNaN(d.getTime())) throw invalid(`${where}: the Date is invalid`);
  return d.toISOString();
}

/** @param {unknown} v */
function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? `an object (${Object.prototype.toString.call(v)})` : `a ${typeof v}`;
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/**
 * One bind value as JSON text in the core's form.
 * @param {unknown} v
 * @param {string} name the parameter (for messages)
 * @returns {string}
 */
function encode(v, name) {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw invalid(`bind value :${name} is ${v}; SOQL has no such number`);
      // The shortest round-trip text (`0.1`, `1e-7`); the core writes an exponent out.
      return JSON.stringify(v);
    case 'bigint':
      if (v < I64_MIN || v > I64_MAX) {
        throw invalid(`bind value :${name} (${v}) is outside the 64-bit integer range; use soql.decimal('${v}')`);
      }
      return v.toString();
    case 'undefined':
      throw invalid(`bind value :${name} is undefined; pass null for a SOQL null, or leave the placeholder out`);
    case 'object':
      break;
    default:
      throw invalid(`bind value :${name} is ${describe(v)}; use a string, number, bigint, boolean, null, Date, array or a soql.* value`);
  }
  if (v instanceof SoqlValue) return JSON.stringify(v.toJSON());
  if (v instanceof Date) return JSON.stringify({ datetime: isoDate(v, `bind value :${name}`) });
  // Array.from visits holes (`[1, , 2]`) as undefined, refused by name; `map` would skip them
  // and produce JSON the core cannot read.
  if (Array.isArray(v)) return `[${Array.from(v, (item, i) => encode(item, `${name}[${i}]`)).join(',')}]`;
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    // The core's one-key typed form ({"date": "2024-01-31"}), checked by the core.
    return JSON.stringify(v);
  }
  throw invalid(`bind value :${name} is ${describe(v)}; use a string, number, bigint, boolean, null, Date, array or a soql.* value`);
}

/**
 * The `params` option as JSON text for the addon, or null when absent.
 * @param {Record<string, unknown> | Map<string, unknown> | null | undefined} params
 * @returns {string | null}
 */
function paramsJson(params) {
  if (params === undefined || params === null) return null;
  /** @type {[string, unknown][]} */
  let entries;
  if (params instanceof Map) {
    entries = [...params.entries()];
  } else if (typeof params === 'object' && !Array.isArray(params) && !(params instanceof SoqlValue)) {
    entries = Object.entries(params);
  } else {
    throw invalid('params is an object of bind values: { name: value, ... }');
  }
  const parts = entries.map(([name, value]) => {
    if (typeof name !== 'string') throw invalid('bind value names are strings');
    return `${JSON.stringify(name)}:${encode(value, name)}`;
  });
  return `{${parts.join(',')}}`;
}

module.exports = { SoqlValue, date, datetime, decimal, id, string, paramsJson };
