/**
 * devapi wire formats: the kubectl protobuf body decoder, JSON patch / merge patch, and the
 * server-side Table printers with apimachinery's HumanDuration.
 */
import fc from 'fast-check';
import t from 'tap';
import { applyJsonPatch, applyMergePatch } from '../../devapi/storage/patch.js';
import { decodeKubernetesProtobuf } from '../../devapi/server/protobuf.js';
import { ApiError } from '../../devapi/api/errors.js';
import { csrCondition, csrTable, eventTable, genericTable, humanDuration, leaseTable } from '../../devapi/server/table-printers.js';

// ---- a tiny protobuf encoder, by field number ----
type Bytes = number[];
const varint = (n: number | bigint): Bytes => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: Bytes = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v === 0n ? low : low | 0x80);
  } while (v !== 0n);
  return out;
};
const key = (no: number, wire: number): Bytes => varint((no << 3) | wire);
const ld = (no: number, body: string | Bytes | Uint8Array): Bytes => {
  const bytes = typeof body === 'string' ? [...Buffer.from(body)] : [...body];
  return [...key(no, 2), ...varint(bytes.length), ...bytes];
};
const msg = (no: number, ...parts: Bytes[]): Bytes => ld(no, parts.flat());
const int = (no: number, n: number | bigint): Bytes => [...key(no, 0), ...varint(n)];
const time = (no: number, seconds?: number, nanos = 0): Bytes => (seconds === undefined ? msg(no) : msg(no, int(1, seconds), ...(nanos ? [int(2, nanos)] : [])));
const entry = (no: number, k: string, value: Bytes): Bytes => msg(no, ld(1, k), value);
const magic = [0x6b, 0x38, 0x73, 0x00];
const envelope = (apiVersion: string, kind: string, raw: Bytes, contentEncoding = ''): Uint8Array =>
  Uint8Array.from([...magic, ...msg(1, ld(1, apiVersion), ld(2, kind)), ...ld(2, raw), ...ld(3, contentEncoding), ...ld(4, '')]);
const csrBody = (...raw: Bytes[]): Uint8Array => envelope('certificates.k8s.io/v1', 'CertificateSigningRequest', raw.flat());

const der = Buffer.from('3082010a0282010100c3a1', 'hex');
const created = Date.parse('2026-11-28T16:52:17Z') / 1000;

/**
 * What `kubectl certificate approve` (1.32) PUTs to …/approval, field by field in gogo-protobuf's
 * order: every non-pointer field present even when empty, the condition's lastTransitionTime an
 * empty Time, and managedFields (not decoded) in the way.
 */
const approvalBody = csrBody(
  msg(1, // ObjectMeta
    ld(1, 'node-csr-abc'), ld(2, ''), ld(3, ''), ld(4, ''), ld(5, '1f6e0c3a-8d52-4f43-9b1e-2c1d1e0c7a11'), ld(6, '4182'), int(7, 0),
    time(8, created), entry(11, 'app', ld(2, 'web')), entry(12, 'note', ld(2, 'hello')),
    msg(17, ld(1, 'kubectl-create'), ld(2, 'Update'), ld(3, 'certificates.k8s.io/v1'), time(4, created), ld(6, 'FieldsV1'), msg(7, ld(1, '{"f:spec":{}}')))),
  msg(2, // spec
    ld(1, der), ld(2, 'system:node:worker-1'), ld(3, 'b9a1c2d3'), ld(4, 'system:nodes'), ld(4, 'system:authenticated'),
    ld(5, 'digital signature'), ld(5, 'client auth'), entry(6, 'scopes', msg(2, ld(1, 'a'), ld(1, 'b'))),
    ld(7, 'kubernetes.io/kube-apiserver-client-kubelet'), int(8, 86400)),
  msg(3, // status
    msg(1, ld(1, 'Approved'), ld(2, 'KubectlApprove'), ld(3, 'This CSR was approved by kubectl certificate approve.'),
      time(4, created + 60), time(5), ld(6, 'True'))),
);
const approvalJson = {
  apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest',
  metadata: {
    name: 'node-csr-abc', uid: '1f6e0c3a-8d52-4f43-9b1e-2c1d1e0c7a11', resourceVersion: '4182', creationTimestamp: '2026-11-28T16:52:17Z',
    labels: { app: 'web' }, annotations: { note: 'hello' },
  },
  spec: {
    request: der.toString('base64'), username: 'system:node:worker-1', uid: 'b9a1c2d3', signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
    expirationSeconds: 86400, groups: ['system:nodes', 'system:authenticated'], usages: ['digital signature', 'client auth'], extra: { scopes: ['a', 'b'] },
  },
  status: {
    conditions: [{
      type: 'Approved', reason: 'KubectlApprove', message: 'This CSR was approved by kubectl certificate approve.', lastUpdateTime: '2026-11-28T16:53:17Z', status: 'True',
    }],
  },
};

/** `kubectl auth can-i update certificatesigningrequests/approval -n kube-system`, bytes written out by hand (field numbers from k8s.io/api authorization/v1 generated.proto). */
const canIHex = '6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a65637441636365737352657669657712740a100a0012001a0022002a0032003800420012560a540a0b6b7562652d73797374656d12067570646174651a136365727469666963617465732e6b38732e696f22002a1a63657274696669636174657369676e696e6772657175657374733208617070726f76616c3a001a08080012001a0020001a002200';

void t.test('a kubectl approval body decodes to the object a JSON client would have sent', (t) => {
  const decoded = decodeKubernetesProtobuf(approvalBody);
  t.equal(decoded.apiVersion, 'certificates.k8s.io/v1');
  t.equal(decoded.kind, 'CertificateSigningRequest');
  t.strictSame(decoded.object, approvalJson);
  t.notOk('lastTransitionTime' in ((decoded.object['status'] as { conditions: object[] }).conditions[0] ?? {}), 'an empty Time message means the field is unset');
  t.end();
});

void t.test('a kubectl auth can-i body decodes to a SelfSubjectAccessReview', (t) => {
  t.strictSame(decodeKubernetesProtobuf(Buffer.from(canIHex, 'hex')), {
    apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview',
    object: {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {},
      spec: { resourceAttributes: { namespace: 'kube-system', verb: 'update', group: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource: 'approval' } },
      status: { allowed: false },
    },
  });
  const nonResource = envelope('authorization.k8s.io/v1', 'SelfSubjectAccessReview', msg(2, msg(2, ld(1, '/healthz'), ld(2, 'get'))));
  t.strictSame(decodeKubernetesProtobuf(nonResource).object['spec'], { nonResourceAttributes: { path: '/healthz', verb: 'get' } }, 'nonResourceAttributes');
  t.end();
});

void t.test('a kubectl create serviceaccount body decodes to a ServiceAccount', (t) => {
  const body = envelope('v1', 'ServiceAccount', [
    ...msg(1, ld(1, 'web'), ld(2, ''), ld(3, 'shop')),
    ...msg(2, ld(1, 'Secret'), ld(3, 'web-token')), ...msg(3, ld(1, 'registry')), ...int(4, 0),
  ]);
  t.strictSame(decodeKubernetesProtobuf(body).object, {
    apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', namespace: 'shop' },
    secrets: [{ kind: 'Secret', name: 'web-token' }], imagePullSecrets: [{ name: 'registry' }], automountServiceAccountToken: false,
  });
  t.strictSame(decodeKubernetesProtobuf(envelope('v1', 'ServiceAccount', msg(1, ld(1, 'bare')))).object,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'bare' } }, 'what kubectl create serviceaccount sends: metadata only');
  t.end();
});

void t.test('protobuf field values decode as the apiserver reads them', (t) => {
  const cases: [string, Bytes[], unknown][] = [
    ['a Time keeps seconds and drops nanoseconds', [msg(1, time(8, created, 999_999_999))], { metadata: { creationTimestamp: '2026-11-28T16:52:17Z' } }],
    ['a Time with only nanoseconds is the Unix epoch, not unset', [msg(1, msg(8, int(2, 5)))], { metadata: { creationTimestamp: '1970-01-01T00:00:00Z' } }],
    ['a negative int32 (ten-byte varint) stays negative', [msg(2, int(8, -1))], { spec: { expirationSeconds: -1 } }],
    ['expirationSeconds 0 is set, not omitted', [msg(2, int(8, 0))], { spec: { expirationSeconds: 0 } }],
    ['request and signerName are kept even when empty, like their JSON tags', [msg(2, ld(1, ''), ld(7, ''), ld(2, ''))], { spec: { request: '', signerName: '' } }],
    ['a map entry without a value maps to the empty string', [msg(1, msg(11, ld(1, 'k')))], { metadata: { labels: { k: '' } } }],
    ['a repeated field keeps its order across interleaving', [msg(2, ld(5, 'a'), ld(4, 'g'), ld(5, 'b'))], { spec: { usages: ['a', 'b'], groups: ['g'] } }],
    ['an empty certificate is omitted', [msg(3, ld(2, ''))], { status: {} }],
    ['a certificate is base64', [msg(3, ld(2, [1, 2, 3]))], { status: { certificate: 'AQID' } }],
    ['the last of a repeated scalar field wins', [msg(1, ld(1, 'first'), ld(1, 'second'))], { metadata: { name: 'second' } }],
    [
      'unknown fields of wire types 0, 1, 2 and 5 are skipped',
      [msg(2, int(99, 7), [...key(98, 1), 1, 2, 3, 4, 5, 6, 7, 8], ld(97, 'x'), [...key(96, 5), 1, 2, 3, 4], ld(7, 'example.com/s')), int(50, 1)],
      { spec: { signerName: 'example.com/s' } },
    ],
  ];
  for (const [name, raw, expected] of cases) {
    t.strictSame(decodeKubernetesProtobuf(csrBody(...raw)).object, { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', ...(expected as object) }, name);
  }
  const labels = decodeKubernetesProtobuf(csrBody(msg(1, entry(11, '__proto__', ld(2, 'x'))))).object['metadata'] as Record<string, Record<string, string>>;
  t.ok(Object.hasOwn(labels['labels'] ?? {}, '__proto__'), 'a label named __proto__ is an own property, not a prototype');
  t.equal(Object.getPrototypeOf(labels['labels']), Object.prototype, 'and the prototype is untouched');
  t.end();
});

void t.test('malformed protobuf bodies are refused with 400 and a reason', (t) => {
  const body = [...approvalBody];
  const cases: [string, Uint8Array, RegExp][] = [
    ['a body without the k8s magic', Uint8Array.from([0x0a, 0x00]), /does not appear to be a protobuf message/],
    ['an empty body', new Uint8Array(), /expected prefix/],
    ['a body cut short inside a field', Uint8Array.from(body.slice(0, body.length - 40)), /truncated field/],
    ['a truncated varint', csrBody(msg(2, [...key(8, 0), 0x80])), /truncated varint at CertificateSigningRequest\.spec/],
    ['a varint longer than ten bytes', csrBody(msg(2, [...key(8, 0), ...Array<number>(10).fill(0xff), 0x01])), /longer than 10 bytes/],
    ['a length that runs past the end', Uint8Array.from([...magic, ...key(2, 2), 0x7f, 0x00]), /truncated field \(127 bytes announced, 1 left\) at Unknown/],
    ['a group (wire type 3)', csrBody([...key(5, 3)]), /unsupported wire type 3/],
    ['field number 0', csrBody([0x00, 0x00]), /invalid field number 0/],
    ['a known field with the wrong wire type', csrBody(msg(1, int(1, 5))), /wire type 0 where 2 was expected at CertificateSigningRequest\.metadata\.name/],
    ['invalid UTF-8 in a string', csrBody(msg(1, ld(1, [0xff, 0xfe]))), /invalid UTF-8/],
    ['a time beyond year 9999', csrBody(msg(1, time(8, 253_402_300_800))), /out of range/],
  ];
  for (const [name, input, message] of cases) {
    t.throws(() => decodeKubernetesProtobuf(input), { code: 400, reason: 'BadRequest', message }, name);
  }
  t.end();
});

void t.test('protobuf bodies of kinds devapi cannot read are 415 UnsupportedMediaType', (t) => {
  const cases: [string, Uint8Array][] = [
    ['a Pod', envelope('v1', 'Pod', [])],
    ['a CSR of another API version', envelope('certificates.k8s.io/v1beta1', 'CertificateSigningRequest', [])],
    ['a compressed raw object', envelope('certificates.k8s.io/v1', 'CertificateSigningRequest', [], 'gzip')],
    ['an envelope with no TypeMeta', Uint8Array.from([...magic, ...ld(2, [])])],
    ['a kind named like an Object.prototype member', envelope('certificates.k8s.io/v1', 'constructor', [])],
  ];
  for (const [name, input] of cases) {
    t.throws(() => decodeKubernetesProtobuf(input), {
      code: 415, reason: 'UnsupportedMediaType',
      message: 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    }, name);
  }
  t.end();
});

void t.test('any prefix or mutation of a body decodes or throws an ApiError, never anything else', (t) => {
  for (let n = 0; n <= approvalBody.length; n++) {
    try { decodeKubernetesProtobuf(approvalBody.subarray(0, n)); } catch (e) { if (!(e instanceof ApiError)) t.fail(`prefix of ${n} bytes threw ${String(e)}`); }
  }
  fc.assert(fc.property(fc.integer({ min: 4, max: approvalBody.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, byte) => {
    const mutated = Uint8Array.from(approvalBody);
    mutated[at] = byte;
    try { decodeKubernetesProtobuf(mutated); return true; } catch (e) { return e instanceof ApiError && (e.code === 400 || e.code === 415); }
  }), { numRuns: 2000 });
  t.pass(`${approvalBody.length + 1} prefixes and 2000 single-byte mutations`);
  t.end();
});

void t.test('any name, labels, usages and expiry encode and decode to themselves', (t) => {
  fc.assert(fc.property(
    fc.string({ minLength: 1 }), fc.dictionary(fc.string(), fc.string()), fc.array(fc.string({ minLength: 1 })), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    (name, labels, usages, expirationSeconds) => {
      const raw = [msg(1, ld(1, name), ...Object.entries(labels).map(([k, v]) => entry(11, k, ld(2, v)))), msg(2, ...usages.map((u) => ld(5, u)), int(8, expirationSeconds))];
      const object = decodeKubernetesProtobuf(csrBody(...raw)).object;
      return JSON.stringify(object) === JSON.stringify({
        apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest',
        metadata: { name, ...(Object.keys(labels).length > 0 ? { labels } : {}) },
        spec: { expirationSeconds, ...(usages.length > 0 ? { usages } : {}) },
      });
    }), { numRuns: 300 });
  t.pass('300 random objects');
  t.end();
});

// ---- JSON patch and merge patch ----
const json = (text: string): unknown => JSON.parse(text);

void t.test('RFC 6902 Appendix A examples', (t) => {
  const cases: [string, string, string, string | RegExp][] = [
    ['A.1 adding an object member', '{"foo":"bar"}', '[{"op":"add","path":"/baz","value":"qux"}]', '{"foo":"bar","baz":"qux"}'],
    ['A.2 adding an array element', '{"foo":["bar","baz"]}', '[{"op":"add","path":"/foo/1","value":"qux"}]', '{"foo":["bar","qux","baz"]}'],
    ['A.3 removing an object member', '{"baz":"qux","foo":"bar"}', '[{"op":"remove","path":"/baz"}]', '{"foo":"bar"}'],
    ['A.4 removing an array element', '{"foo":["bar","qux","baz"]}', '[{"op":"remove","path":"/foo/1"}]', '{"foo":["bar","baz"]}'],
    ['A.5 replacing a value', '{"baz":"qux","foo":"bar"}', '[{"op":"replace","path":"/baz","value":"boo"}]', '{"baz":"boo","foo":"bar"}'],
    ['A.6 moving a value', '{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}', '[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]', '{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}'],
    ['A.7 moving an array element', '{"foo":["all","grass","cows","eat"]}', '[{"op":"move","from":"/foo/1","path":"/foo/3"}]', '{"foo":["all","cows","eat","grass"]}'],
    ['A.8 testing a value: success', '{"baz":"qux","foo":["a",2,"c"]}', '[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]', '{"baz":"qux","foo":["a",2,"c"]}'],
    ['A.9 testing a value: error', '{"baz":"qux"}', '[{"op":"test","path":"/baz","value":"bar"}]', /^testing value \/baz failed: is "qux", expected "bar"$/],
    ['A.10 adding a nested member object', '{"foo":"bar"}', '[{"op":"add","path":"/child","value":{"grandchild":{}}}]', '{"foo":"bar","child":{"grandchild":{}}}'],
    ['A.11 ignoring unrecognized elements', '{"foo":"bar"}', '[{"op":"add","path":"/baz","value":"qux","xyz":123}]', '{"foo":"bar","baz":"qux"}'],
    ['A.12 adding to a nonexistent target', '{"foo":"bar"}', '[{"op":"add","path":"/baz/bat","value":"qux"}]', /^jsonpatch add operation does not apply: doc is missing path: "\/baz\/bat"$/],
    // JSON.parse keeps the last "op", so the duplicate-member document reaches us as a remove of a missing member.
    ['A.13 invalid JSON patch document', '{"foo":"bar"}', '[{"op":"add","path":"/baz","value":"qux","op":"remove"}]', /doc is missing path: "\/baz"/],
    ['A.14 ~ escape ordering', '{"/":9,"~1":10}', '[{"op":"test","path":"/~01","value":10}]', '{"/":9,"~1":10}'],
    ['A.15 comparing strings and numbers', '{"/":9,"~1":10}', '[{"op":"test","path":"/~01","value":"10"}]', /^testing value \/~01 failed/],
    ['A.16 adding an array value', '{"foo":["bar"]}', '[{"op":"add","path":"/foo/-","value":["abc","def"]}]', '{"foo":["bar",["abc","def"]]}'],
  ];
  for (const [name, doc, patch, expected] of cases) {
    if (typeof expected === 'string') t.strictSame(applyJsonPatch(json(doc), json(patch)), json(expected), name);
    else t.throws(() => applyJsonPatch(json(doc), json(patch)), { code: 422, reason: 'Invalid', message: expected }, name);
  }
  t.end();
});

void t.test('JSON patch edge cases', (t) => {
  const cases: [string, string, string, string][] = [
    ['add at "" replaces the whole document', '{"a":1}', '[{"op":"add","path":"","value":[1]}]', '[1]'],
    ['replace at "" replaces the whole document', '{"a":1}', '[{"op":"replace","path":"","value":{"b":2}}]', '{"b":2}'],
    ['add over an existing member replaces it', '{"a":1}', '[{"op":"add","path":"/a","value":2}]', '{"a":2}'],
    ['add at the array length appends', '{"a":[1]}', '[{"op":"add","path":"/a/1","value":2}]', '{"a":[1,2]}'],
    ['copy duplicates a subtree', '{"a":{"b":[1]}}', '[{"op":"copy","from":"/a","path":"/c"}]', '{"a":{"b":[1]},"c":{"b":[1]}}'],
    ['move onto itself changes nothing', '{"a":1}', '[{"op":"move","from":"/a","path":"/a"}]', '{"a":1}'],
    ['test compares objects regardless of key order', '{"a":{"x":1,"y":[1,{"z":null}]}}', '[{"op":"test","path":"/a","value":{"y":[1,{"z":null}],"x":1}}]', '{"a":{"x":1,"y":[1,{"z":null}]}}'],
    ['a key with a slash is reached through ~1', '{"metadata":{"labels":{"app.kubernetes.io/name":"x"}}}', '[{"op":"remove","path":"/metadata/labels/app.kubernetes.io~1name"}]', '{"metadata":{"labels":{}}}'],
    ['operations apply in order', '{}', '[{"op":"add","path":"/a","value":[]},{"op":"add","path":"/a/-","value":1},{"op":"replace","path":"/a/0","value":2}]', '{"a":[2]}'],
  ];
  for (const [name, doc, patch, expected] of cases) t.strictSame(applyJsonPatch(json(doc), json(patch)), json(expected), name);
  t.end();
});

void t.test('a JSON patch that does not apply is 422 Invalid', (t) => {
  const cases: [string, string, string, RegExp][] = [
    ['remove of a missing member', '{}', '[{"op":"remove","path":"/a"}]', /^jsonpatch remove operation does not apply: doc is missing path: "\/a"$/],
    ['replace of a missing member', '{}', '[{"op":"replace","path":"/a","value":1}]', /doc is missing path: "\/a"/],
    ['test of a missing member', '{}', '[{"op":"test","path":"/x","value":1}]', /^jsonpatch test operation does not apply: doc is missing path: "\/x"$/],
    ['an index past the end', '{"a":[1]}', '[{"op":"add","path":"/a/2","value":1}]', /index out of bounds: "\/a\/2"/],
    ['an index with a leading zero', '{"a":[1,2]}', '[{"op":"remove","path":"/a/01"}]', /index out of bounds/],
    ['"-" where an existing element is needed', '{"a":[1]}', '[{"op":"replace","path":"/a/-","value":1}]', /index out of bounds/],
    ['a path through a string', '{"a":"s"}', '[{"op":"add","path":"/a/b","value":1}]', /doc is missing path: "\/a\/b"/],
    ['move from a missing member', '{}', '[{"op":"move","from":"/a","path":"/b"}]', /move operation does not apply: doc is missing path: "\/a"/],
    ['move into its own child', '{"a":{"b":1}}', '[{"op":"move","from":"/a","path":"/a/c"}]', /"\/a" is an ancestor of "\/a\/c"/],
    ['remove of the whole document', '{}', '[{"op":"remove","path":""}]', /cannot remove the whole document/],
    ['a member inherited from Object.prototype', '{}', '[{"op":"test","path":"/toString","value":1}]', /doc is missing path: "\/toString"/],
  ];
  for (const [name, doc, patch, message] of cases) t.throws(() => applyJsonPatch(json(doc), json(patch)), { code: 422, reason: 'Invalid', message }, name);
  t.end();
});

void t.test('a malformed patch is 400 "error decoding patch"', (t) => {
  const cases: [string, () => unknown, RegExp][] = [
    ['a JSON patch that is an object', () => applyJsonPatch({}, json('{"op":"add"}')), /must be an array of operations/],
    ['an operation that is not an object', () => applyJsonPatch({}, json('[1]')), /operation 0 is not an object/],
    ['an operation without "op"', () => applyJsonPatch({}, json('[{"path":"/a"}]')), /operation 0 has no "op" string/],
    ['an unknown op', () => applyJsonPatch({}, json('[{"op":"merge","path":"/a"}]')), /unknown "op" "merge"/],
    ['a path that is not a string', () => applyJsonPatch({}, json('[{"op":"remove","path":1}]')), /has no "path" string/],
    ['a pointer without a leading slash', () => applyJsonPatch({}, json('[{"op":"remove","path":"a"}]')), /must be empty or start with "\/"/],
    ['a bad ~ escape', () => applyJsonPatch({}, json('[{"op":"remove","path":"/a~2"}]')), /invalid "~" escape/],
    ['add without a value', () => applyJsonPatch({}, json('[{"op":"add","path":"/a"}]')), /add operation 0 has no "value"/],
    ['move without from', () => applyJsonPatch({}, json('[{"op":"move","path":"/a"}]')), /has no "from" string/],
    ['a value that is not JSON', () => applyJsonPatch({}, [{ op: 'add', path: '/a', value: () => 1 }]), /is not a JSON value/],
    ['a merge patch holding a non-finite number', () => applyMergePatch({}, { a: Infinity }), /number JSON cannot represent/],
  ];
  for (const [name, run, detail] of cases) {
    t.throws(run, { code: 400, reason: 'BadRequest', message: /^error decoding patch: / }, name);
    t.throws(run, { message: detail }, `${name}: the message says why`);
  }
  t.throws(() => applyJsonPatch({}, Array.from({ length: 10_001 }, () => ({ op: 'test', path: '', value: {} }))),
    { code: 413, message: 'The allowed maximum operations in a JSON patch is 10000, got 10001' }, 'more than 10000 operations is 413, as upstream');
  t.end();
});

void t.test('patches naming __proto__, constructor or prototype are refused before they touch anything', (t) => {
  const cases: [string, () => unknown][] = [
    ['a JSON patch path through __proto__', () => applyJsonPatch({}, json('[{"op":"add","path":"/__proto__/polluted","value":1}]'))],
    ['a JSON patch path through constructor/prototype', () => applyJsonPatch({}, json('[{"op":"add","path":"/constructor/prototype/polluted","value":1}]'))],
    ['a JSON patch "from" through __proto__', () => applyJsonPatch({}, json('[{"op":"copy","from":"/__proto__","path":"/a"}]'))],
    ['a JSON patch value holding __proto__', () => applyJsonPatch({}, json('[{"op":"add","path":"/a","value":{"__proto__":{"polluted":1}}}]'))],
    ['a merge patch with a __proto__ member', () => applyMergePatch({}, json('{"__proto__":{"polluted":1}}'))],
    ['a merge patch with a nested constructor member', () => applyMergePatch({}, json('{"a":{"constructor":{"prototype":{"polluted":1}}}}'))],
  ];
  for (const [name, run] of cases) t.throws(run, { code: 400, reason: 'BadRequest', message: /^error decoding patch: .*(__proto__|constructor|prototype)/ }, name);
  t.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype is clean');
  t.strictSame(applyMergePatch({ a: undefined, b: [undefined] }, { c: 1 }), { b: [null], c: 1 }, 'a stored document built in code is read as JSON.stringify would');
  t.strictSame(applyMergePatch(json('{"__proto__":{"a":1}}'), { b: 2 }), json('{"__proto__":{"a":1},"b":2}'), 'a stored document may hold such a key; it stays an own member');
  t.end();
});

void t.test('RFC 7386 Appendix A examples', (t) => {
  const cases: [string, string, string][] = [
    ['{"a":"b"}', '{"a":"c"}', '{"a":"c"}'],
    ['{"a":"b"}', '{"b":"c"}', '{"a":"b","b":"c"}'],
    ['{"a":"b"}', '{"a":null}', '{}'],
    ['{"a":"b","b":"c"}', '{"a":null}', '{"b":"c"}'],
    ['{"a":["b"]}', '{"a":"c"}', '{"a":"c"}'],
    ['{"a":"c"}', '{"a":["b"]}', '{"a":["b"]}'],
    ['{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}', '{"a":{"b":"d"}}'],
    ['{"a":[{"b":"c"}]}', '{"a":[1]}', '{"a":[1]}'],
    ['["a","b"]', '["c","d"]', '["c","d"]'],
    ['{"a":"b"}', '["c"]', '["c"]'],
    ['{"a":"foo"}', 'null', 'null'],
    ['{"a":"foo"}', '"bar"', '"bar"'],
    ['{"e":null}', '{"a":1}', '{"e":null,"a":1}'],
    ['[1,2]', '{"a":"b","c":null}', '{"a":"b"}'],
    ['{}', '{"a":{"bb":{"ccc":null}}}', '{"a":{"bb":{}}}'],
  ];
  for (const [doc, patch, expected] of cases) t.strictSame(applyMergePatch(json(doc), json(patch)), json(expected), `${doc} merged with ${patch} is ${expected}`);
  t.end();
});

void t.test('merging an empty object changes nothing, and neither patch touches its inputs', (t) => {
  const object = fc.dictionary(fc.string(), fc.jsonValue());
  fc.assert(fc.property(object, (doc) => JSON.stringify(applyMergePatch(doc, {})) === JSON.stringify(doc)), { numRuns: 300 });

  const pointer = fc.constantFrom('', '/a', '/a/0', '/a/-', '/b', '/b/c', '/a/1', '/c');
  const op = fc.record({ op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test'), path: pointer, from: pointer, value: fc.jsonValue() });
  const doc = fc.record({ a: fc.array(fc.jsonValue(), { maxLength: 3 }), b: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }) });
  /** Overwrites everything reachable in `v`, so that any structure shared with an input would show. */
  const scramble = (v: unknown): void => {
    if (Array.isArray(v)) { v.forEach(scramble); v.push('scrambled'); } else if (typeof v === 'object' && v !== null) {
      for (const k of Object.keys(v)) { scramble((v as Record<string, unknown>)[k]); (v as Record<string, unknown>)[k] = 'scrambled'; }
    }
  };
  fc.assert(fc.property(doc, fc.array(op, { maxLength: 4 }), object, (d, ops, patch) => {
    const before = JSON.stringify([d, ops, patch]);
    for (const run of [() => applyJsonPatch(d, ops), () => applyMergePatch(d, patch)]) {
      try { scramble(run()); } catch (e) { if (!(e instanceof ApiError)) throw e; }
    }
    return JSON.stringify([d, ops, patch]) === before;
  }), { numRuns: 500 });
  t.pass('300 merges with {} and 500 random patches');
  t.end();
});

// ---- HumanDuration and Tables ----
const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;
const y = 365 * d;

void t.test('humanDuration follows apimachinery HumanDuration at every boundary', (t) => {
  const cases: [number, string][] = [
    [0, '0s'], [1 * s, '1s'], [999, '0s'], [119 * s, '119s'], [119 * s + 999, '119s'], [2 * m, '2m'], [2 * m + 1 * s, '2m1s'],
    [9 * m + 59 * s, '9m59s'], [10 * m, '10m'], [10 * m + 30 * s, '10m'], [60 * m, '60m'], [2 * h + 59 * m, '179m'], [2 * h + 59 * m + 59 * s, '179m'],
    [3 * h, '3h'], [3 * h + 1 * m, '3h1m'], [7 * h + 59 * m, '7h59m'], [8 * h, '8h'], [8 * h + 30 * m, '8h'], [47 * h, '47h'], [47 * h + 59 * m, '47h'],
    [48 * h, '2d'], [49 * h, '2d1h'], [7 * d + 23 * h, '7d23h'], [8 * d, '8d'], [8 * d + 5 * h, '8d'], [729 * d, '729d'],
    [2 * y, '2y'], [2 * y + 1 * d, '2y1d'], [7 * y + 364 * d, '7y364d'], [8 * y, '8y'], [8 * y + 100 * d, '8y'], [100 * y, '100y'],
    [-500, '0s'], [-1 * s, '0s'], [-1999, '0s'], [-2 * s, '<invalid>'], [-1 * h, '<invalid>'], [NaN, '<invalid>'],
  ];
  for (const [ms, text] of cases) t.equal(humanDuration(ms), text, `${ms} ms is ${text}`);
  t.end();
});

const now = new Date('2026-11-28T16:52:17Z');
const ago = (ms: number): string => new Date(now.getTime() - ms).toISOString().replace('.000Z', 'Z');
const condition = (type: string): object => ({ type, status: 'True', reason: 'R', lastUpdateTime: ago(0) });
const csr = (conditions: string[], certificate = '', spec: object = { signerName: 'example.com/s', username: 'alice', expirationSeconds: 3600 }): object => ({
  apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest',
  metadata: { name: 'req', uid: 'u1', resourceVersion: '7', creationTimestamp: ago(5 * m + 3 * s), labels: { a: 'b' } },
  spec, status: { conditions: conditions.map(condition), ...(certificate ? { certificate } : {}) },
});

void t.test('the CSR Condition column reads as kubectl prints it', (t) => {
  const cases: [string, object][] = [
    ['Pending', csr([])],
    ['Approved', csr(['Approved'])],
    ['Approved,Issued', csr(['Approved'], 'Q0VSVA==')],
    ['Denied', csr(['Denied'])],
    ['Approved,Failed', csr(['Approved', 'Failed'])],
    ['Denied,Failed', csr(['Failed', 'Denied'])],
    ['Denied', csr(['Approved', 'Denied'])],
    ['Pending', { metadata: { name: 'bare' } }],
  ];
  for (const [text, item] of cases) {
    t.equal(csrCondition(item), text, `${JSON.stringify((item as { status?: unknown }).status ?? 'no status')} is ${text}`);
    t.equal(csrTable([item], now, true).rows[0]?.cells[5], text, `and the table cell says ${text}`);
  }
  t.end();
});

void t.test('the CSR table has the kubectl columns, cells and row metadata', (t) => {
  const table = csrTable([csr(['Approved'], 'Q0VSVA=='), csr([], '', {})], now, true, { resourceVersion: '42', continue: 'next' });
  t.strictSame(table.columnDefinitions.map((c) => [c.name, c.type, c.format, c.priority]), [
    ['Name', 'string', 'name', 0], ['Age', 'string', '', 0], ['SignerName', 'string', '', 0], ['Requestor', 'string', '', 0],
    ['RequestedDuration', 'string', '', 0], ['Condition', 'string', '', 0],
  ]);
  t.ok(table.columnDefinitions.every((c) => c.description.length > 0), 'every column has a description');
  t.strictSame({ kind: table.kind, apiVersion: table.apiVersion, metadata: table.metadata }, { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '42', continue: 'next' } });
  t.strictSame(table.rows.map((r) => r.cells), [
    ['req', '5m3s', 'example.com/s', 'alice', '60m', 'Approved,Issued'],
    ['req', '5m3s', '<none>', '', '<none>', 'Pending'],
  ]);
  t.strictSame(table.rows[0]?.object, {
    kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1',
    metadata: { name: 'req', uid: 'u1', resourceVersion: '7', creationTimestamp: ago(5 * m + 3 * s), labels: { a: 'b' } },
  }, 'the row object carries the metadata kubectl uses for -A and --show-labels');
  t.strictSame(csrTable([csr([])], now, false).columnDefinitions, [], 'column definitions can be left out (watch events after the first)');
  const durations: [number, string][] = [[600, '10m'], [3600, '60m'], [86400, '24h'], [7 * 86400, '7d'], [365 * 86400, '365d']];
  for (const [seconds, text] of durations) {
    t.equal(csrTable([csr([], '', { expirationSeconds: seconds })], now, true).rows[0]?.cells[4], text, `expirationSeconds ${seconds} is ${text}`);
  }
  t.equal(csrTable([{ metadata: { name: 'x' } }], now, true).rows[0]?.cells[1], '<unknown>', 'no creationTimestamp is <unknown>');
  t.end();
});

void t.test('the Lease and generic tables', (t) => {
  const lease = { metadata: { name: 'csr-signer', namespace: 'kube-system', creationTimestamp: ago(3 * h) }, spec: { holderIdentity: 'pod-a_1234' } };
  const leases = leaseTable([lease, { metadata: { name: 'free', creationTimestamp: ago(30 * s) }, spec: {} }], now, true);
  t.strictSame(leases.columnDefinitions.map((c) => c.name), ['Name', 'Holder', 'Age']);
  t.strictSame(leases.rows.map((r) => r.cells), [['csr-signer', 'pod-a_1234', '3h'], ['free', '', '30s']]);
  t.equal(leases.rows[0]?.object.metadata['namespace'], 'kube-system');
  const generic = genericTable([{ metadata: { name: 'thing', creationTimestamp: ago(50 * h) } }], now, true);
  t.strictSame(generic.columnDefinitions.map((c) => [c.name, c.format]), [['Name', 'name'], ['Age', '']]);
  t.strictSame(generic.rows[0]?.cells, ['thing', '2d2h']);
  t.end();
});

void t.test('the Event table prints as printEvent does', (t) => {
  const base = {
    metadata: { name: 'req.17a', namespace: 'default', creationTimestamp: ago(20 * m) },
    involvedObject: { kind: 'CertificateSigningRequest', name: 'req' }, type: 'Normal', reason: 'Issued', message: '  issued a certificate\n',
  };
  const table = eventTable([
    { ...base, firstTimestamp: ago(10 * m), lastTimestamp: ago(90 * s), count: 3, source: { component: 'csr-signer', host: 'node-1' } },
    { ...base, eventTime: ago(4 * m), reportingComponent: 'example.com/signer', reportingInstance: 'pod-a', involvedObject: { kind: 'Node', fieldPath: 'spec' } },
    { ...base, eventTime: ago(4 * m), series: { count: 5, lastObservedTime: ago(1 * m) } },
    { ...base, source: { component: 'kubelet' } },
  ], now, true);
  t.strictSame(table.columnDefinitions.map((c) => [c.name, c.priority]), [
    ['Last Seen', 0], ['Type', 0], ['Reason', 0], ['Object', 0], ['Subobject', 1], ['Source', 1], ['Message', 0], ['First Seen', 1], ['Count', 1], ['Name', 1],
  ]);
  t.equal(table.columnDefinitions.at(-1)?.format, 'name', 'Name has the name format');
  t.strictSame(table.rows.map((r) => r.cells), [
    ['90s', 'Normal', 'Issued', 'certificatesigningrequest/req', '', 'csr-signer, node-1', 'issued a certificate', '10m', 3, 'req.17a'],
    ['4m', 'Normal', 'Issued', 'node', 'spec', 'example.com/signer, pod-a', 'issued a certificate', '4m', 1, 'req.17a'],
    ['60s', 'Normal', 'Issued', 'certificatesigningrequest/req', '', '', 'issued a certificate', '4m', 5, 'req.17a'],
    ['20m', 'Normal', 'Issued', 'certificatesigningrequest/req', '', 'kubelet', 'issued a certificate', '<unknown>', 1, 'req.17a'],
  ], 'last seen falls back to first seen, then to creationTimestamp; series overrides last seen and count');
  t.end();
});
