/** A typed SOQL value made by the `soql.*` helpers (immutable). */
export class SoqlValue {
    /**
     * @param {'date' | 'datetime' | 'decimal' | 'id' | 'string'} type
     * @param {string} text
     * @private
     */
    private constructor();
    /** @readonly the SOQL type: `date`, `datetime`, `decimal`, `id` or `string` */
    readonly type: "string" | "date" | "datetime" | "decimal" | "id";
    /** @readonly the value's text */
    readonly text: string;
    /** The core's JSON form: `{ [type]: text }`. */
    toJSON(): {
        [x: string]: string;
    };
    toString(): string;
}
/**
 * A SOQL date (`YYYY-MM-DD`). A `Date` gives its UTC calendar day.
 * @param {string | Date} value e.g. `'2024-01-31'`
 * @returns {SoqlValue}
 */
export function date(value: string | Date): SoqlValue;
/**
 * A SOQL dateTime. A string is read by the core (`2024-01-31T09:30:00Z`, offsets, fractions);
 * a `Date` is its UTC instant.
 * @param {string | Date} value
 * @returns {SoqlValue}
 */
export function datetime(value: string | Date): SoqlValue;
/**
 * An exact decimal (`-?digits[.digits]`, e.g. `'12.50'`): the text is sent as written. A bigint
 * is its digits.
 * @param {string | bigint} value
 * @returns {SoqlValue}
 */
export function decimal(value: string | bigint): SoqlValue;
/**
 * A record Id (15 or 18 characters, checked by the core), bound as a quoted literal.
 * @param {string} value
 * @returns {SoqlValue}
 */
export function id(value: string): SoqlValue;
/**
 * A string, bound as a quoted, escaped literal (what a plain JavaScript string already is).
 * @param {string} value
 * @returns {SoqlValue}
 */
export function string(value: string): SoqlValue;
/**
 * The `params` option as JSON text for the addon, or null when absent.
 * @param {Record<string, unknown> | Map<string, unknown> | null | undefined} params
 * @returns {string | null}
 */
export function paramsJson(params: Record<string, unknown> | Map<string, unknown> | null | undefined): string | null;
