/**
 * Typed reads of a parsed YAML value, each failing with InvalidConfig naming the
 * file, the signer and the field path (`signers[1].policy.ipRanges[0]`).
 */
import { visit, type Document } from 'yaml';
import { parseDuration } from '../duration.js';
import { csrError, isCsrSignerError, type CsrSignerError } from '../errors.js';
import { parseWholeNumber } from '../numbers.js';

export type Mapping = Readonly<Record<string, unknown>>;

/**
 * A YAML number not written as plain decimal digits (0x258, 0o17, 1e3, 1.0, +5, 012,
 * -1, .inf, a whole number beyond 2^53): YAML 1.2 and YAML 1.1 read several of these
 * differently, and none is a count csr-signer takes. It stays in the parsed value so
 * that the field it is given to can refuse it by name.
 */
export class UnplainNumber {
  constructor(readonly text: string) {}
}

/** Replaces every such number of `doc` with an UnplainNumber (before toJS). */
export function markUnplainNumbers(doc: Document): void {
  visit(doc, {
    Scalar(key, node) {
      // Keys stay as they are: a mapping key becomes a string anyway.
      if (key === 'key' || (typeof node.value !== 'number' && typeof node.value !== 'bigint')) return;
      const text = node.source ?? String(node.value);
      if (!('value' in parseWholeNumber(text))) node.value = new UnplainNumber(text);
    },
  });
}

/** A parsed value as messages show it: JSON, or a number as it was written. */
export const shown = (value: unknown): string => (value instanceof UnplainNumber ? value.text : JSON.stringify(value));

const typeOf = (value: unknown): string => {
  if (value instanceof UnplainNumber) return `the number ${value.text}`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  return typeof value;
};

/** Reads fields of one part of the file; `where` is `file` or `file: signer "name"`. */
export class Fields {
  constructor(readonly where: string) {}

  fail(path: string, detail: string): CsrSignerError {
    return csrError('InvalidConfig', this.where, path, detail);
  }

  /** A mapping whose keys are all in `keys`; the first unknown key is an error that names it. `path` '' is the document; no `keys`, any key. */
  mapping(value: unknown, path: string, keys?: readonly string[]): Mapping {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.fail(path === '' ? '(document)' : path, `must be a mapping, not ${typeOf(value)}`);
    }
    for (const key of Object.keys(value)) {
      if (keys === undefined || keys.includes(key)) continue;
      const owner = path === '' ? 'the top-level fields are' : `the fields of ${path} are`;
      throw this.fail(path === '' ? key : `${path}.${key}`, `unknown field; ${owner} ${keys.join(', ')}`);
    }
    return value as Mapping;
  }

  list(value: unknown, path: string): readonly unknown[] {
    if (!Array.isArray(value)) throw this.fail(path, `must be a list, not ${typeOf(value)}`);
    return value as readonly unknown[];
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') throw this.fail(path, `must be a string, not ${typeOf(value)}`);
    if (value === '') throw this.fail(path, 'must not be empty');
    return value;
  }

  optionalString(value: unknown, path: string): string | undefined {
    return value === undefined ? undefined : this.string(value, path);
  }

  boolean(value: unknown, path: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') throw this.fail(path, `must be true or false, not ${typeOf(value)}`);
    return value;
  }

  /** A count written in plain decimal digits, at least 1 (src/numbers.ts decides the form). */
  positiveInteger(value: unknown, path: string): number | undefined {
    if (value === undefined) return undefined;
    if (value instanceof UnplainNumber) {
      const parsed = parseWholeNumber(value.text);
      throw this.fail(path, `must be a whole number of at least 1, not ${typeOf(value)}: ${'problem' in parsed ? parsed.problem : 'it is not written in decimal digits'}`);
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw this.fail(path, `must be a whole number of at least 1, not ${typeOf(value)}`);
    }
    return value;
  }

  /** A Go duration string, in milliseconds. */
  duration(value: unknown, path: string): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw this.fail(path, `must be a Go duration string such as "720h", not ${typeOf(value)}`);
    try {
      return parseDuration(value);
    } catch (e) {
      if (isCsrSignerError(e)) throw this.fail(path, e.message);
      throw e;
    }
  }

  /**
   * A list of distinct non-empty strings, each passing `check` (which returns a
   * problem or undefined). `allowEmpty` false refuses `[]`.
   */
  strings(value: unknown, path: string, options: { allowEmpty: boolean; check?: (item: string) => string | undefined }): string[] | undefined {
    if (value === undefined) return undefined;
    const items = this.list(value, path);
    if (items.length === 0 && !options.allowEmpty) throw this.fail(path, 'must not be empty (leave the field out instead)');
    const seen = new Set<string>();
    return items.map((item, i) => {
      const text = this.string(item, `${path}[${i}]`);
      if (seen.has(text)) throw this.fail(`${path}[${i}]`, `${JSON.stringify(text)} is listed twice`);
      seen.add(text);
      const problem = options.check?.(text);
      if (problem !== undefined) throw this.fail(`${path}[${i}]`, problem);
      return text;
    });
  }

  /** One of a fixed set of strings. */
  oneOf<T extends string>(value: unknown, path: string, choices: readonly T[], fallback: T): T {
    if (value === undefined) return fallback;
    const text = this.string(value, path);
    if (!(choices as readonly string[]).includes(text)) {
      throw this.fail(path, `${JSON.stringify(text)} is not one of ${choices.join(', ')}`);
    }
    return text as T;
  }
}
