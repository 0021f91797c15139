/**
 * A minimal decoder for the protobuf bodies kubectl ≥1.32 sends: the `k8s\0`
 * magic, a runtime.Unknown envelope, and a CertificateSigningRequest, SelfSubjectAccessReview, SubjectAccessReview, SelfSubjectReview,
 * Namespace or ConfigMap (`kubectl create namespace|configmap`) or ClusterTrustBundle inside it, returned in the JSON shape a JSON client would have sent.
 * (k8s.io/apimachinery pkg/runtime/generated.proto, pkg/apis/meta/v1/generated.proto and
 * time_proto.go; k8s.io/api certificates/v1, certificates/v1beta1, core/v1 and
 * authorization/v1 and authentication/v1 generated.proto)
 */
import { ApiError, badRequest } from '../api/errors.js';

/** What a field decodes to. `strings` is a message whose field 1 is a repeated string (ExtraValue). */
type Scalar = 'string' | 'bytes' | 'int' | 'bool' | 'time' | 'strings';
interface MapOf { readonly map: 'string' | 'strings' | 'bytes' }
type Schema = Readonly<Partial<Record<number, Field>>>;
interface Field {
  readonly name: string;
  readonly type: Scalar | MapOf | Schema;
  readonly repeated?: true;
  /** Go's JSON tag has no omitempty: an empty value on the wire is still emitted. */
  readonly keep?: true;
}

const f = (name: string, type: Field['type'], opts: { repeated?: true; keep?: true } = {}): Field => ({ name, type, ...opts });

const objectMeta: Schema = {
  1: f('name', 'string'), 2: f('generateName', 'string'), 3: f('namespace', 'string'), 5: f('uid', 'string'),
  6: f('resourceVersion', 'string'), 8: f('creationTimestamp', 'time'),
  11: f('labels', { map: 'string' }), 12: f('annotations', { map: 'string' }),
};
const csr: Schema = {
  1: f('metadata', objectMeta),
  2: f('spec', {
    1: f('request', 'bytes', { keep: true }), 7: f('signerName', 'string', { keep: true }), 8: f('expirationSeconds', 'int'),
    5: f('usages', 'string', { repeated: true }), 2: f('username', 'string'), 3: f('uid', 'string'),
    4: f('groups', 'string', { repeated: true }), 6: f('extra', { map: 'strings' }),
  }),
  3: f('status', {
    1: f('conditions', {
      1: f('type', 'string', { keep: true }), 6: f('status', 'string', { keep: true }), 2: f('reason', 'string'), 3: f('message', 'string'),
      4: f('lastUpdateTime', 'time'), 5: f('lastTransitionTime', 'time'),
    }, { repeated: true }),
    2: f('certificate', 'bytes'),
  }),
};
const ssar: Schema = {
  1: f('metadata', objectMeta),
  2: f('spec', {
    1: f('resourceAttributes', {
      1: f('namespace', 'string'), 2: f('verb', 'string'), 3: f('group', 'string'), 4: f('version', 'string'),
      5: f('resource', 'string'), 6: f('subresource', 'string'), 7: f('name', 'string'),
    }),
    2: f('nonResourceAttributes', { 1: f('path', 'string'), 2: f('verb', 'string') }),
  }),
  3: f('status', { 1: f('allowed', 'bool', { keep: true }), 4: f('denied', 'bool'), 2: f('reason', 'string'), 3: f('evaluationError', 'string') }),
};
// SubjectAccessReviewSpec adds the subject: user, groups, extra, uid.
const sar: Schema = {
  ...ssar,
  2: f('spec', {
    ...(ssar[2]?.type as Schema),
    3: f('user', 'string'), 4: f('groups', 'string', { repeated: true }), 5: f('extra', { map: 'strings' }), 6: f('uid', 'string'),
  }),
};
// `kubectl auth whoami` sends an empty review: metadata, and a status it leaves empty.
const ssr: Schema = { 1: f('metadata', objectMeta) };
const namespace: Schema = {
  1: f('metadata', objectMeta), 2: f('spec', { 1: f('finalizers', 'string', { repeated: true }) }), 3: f('status', { 1: f('phase', 'string') }),
};
// immutable is a *bool: present on the wire means set, false included.
const configMap: Schema = { 1: f('metadata', objectMeta), 2: f('data', { map: 'string' }), 3: f('binaryData', { map: 'bytes' }), 4: f('immutable', 'bool', { keep: true }) };
const clusterTrustBundle: Schema = { 1: f('metadata', objectMeta), 2: f('spec', { 1: f('signerName', 'string'), 2: f('trustBundle', 'string', { keep: true }) }) };
// k8s.io/api core/v1 generated.proto ServiceAccount: metadata 1, secrets 2 (ObjectReference), imagePullSecrets 3
// (LocalObjectReference), automountServiceAccountToken 4 (a *bool: present on the wire means set). `kubectl create
// serviceaccount` sends protobuf.
const objectReference: Schema = {
  1: f('kind', 'string'), 2: f('namespace', 'string'), 3: f('name', 'string'), 4: f('uid', 'string'),
  5: f('apiVersion', 'string'), 6: f('resourceVersion', 'string'), 7: f('fieldPath', 'string'),
};
const serviceAccount: Schema = {
  1: f('metadata', objectMeta), 2: f('secrets', objectReference, { repeated: true }),
  3: f('imagePullSecrets', { 1: f('name', 'string') }, { repeated: true }), 4: f('automountServiceAccountToken', 'bool', { keep: true }),
};
// ClusterTrustBundle has the same fields and field numbers in certificates/v1 and v1beta1.
const kinds: ReadonlyMap<string, { readonly apiVersions: readonly string[]; readonly schema: Schema }> = new Map([
  ['CertificateSigningRequest', { apiVersions: ['certificates.k8s.io/v1'], schema: csr }],
  ['SelfSubjectAccessReview', { apiVersions: ['authorization.k8s.io/v1'], schema: ssar }],
  ['SubjectAccessReview', { apiVersions: ['authorization.k8s.io/v1'], schema: sar }],
  ['SelfSubjectReview', { apiVersions: ['authentication.k8s.io/v1'], schema: ssr }],
  ['Namespace', { apiVersions: ['v1'], schema: namespace }],
  ['ConfigMap', { apiVersions: ['v1'], schema: configMap }],
  ['ServiceAccount', { apiVersions: ['v1'], schema: serviceAccount }],
  ['ClusterTrustBundle', { apiVersions: ['certificates.k8s.io/v1', 'certificates.k8s.io/v1beta1'], schema: clusterTrustBundle }],
]);

const magic = [0x6b, 0x38, 0x73, 0x00];
const utf8 = new TextDecoder('utf-8', { fatal: true });
const malformed = (detail: string, path: string): ApiError => badRequest(`unable to decode the protobuf body: ${detail} at ${path}`);

type WireValue = bigint | Uint8Array;

/** Every field of one message, in wire order; unknown fields come back too and are skipped by the caller. */
function* fields(buf: Uint8Array, path: string): Generator<[number, number, WireValue]> {
  let pos = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = buf[pos++];
      if (byte === undefined) throw malformed('truncated varint', path);
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, value);
    }
    throw malformed('varint longer than 10 bytes', path);
  };
  const take = (n: number): Uint8Array => {
    if (n > buf.length - pos) throw malformed(`truncated field (${n} bytes announced, ${buf.length - pos} left)`, path);
    pos += n;
    return buf.subarray(pos - n, pos);
  };
  while (pos < buf.length) {
    const key = varint();
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (no === 0 || no > 0x1fffffff) throw malformed(`invalid field number ${no}`, path);
    if (wire === 0) yield [no, wire, varint()];
    else if (wire === 1) yield [no, wire, take(8)];
    else if (wire === 2) yield [no, wire, take(Number(varint()))];
    else if (wire === 5) yield [no, wire, take(4)];
    else throw malformed(`unsupported wire type ${wire} for field ${no}`, path);
  }
}

const wireOf = (type: Field['type']): number => (type === 'int' || type === 'bool' ? 0 : 2);

/** metav1.Time: an empty message is the zero time (unset); nanos are dropped as the apiserver does. */
function decodeTime(buf: Uint8Array, path: string): string | undefined {
  if (buf.length === 0) return undefined;
  let seconds = 0n;
  for (const [no, wire, value] of fields(buf, path)) if (no === 1 && wire === 0) seconds = BigInt.asIntN(64, value as bigint);
  // Year 0000 through 9999, the range Go's RFC 3339 marshalling accepts.
  if (seconds < -62_167_219_200n || seconds > 253_402_300_799n) throw malformed(`time ${seconds}s is out of range`, path);
  return new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

function decodeScalar(type: Scalar, value: WireValue, path: string): unknown {
  if (typeof value === 'bigint') return type === 'bool' ? value !== 0n : Number(BigInt.asIntN(64, value));
  switch (type) {
    case 'bytes': return Buffer.from(value).toString('base64');
    case 'time': return decodeTime(value, path);
    case 'strings': return [...fields(value, path)].filter(([no]) => no === 1).map(([, , v]) => decodeScalar('string', v, path));
    default:
      try { return utf8.decode(value); } catch { throw malformed('invalid UTF-8 in a string', path); }
  }
}

/** Go's omitempty for the scalars we decode (ints here are pointers: present means set). */
const isEmpty = (v: unknown): boolean => v === '' || v === false;

function decodeMessage(buf: Uint8Array, schema: Schema, path: string): Record<string, unknown> {
  const out: [string, unknown][] = [];
  const repeated = new Map<string, unknown[]>();
  const maps = new Map<string, [string, unknown][]>();
  for (const [no, wire, value] of fields(buf, path)) {
    const field = schema[no];
    if (field === undefined) continue;
    const at = `${path}.${field.name}`;
    if (wire !== wireOf(field.type)) throw malformed(`wire type ${wire} where ${wireOf(field.type)} was expected`, at);
    const type = field.type;
    if (typeof type === 'object' && 'map' in type) {
      const entry = decodeMessage(value as Uint8Array, { 1: f('key', 'string', { keep: true }), 2: f('value', type.map, { keep: true }) }, at);
      const list = maps.get(field.name) ?? [];
      list.push([typeof entry['key'] === 'string' ? entry['key'] : '', entry['value'] ?? (type.map === 'strings' ? [] : '')]);
      maps.set(field.name, list);
      continue;
    }
    const decoded = typeof type === 'string' ? decodeScalar(type, value, at) : decodeMessage(value as Uint8Array, type, at);
    if (field.repeated) {
      const list = repeated.get(field.name) ?? [];
      list.push(decoded);
      repeated.set(field.name, list);
    } else if (decoded !== undefined && (field.keep || !isEmpty(decoded))) out.push([field.name, decoded]);
  }
  for (const [name, list] of repeated) out.push([name, list]);
  // fromEntries defines own properties, so a label named "__proto__" stays a label.
  for (const [name, entries] of maps) out.push([name, Object.fromEntries(entries)]);
  return Object.fromEntries(out);
}

/**
 * Decodes a `application/vnd.kubernetes.protobuf` request body. Throws 400 for malformed input and
 * 415 for a kind devapi cannot read.
 */
export function decodeKubernetesProtobuf(body: Uint8Array): { apiVersion: string; kind: string; object: Record<string, unknown> } {
  if (body.length < 4 || magic.some((b, i) => body[i] !== b)) {
    throw badRequest('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  }
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array = new Uint8Array();
  let contentEncoding = '';
  for (const [no, wire, value] of fields(body.subarray(4), 'Unknown')) {
    if (wire !== 2 || no > 4) continue;
    const bytes = value as Uint8Array;
    if (no === 1) {
      const typeMeta = decodeMessage(bytes, { 1: f('apiVersion', 'string'), 2: f('kind', 'string') }, 'Unknown.typeMeta');
      apiVersion = typeof typeMeta['apiVersion'] === 'string' ? typeMeta['apiVersion'] : '';
      kind = typeof typeMeta['kind'] === 'string' ? typeMeta['kind'] : '';
    } else if (no === 2) raw = bytes;
    else if (no === 3) contentEncoding = decodeScalar('string', bytes, 'Unknown.contentEncoding') as string;
  }
  const known = kinds.get(kind);
  if (known === undefined || !known.apiVersions.includes(apiVersion) || contentEncoding !== '') {
    throw new ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf');
  }
  return { apiVersion, kind, object: { apiVersion, kind, ...decodeMessage(raw, known.schema, kind) } };
}
