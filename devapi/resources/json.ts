/**
 * Lenient accessors over a decoded JSON object, read the way Go's decoder fills a struct:
 * a missing or mistyped field reads as its zero value (empty object, string or list).
 */
export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const obj = (v: unknown): Obj => (isObj(v) ? v : {});
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const clone = <T>(v: T): T => structuredClone(v);
