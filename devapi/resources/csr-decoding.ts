/**
 * The JSON of a CertificateSigningRequest as kube-apiserver's Go decoder sees it: its fields
 * (lenient, over json.ts), the errors the decoder answers 400 with, and what a decode + encode
 * round trip of the status keeps.
 */
import { goBase64Json, jsonBytes, toBase64 } from '../go/encoding.js';
import { ApiError, quote } from '../api/errors.js';
import { kubeTime } from '../storage/kube-object.js';
import { isObj, list, obj, str, type Obj } from './json.js';

export const spec = (o: Obj): Obj => obj(o.spec);
export const conditionsOf = (o: Obj): Obj[] => list(obj(o.status).conditions).map(obj);
export const usagesOf = (o: Obj): string[] => list(spec(o).usages).map(str);
export const certificateOf = (o: Obj): Uint8Array => jsonBytes(obj(o.status).certificate);

// ------------------------------------------------------------------ decoding (what Go's decoder refuses with 400)

const jsonKind = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'boolean' ? 'bool' : typeof v);
/** A JSON document has no undefined values: a key holding one is absent. */
const entries = (o: Obj): [string, unknown][] => Object.entries(o).filter(([, v]) => v !== undefined);
const typeError = (v: unknown, struct: string, path: string, goType: string): string =>
  `json: cannot unmarshal ${jsonKind(v)} into Go struct field ${struct}.${path} of type ${goType}`;
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function bytesError(v: unknown, struct: string, path: string): string | undefined {
  if (v === null) return undefined;
  if (typeof v !== 'string') return typeError(v, struct, path, '[]uint8');
  const r = goBase64Json(v);
  return 'error' in r ? `illegal base64 data at input byte ${r.error}` : undefined;
}
function stringError(v: unknown, struct: string, path: string, goType = 'string'): string | undefined {
  return v === null || typeof v === 'string' ? undefined : typeError(v, struct, path, goType);
}

/** The first error Go's JSON decoder reports for the fields it types, or undefined. */
function decodeProblem(body: Obj): string | undefined {
  let saved: string | undefined;
  const save = (e: string | undefined): void => { saved ??= e; };
  for (const [key, value] of entries(body)) {
    if (value === null) continue;
    if (key === 'spec') {
      if (!isObj(value)) { save(typeError(value, 'CertificateSigningRequest', 'spec', 'v1.CertificateSigningRequestSpec')); continue; }
      const S = 'CertificateSigningRequestSpec';
      for (const [k, v] of entries(value)) {
        if (k === 'request') save(bytesError(v, S, 'spec.request'));
        else if (k === 'signerName' || k === 'username' || k === 'uid') save(stringError(v, S, `spec.${k}`));
        else if (k === 'expirationSeconds' && v !== null) {
          if (typeof v !== 'number') save(typeError(v, S, 'spec.expirationSeconds', 'int32'));
          else if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) save(`json: cannot unmarshal number ${v} into Go struct field ${S}.spec.expirationSeconds of type int32`);
        } else if ((k === 'usages' || k === 'groups') && v !== null) {
          if (!Array.isArray(v)) save(typeError(v, S, `spec.${k}`, k === 'usages' ? '[]v1.KeyUsage' : '[]string'));
          else for (const u of v) save(stringError(u, S, `spec.${k}`, k === 'usages' ? 'v1.KeyUsage' : 'string'));
        }
      }
    } else if (key === 'status') {
      if (!isObj(value)) { save(typeError(value, 'CertificateSigningRequest', 'status', 'v1.CertificateSigningRequestStatus')); continue; }
      const S = 'CertificateSigningRequestStatus';
      for (const [k, v] of entries(value)) {
        if (k === 'certificate') save(bytesError(v, S, 'status.certificate'));
        if (k !== 'conditions' || v === null) continue;
        if (!Array.isArray(v)) { save(typeError(v, S, 'status.conditions', '[]v1.CertificateSigningRequestCondition')); continue; }
        for (const c of v) {
          if (c === null) continue;
          if (!isObj(c)) { save(typeError(c, S, 'status.conditions', 'v1.CertificateSigningRequestCondition')); continue; }
          const C = 'CertificateSigningRequestCondition';
          for (const [ck, cv] of entries(c)) {
            if (ck === 'type') save(stringError(cv, C, 'status.conditions.type', 'v1.RequestConditionType'));
            else if (ck === 'status') save(stringError(cv, C, 'status.conditions.status', 'v1.ConditionStatus'));
            else if (ck === 'reason' || ck === 'message') save(stringError(cv, C, `status.conditions.${ck}`));
            else if ((ck === 'lastUpdateTime' || ck === 'lastTransitionTime') && cv !== null) {
              // metav1.Time.UnmarshalJSON's error ends decoding at once, ahead of any saved error.
              if (typeof cv !== 'string') return `json: cannot unmarshal ${jsonKind(cv)} into Go value of type string`;
              if (!rfc3339.test(cv) || Number.isNaN(Date.parse(cv))) return `parsing time ${quote(cv)} as "2006-01-02T15:04:05Z07:00": cannot parse ${quote(cv)} as "2006"`;
            }
          }
        }
      }
    }
  }
  return saved;
}

/**
 * The 400 kube-apiserver answers when the body cannot be decoded into the typed object
 * (a []byte field that is not base64, a number where a string belongs…), or undefined.
 * Time-format errors are approximated (Go names the failing layout element).
 */
export function csrDecodeError(body: Record<string, unknown>): ApiError | undefined {
  const problem = decodeProblem(body);
  return problem === undefined ? undefined : new ApiError(400, 'BadRequest', `CertificateSigningRequest in version "v1" cannot be handled as a CertificateSigningRequest: ${problem}`);
}

// ------------------------------------------------------------------ normalisation (what the round trip keeps)

function normaliseTime(v: unknown): string | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? v : kubeTime(new Date(ms));
}

function normaliseCondition(c: Obj): Obj {
  const out: Obj = { type: str(c.type), status: str(c.status) };
  if (str(c.reason) !== '') out.reason = c.reason;
  if (str(c.message) !== '') out.message = c.message;
  const updated = normaliseTime(c.lastUpdateTime);
  const transitioned = normaliseTime(c.lastTransitionTime);
  if (updated !== undefined) out.lastUpdateTime = updated;
  if (transitioned !== undefined) out.lastTransitionTime = transitioned;
  return out;
}

export function normaliseStatus(status: Obj): Obj {
  const out: Obj = {};
  const conditions = list(status.conditions).filter(isObj).map(normaliseCondition);
  if (conditions.length > 0) out.conditions = conditions;
  const certificate = jsonBytes(status.certificate);
  if (certificate.length > 0) out.certificate = toBase64(certificate);
  return out;
}
