/**
 * core/v1 ConfigMap: what Go's decoder refuses (400), and ValidateConfigMap /
 * ValidateConfigMapUpdate (pkg/apis/core/validation, apimachinery IsConfigMapKey)
 * with their messages: keys, keys shared by data and binaryData, the 1 MiB total,
 * and `immutable`.
 */
import { isObj, str, type Obj } from './json.js';
import { subdomainErrors } from './csr-validation.js';
import { goBase64Json } from '../go/encoding.js';
import { ApiError, quote, type FieldError } from '../api/errors.js';

/** corev1.MaxSecretSize, the bound on a ConfigMap's data plus binaryData. */
export const MAX_CONFIGMAP_SIZE = 1024 * 1024;

const keyFormat = /^[-._a-zA-Z0-9]+$/;
const keyMessage = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

/** IsConfigMapKey. */
export function configMapKeyErrors(key: string): string[] {
  const errors = Buffer.byteLength(key, 'utf8') > 253 ? ['must be no more than 253 characters'] : [];
  if (!keyFormat.test(key)) errors.push(keyMessage);
  if (key === '.') errors.push("must not be '.'");
  else if (key === '..') errors.push("must not be '..'");
  else if (key.startsWith('..')) errors.push("must not start with '..'");
  return errors;
}

const jsonKind = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'boolean' ? 'bool' : typeof v);
const typeError = (v: unknown, field: string, goType: string): string => `json: cannot unmarshal ${jsonKind(v)} into Go struct field ConfigMap.${field} of type ${goType}`;

function decodeProblem(body: Obj): string | undefined {
  const { data, binaryData, immutable } = body;
  if (data !== undefined && data !== null) {
    if (!isObj(data)) return typeError(data, 'data', 'map[string]string');
    for (const v of Object.values(data)) if (v !== null && typeof v !== 'string') return typeError(v, 'data', 'string');
  }
  if (binaryData !== undefined && binaryData !== null) {
    if (!isObj(binaryData)) return typeError(binaryData, 'binaryData', 'map[string][]uint8');
    for (const v of Object.values(binaryData)) {
      if (v === null) continue;
      if (typeof v !== 'string') return typeError(v, 'binaryData', '[]uint8');
      const r = goBase64Json(v);
      if ('error' in r) return `illegal base64 data at input byte ${r.error}`;
    }
  }
  if (immutable !== undefined && immutable !== null && typeof immutable !== 'boolean') return typeError(immutable, 'immutable', 'bool');
  return undefined;
}

/** @throws ApiError 400 when Go's decoder would refuse the body. */
export function checkConfigMapDecodes(body: Obj): void {
  const problem = decodeProblem(body);
  if (problem !== undefined) throw new ApiError(400, 'BadRequest', `ConfigMap in version "v1" cannot be handled as a ConfigMap: ${problem}`);
}

const mapOf = (v: unknown): Record<string, unknown> => (isObj(v) ? v : {});
const sortedKeys = (v: unknown): string[] => Object.keys(mapOf(v)).sort();
const base64Length = (v: unknown): number => {
  const r = goBase64Json(str(v));
  return 'bytes' in r ? r.bytes.length : 0;
};

/** ValidateConfigMap: the name a DNS subdomain; every key valid and in only one of data and binaryData; at most 1 MiB in all. */
export function validateConfigMap(object: Obj): FieldError[] {
  const name = str(isObj(object.metadata) ? object.metadata.name : undefined);
  const errors: FieldError[] = name === '' ? [] : subdomainErrors(name).map((detail) => ({ type: 'FieldValueInvalid', field: 'metadata.name', value: quote(name), detail }));
  const data = mapOf(object.data);
  const binaryData = mapOf(object.binaryData);
  let total = 0;
  for (const key of sortedKeys(data)) {
    for (const detail of configMapKeyErrors(key)) errors.push({ type: 'FieldValueInvalid', field: `data[${key}]`, value: quote(key), detail });
    if (Object.hasOwn(binaryData, key)) errors.push({ type: 'FieldValueInvalid', field: `data[${key}]`, value: quote(key), detail: 'duplicate of key present in binaryData' });
    total += Buffer.byteLength(str(data[key]), 'utf8');
  }
  for (const key of sortedKeys(binaryData)) {
    for (const detail of configMapKeyErrors(key)) errors.push({ type: 'FieldValueInvalid', field: `binaryData[${key}]`, value: quote(key), detail });
    total += base64Length(binaryData[key]);
  }
  // Go reports the whole object, under the empty path.
  if (total > MAX_CONFIGMAP_SIZE) errors.push({ type: 'FieldValueTooLong', field: '', detail: `may not be more than ${MAX_CONFIGMAP_SIZE} bytes` });
  return errors;
}

/** reflect.DeepEqual of two maps as decoded: absent and null are nil, which is not the empty map. */
const sameMap = (a: unknown, b: unknown): boolean => {
  const canonical = (v: unknown): string => (v === undefined || v === null ? 'nil' : JSON.stringify(sortedKeys(v).map((k) => [k, mapOf(v)[k] ?? ''])));
  return canonical(a) === canonical(b);
};

/** ValidateConfigMapUpdate: an immutable ConfigMap keeps `immutable`, data and binaryData; then ValidateConfigMap. */
export function validateConfigMapUpdate(next: Obj, old: Obj): FieldError[] {
  const errors: FieldError[] = [];
  if (old.immutable === true) {
    const detail = 'field is immutable when `immutable` is set';
    if (next.immutable !== true) errors.push({ type: 'FieldValueForbidden', field: 'immutable', detail });
    if (!sameMap(next.data, old.data)) errors.push({ type: 'FieldValueForbidden', field: 'data', detail });
    if (!sameMap(next.binaryData, old.binaryData)) errors.push({ type: 'FieldValueForbidden', field: 'binaryData', detail });
  }
  return [...errors, ...validateConfigMap(next)];
}
