/**
 * devapi's PodCertificateRequests over HTTPS against the vectors of kube-apiserver's behaviour: create
 * validation (C1–C28, in the 1.35, 1.36 and 1.37 forms), main-resource updates (U1–U3), status updates
 * and the status strategy's `sign` check (S1–S30), NodeRestriction and the Node authorizer (N1–N6), with
 * the exact status codes and messages. Keys, stub requests and leaf certificates are built here with
 * node:crypto and raw DER, so each vector carries exactly the flaw it is about.
 */
import { constants, createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { readBoundedText } from '../../../src/files.js';
import { DevApi } from '../../../devapi/server/server.js';
import { makeOpensslCa } from '../../helpers/ca.js';
import { makeClientCertificate } from '../../helpers/client-certificates.js';
import { bits, commonName, dnsName, extension, extensionRequest, oid, pem, rawRequest, seq, small, tlv } from '../../helpers/der-build.js';
import { DevapiClient, type Credentials } from '../../helpers/devapi.js';
import { needTool, tempDir } from '../../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

type Obj = Record<string, unknown>;
const GROUP = 'certificates.k8s.io';
const NS = 'ns';
const SIGNER = 'example.com/s';

const dir = tempDir();
const clientCa = makeOpensslCa(dir, 'client-ca', 'p256');
const nodeN2 = makeClientCertificate(dir, 'n2', clientCa, '/CN=system:node:n2/O=system:nodes');
const asNode: Credentials = { cert: nodeN2.certPem, key: nodeN2.keyPem };

// S26/S28: `approver` may write /status but not `sign`; nodes may (try to) update and delete PCRs, so
// that NodeRestriction, not RBAC, answers N5.
const policyYaml = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pcr-status-writer}
rules:
- {apiGroups: [certificates.k8s.io], resources: [podcertificaterequests], verbs: [get]}
- {apiGroups: [certificates.k8s.io], resources: [podcertificaterequests/status], verbs: [update]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: pcr-status-writer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pcr-status-writer}
subjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: approver}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pcr-node-writes}
rules:
- {apiGroups: [certificates.k8s.io], resources: [podcertificaterequests], verbs: [update, delete]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: pcr-node-writes}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pcr-node-writes}
subjects: [{kind: Group, apiGroup: rbac.authorization.k8s.io, name: system:nodes}]
`;

async function server(minorVersion: number): Promise<{ api: DevApi; client: DevapiClient }> {
  const stateDir = mkdtempSync(join(tmpdir(), `devapi-pcr-${minorVersion}-`));
  const api = new DevApi({ stateDir, readText: readBoundedText, minorVersion, clientCaPem: clientCa.certPem, policyYaml });
  await api.start();
  t.teardown(() => api.stop());
  const client = new DevapiClient(api.url, stateDir);
  const r = await client.call('POST', '/api/v1/namespaces', { metadata: { name: NS } });
  if (r.status !== 201) throw new Error(r.text);
  return { api, client };
}

const v35 = await server(35);
const v36 = await server(36);
const v37 = await server(37);

// ------------------------------------------------------------------ keys, requests, certificates

const ed25519 = generateKeyPairSync('ed25519');
const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const p224 = generateKeyPairSync('ec', { namedCurve: 'secp224r1' });
const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa3072 = generateKeyPairSync('rsa', { modulusLength: 3072 });
const caKey = generateKeyPairSync('ed25519');

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const spkiDer = (publicKey: KeyObject): Buffer => publicKey.export({ type: 'spki', format: 'der' });
const spki = (publicKey: KeyObject): string => b64(spkiDer(publicKey));

/** The kubelet's proof of possession over the pod UID: Ed25519 raw, ECDSA SHA-256 ASN.1, RSA-PSS SHA-256. */
function proof(privateKey: KeyObject, podUID = 'u-1'): string {
  const message = Buffer.from(podUID);
  const type = privateKey.asymmetricKeyType;
  if (type === 'ed25519') return b64(sign(null, message, privateKey));
  if (type === 'rsa') return b64(sign('sha256', message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }));
  return b64(sign('sha256', message, privateKey));
}
const legacy = (pair: { privateKey: KeyObject; publicKey: KeyObject }, podUID = 'u-1'): Obj => ({ pkixPublicKey: spki(pair.publicKey), proofOfPossession: proof(pair.privateKey, podUID) });
/** The kubelet's stub request: x509.CreateCertificateRequest of an empty template (empty subject, no attributes). */
const stubDer = (privateKey: KeyObject, subject = seq(), attributes?: Uint8Array): Buffer => rawRequest({ privateKey, subject, ...(attributes ? { attributes } : {}) });
const stub = (privateKey: KeyObject): Obj => ({ stubPKCS10Request: b64(stubDer(privateKey)) });

const utcTime = (d: Date): Buffer => tlv(0x17, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`, 'latin1'));
let serial = 1;
/** A leaf certificate for `publicKey`, signed by an Ed25519 test CA, with these times and DNS names (PEM). */
function leaf(publicKey: KeyObject, notBefore: Date, notAfter: Date, dnsNames: readonly string[] = []): string {
  const sans = dnsNames.length === 0 ? [] : [tlv(0xa3, seq(extension('2.5.29.17', seq(...dnsNames.map(dnsName)))))];
  const tbs = seq(tlv(0xa0, small(2)), small(serial++ % 100 + 1), seq(oid('1.3.101.112')), commonName('test ca'), seq(utcTime(notBefore), utcTime(notAfter)),
    commonName('leaf'), spkiDer(publicKey), ...sans);
  return pem('CERTIFICATE', seq(tbs, seq(oid('1.3.101.112')), bits(sign(null, tbs, caKey.privateKey))));
}
const iso = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;
const MIN = 60_000;

// ------------------------------------------------------------------ requests to devapi

let counter = 0;
const fresh = (prefix = 'r'): string => `${prefix}-${++counter}`;
const pcrPath = (version: string, name?: string, sub?: string): string =>
  `/apis/${GROUP}/${version}/namespaces/${NS}/podcertificaterequests${name === undefined ? '' : `/${name}`}${sub === undefined ? '' : `/${sub}`}`;
const body = (version: string, name: string, spec: Obj, extra: Obj = {}): Obj => ({
  apiVersion: `${GROUP}/${version}`, kind: 'PodCertificateRequest', metadata: { name },
  spec: { signerName: SIGNER, podName: 'p', podUID: 'u-1', serviceAccountName: 'default', serviceAccountUID: 'sa-1', nodeName: 'n1', nodeUID: 'n-1', ...spec },
  ...extra,
});
interface Answer { readonly code: number; readonly body: Obj; readonly message: string }
async function call(target: { client: DevapiClient }, method: string, path: string, payload?: unknown, who: Credentials | 'admin' | 'signer' | 'approver' | 'requester' = 'admin'): Promise<Answer> {
  const credentials = typeof who === 'string' ? { token: target.client.tokens[who] ?? '' } : who;
  const r = await target.client.callWith(method, path, payload, credentials);
  const parsed = typeof r.body === 'object' && r.body !== null ? r.body as Obj : {};
  return { code: r.status, body: parsed, message: typeof parsed.message === 'string' ? parsed.message : '' };
}
const create = (target: { client: DevapiClient }, version: string, name: string, spec: Obj, extra: Obj = {}, query = ''): Promise<Answer> =>
  call(target, 'POST', `${pcrPath(version)}${query}`, body(version, name, spec, extra));
const invalidText = (name: string, ...errors: string[]): string =>
  `PodCertificateRequest.certificates.k8s.io "${name}" is invalid: ${errors.length === 1 ? errors[0] ?? '' : `[${errors.join(', ')}]`}`;

/** Creates and expects a 422 with exactly these field errors. */
async function refusedCreate(t: Test, target: { client: DevapiClient }, version: string, spec: Obj, errors: string[], name = fresh()): Promise<void> {
  const r = await create(target, version, name, spec);
  t.equal(r.code, 422, r.message);
  t.equal(r.body.reason, 'Invalid');
  t.equal(r.message, invalidText(name, ...errors));
}
const subdomain = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

// ------------------------------------------------------------------ 6.1 create

void t.test('C1: a valid legacy request is created with maxExpirationSeconds 86400 and no status, whatever status it sent', async (t) => {
  for (const target of [v35, v36]) {
    const name = fresh();
    const r = await create(target, 'v1beta1', name, legacy(ed25519), { status: { certificateChain: 'x', conditions: [{ type: 'Issued' }] } });
    t.equal(r.code, 201, r.message);
    t.equal((r.body.spec as Obj).maxExpirationSeconds, 86400);
    t.equal(r.body.status, undefined, 'PrepareForCreate wipes the status');
    t.type((r.body.metadata as Obj).uid, 'string');
  }
});

void t.test('C2: a stub request is created on 1.36 and 1.37 (v1beta1 and v1); 1.35 drops the field, or refuses it under Strict', async (t) => {
  t.equal((await create(v36, 'v1beta1', fresh(), stub(p256.privateKey))).code, 201);
  t.equal((await create(v37, 'v1beta1', fresh(), stub(p256.privateKey))).code, 201);
  t.equal((await create(v37, 'v1', fresh(), stub(p256.privateKey))).code, 201);
  const name = fresh();
  const dropped = await create(v35, 'v1beta1', name, stub(p256.privateKey));
  t.equal(dropped.code, 422);
  t.equal(dropped.message, invalidText(name, 'spec.pkixPublicKey: Invalid value: "": must be a valid PKIX-serialized public key'));
  const strict = await create(v35, 'v1beta1', fresh(), stub(p256.privateKey), {}, '?fieldValidation=Strict');
  t.equal(strict.code, 400);
  t.equal(strict.message, 'PodCertificateRequest in version "v1beta1" cannot be handled as a PodCertificateRequest: strict decoding error: unknown field "spec.stubPKCS10Request"');
});

void t.test('C3–C6: maxExpirationSeconds in [3600, 86400] for kubernetes.io signers, [3600, 7862400] otherwise, both ends inclusive', async (t) => {
  await refusedCreate(t, v36, 'v1beta1', { signerName: 'kubernetes.io/foo', maxExpirationSeconds: 86401, ...legacy(ed25519) },
    ['spec.maxExpirationSeconds: Invalid value: 86401: must be in the range [3600, 86400]']);
  await refusedCreate(t, v36, 'v1beta1', { maxExpirationSeconds: 3599, ...legacy(ed25519) }, ['spec.maxExpirationSeconds: Invalid value: 3599: must be in the range [3600, 7862400]']);
  t.equal((await create(v36, 'v1beta1', fresh(), { maxExpirationSeconds: 7862400, ...legacy(ed25519) })).code, 201, 'C5: 7862400');
  t.equal((await create(v36, 'v1beta1', fresh(), { signerName: 'sub.kubernetes.io/x', maxExpirationSeconds: 86400, ...legacy(ed25519) })).code, 201, 'C5: sub.kubernetes.io 86400');
  await refusedCreate(t, v36, 'v1beta1', { maxExpirationSeconds: 7862401, ...legacy(ed25519) }, ['spec.maxExpirationSeconds: Invalid value: 7862401: must be in the range [3600, 7862400]']);
});

void t.test('C7–C12: signer name, UIDs and names', async (t) => {
  await refusedCreate(t, v36, 'v1beta1', { signerName: 'foo', ...legacy(ed25519) },
    ['spec.signerName: Invalid value: "foo": must be a fully qualified domain and path of the form \'example.com/signer-name\'']);
  await refusedCreate(t, v36, 'v1beta1', { signerName: '', ...legacy(ed25519) }, ['spec.signerName: Required value']);
  // The proof is over the (empty) pod UID, so that only the UID is wrong.
  await refusedCreate(t, v36, 'v1beta1', { podUID: '', ...legacy(ed25519, '') }, ['spec.podUID: Invalid value: "": must not be empty']);
  await refusedCreate(t, v36, 'v1beta1', { nodeUID: 'x'.repeat(129), ...legacy(ed25519) }, ['spec.nodeUID: Too long: may not be more than 128 bytes']);
  await refusedCreate(t, v36, 'v1beta1', { podName: 'Pod_1', ...legacy(ed25519) }, [`spec.podName: Invalid value: "Pod_1": ${subdomain}`]);
  await refusedCreate(t, v36, 'v1beta1', legacy(ed25519), [`metadata.name: Invalid value: "Bad_Name": ${subdomain}`], 'Bad_Name');
});

void t.test('C13–C19: the legacy key fields (PKIX key type and size, proof of possession, garbage, size)', async (t) => {
  for (const target of [v35, v36]) {
    await refusedCreate(t, target, 'v1beta1', legacy(rsa2048), ['spec.pkixPublicKey: Invalid value: "2048-bit modulus": RSA keys must have modulus size 3072 or 4096']);
    await refusedCreate(t, target, 'v1beta1', legacy(p224), ['spec.pkixPublicKey: Invalid value: "curve P-224": elliptic public keys must use curve P256 or P384']);
    t.equal((await create(target, 'v1beta1', fresh(), legacy(p521))).code, 201, 'C15: P-521 with an ASN.1 signature over SHA-256(podUID)');
    t.equal((await create(target, 'v1beta1', fresh(), legacy(rsa3072))).code, 201, 'RSA-3072 with PSS');
    // Ed25519 signs the pod UID itself; a signature over its SHA-256 does not verify.
    const hashed = b64(sign(null, createHash('sha256').update('u-1').digest(), ed25519.privateKey));
    await refusedCreate(t, target, 'v1beta1', { pkixPublicKey: spki(ed25519.publicKey), proofOfPossession: hashed },
      ['spec.proofOfPossession: Invalid value: could not verify proof-of-possession signature']);
    const pkcs1 = b64(sign('sha256', Buffer.from('u-1'), { key: rsa3072.privateKey, padding: constants.RSA_PKCS1_PADDING }));
    await refusedCreate(t, target, 'v1beta1', { pkixPublicKey: spki(rsa3072.publicKey), proofOfPossession: pkcs1 },
      ['spec.proofOfPossession: Invalid value: could not verify proof-of-possession signature']);
    await refusedCreate(t, target, 'v1beta1', { pkixPublicKey: 'AAAA', proofOfPossession: proof(ed25519.privateKey) },
      ['spec.pkixPublicKey: Invalid value: "AAAA": must be a valid PKIX-serialized public key']);
    await refusedCreate(t, target, 'v1beta1', { pkixPublicKey: b64(Buffer.alloc(10241, 1)), proofOfPossession: proof(ed25519.privateKey) },
      ['spec.pkixPublicKey: Too long: may not be more than 10240 bytes']);
  }
});

void t.test('C20–C25: the stub request (1.36+): exactly one key form, DER only, key type, signature; its contents are not checked', async (t) => {
  for (const [target, version] of [[v36, 'v1beta1'], [v37, 'v1beta1']] as const) {
    const exactlyOne = 'spec: Invalid value: exactly one of (stubPKCS10Request) or (pkixPublicKey, proofOfPossession) must be set';
    await refusedCreate(t, target, version, { ...stub(p256.privateKey), ...legacy(ed25519) }, [exactlyOne]);
    await refusedCreate(t, target, version, { pkixPublicKey: spki(ed25519.publicKey) }, [exactlyOne]);
  }
  for (const [target, version] of [[v36, 'v1beta1'], [v37, 'v1']] as const) {
    await refusedCreate(t, target, version, { stubPKCS10Request: b64(Buffer.from(pem('CERTIFICATE REQUEST', stubDer(p256.privateKey)))) },
      ['spec.stubPKCS10Request: Invalid value: must be a valid PKCS#10 CSR']);
    await refusedCreate(t, target, version, stub(rsa2048.privateKey), ['spec.stubPKCS10Request: Invalid value: "2048-bit modulus": RSA keys must have modulus size 3072 or 4096']);
    await refusedCreate(t, target, version, stub(p224.privateKey), ['spec.stubPKCS10Request: Invalid value: "curve P-224": elliptic public keys must use curve P256, P384, or P521']);
    const flipped = stubDer(p256.privateKey);
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] ?? 0) ^ 0x01;
    await refusedCreate(t, target, version, { stubPKCS10Request: b64(flipped) }, ['spec.stubPKCS10Request: Invalid value: invalid signature']);
    const busy = stubDer(p256.privateKey, commonName('evil'), extensionRequest(extension('2.5.29.17', seq(dnsName('evil.example')))));
    t.equal((await create(target, version, fresh(), { stubPKCS10Request: b64(busy) })).code, 201, 'C25: a subject and SANs in the stub are not validated');
  }
  await refusedCreate(t, v37, 'v1', {}, ['spec: Invalid value: exactly one of (stubPKCS10Request) or (pkixPublicKey, proofOfPossession) must be set']);
});

void t.test('C26–C28: user annotations must be domain-prefixed; rows 1–7 accumulate', async (t) => {
  const name = fresh();
  const r = await create(v36, 'v1beta1', name, { unverifiedUserAnnotations: { foo: 'x' }, ...legacy(ed25519) });
  t.equal(r.code, 422);
  t.match(r.message, new RegExp(`^PodCertificateRequest\\.certificates\\.k8s\\.io "${name}" is invalid: spec\\.unverifiedUserAnnotations: Invalid value: "foo": `));
  t.equal((await create(v36, 'v1beta1', fresh(), { unverifiedUserAnnotations: { 'example.com/k': 'any value' }, ...legacy(ed25519) })).code, 201);
  await refusedCreate(t, v36, 'v1beta1', { podUID: '', maxExpirationSeconds: 10, ...legacy(ed25519, '') },
    ['spec.podUID: Invalid value: "": must not be empty', 'spec.maxExpirationSeconds: Invalid value: 10: must be in the range [3600, 7862400]']);
});

// ------------------------------------------------------------------ 6.2 main resource updates

void t.test('U1–U3: the spec is immutable, labels may change, a status sent with the main resource is dropped', async (t) => {
  const name = fresh('u');
  const created = await create(v36, 'v1beta1', name, legacy(ed25519));
  t.equal(created.code, 201);
  const spec = created.body.spec as Obj;
  const changed = await call(v36, 'PUT', pcrPath('v1beta1', name), { ...created.body, spec: { ...spec, podName: 'q' } });
  t.equal(changed.code, 422);
  t.match(changed.message, new RegExp(`^PodCertificateRequest\\.certificates\\.k8s\\.io "${name}" is invalid: spec: Invalid value: certificates\\.PodCertificateRequestSpec\\{SignerName:"example\\.com/s", PodName:"q", .*\\}: field is immutable$`));
  const labelled = await call(v36, 'PUT', pcrPath('v1beta1', name), { ...created.body, metadata: { ...created.body.metadata as Obj, labels: { a: 'b' } } });
  t.equal(labelled.code, 200, labelled.message);
  t.same((labelled.body.metadata as Obj).labels, { a: 'b' });
  const withStatus = await call(v36, 'PUT', pcrPath('v1beta1', name), { ...labelled.body, status: { certificateChain: 'junk' } });
  t.equal(withStatus.code, 200, withStatus.message);
  t.equal(withStatus.body.status, undefined, 'the status is the stored one');
});

// ------------------------------------------------------------------ 6.3 status

/** A pending PCR for the stub key (P-256) and the status of S1 for it, at the server's clock now. */
async function pending(target = v37, version = 'v1', extra: Obj = {}): Promise<{ name: string; object: Obj; issued: (o?: { nb?: Date; na?: Date; refresh?: Date; key?: KeyObject; dns?: string[]; chainTail?: string }) => Obj }> {
  const name = fresh('s');
  const created = await create(target, version, name, { ...stub(p256.privateKey), ...extra });
  if (created.code !== 201) throw new Error(created.message);
  const now = Math.floor(Date.now() / 1000) * 1000;
  return {
    name, object: created.body,
    issued: (o = {}) => {
      const nb = o.nb ?? new Date(now - MIN);
      const na = o.na ?? new Date(nb.getTime() + 60 * MIN);
      const refresh = o.refresh ?? new Date(nb.getTime() + 15 * MIN);
      return {
        ...created.body,
        status: {
          conditions: [{ type: 'Issued', status: 'True', reason: 'Issued', message: 'issued by the test', lastTransitionTime: iso(new Date(now)) }],
          certificateChain: leaf(o.key ?? p256.publicKey, nb, na, o.dns) + (o.chainTail ?? ''), notBefore: iso(nb), notAfter: iso(na), beginRefreshAt: iso(refresh),
        },
      };
    },
  };
}
const condition = (type: string, extra: Obj = {}): Obj => ({ type, status: 'True', reason: 'Because', message: 'the test says so', lastTransitionTime: iso(new Date()), ...extra });
const putStatus = (name: string, payload: Obj, who: Credentials | 'admin' | 'signer' | 'approver' | 'requester' = 'admin', target = v37, version = 'v1'): Promise<Answer> =>
  call(target, 'PUT', pcrPath(version, name, 'status'), payload, who);
async function refusedStatus(t: Test, name: string, payload: Obj, errors: string[]): Promise<void> {
  const r = await putStatus(name, payload);
  t.equal(r.code, 422, r.message);
  t.equal(r.message, invalidText(name, ...errors));
}

void t.test('S1–S2: an Issued status with the leaf\'s times is stored; both refresh boundaries are inclusive', async (t) => {
  const s1 = await pending();
  const r = await putStatus(s1.name, s1.issued());
  t.equal(r.code, 200, r.message);
  t.equal(((r.body.status as Obj).conditions as Obj[])[0]?.type, 'Issued');
  const s2 = await pending();
  const nb = new Date(Math.floor(Date.now() / 1000) * 1000 - MIN);
  t.equal((await putStatus(s2.name, s2.issued({ nb, refresh: new Date(nb.getTime() + 10 * MIN) }))).code, 200, 'beginRefreshAt = notBefore + 10m');
  const s2b = await pending();
  const na = new Date(nb.getTime() + 86400_000);
  t.equal((await putStatus(s2b.name, s2b.issued({ nb, na, refresh: new Date(na.getTime() - 10 * MIN) }))).code, 200, '86400 s, beginRefreshAt = notAfter - 10m');
  // The legacy key is the requested key; on 1.37 a signer may write the status of a v1beta1-created
  // request through v1, where the key fields are not shown (the stored spec is kept).
  for (const [target, version] of [[v35, 'v1beta1'], [v36, 'v1beta1'], [v37, 'v1']] as const) {
    const name = fresh('s');
    t.equal((await create(target, 'v1beta1', name, legacy(p256))).code, 201);
    const read = await call(target, 'GET', pcrPath(version, name));
    const now = Math.floor(Date.now() / 1000) * 1000;
    const nbL = new Date(now - MIN);
    const naL = new Date(nbL.getTime() + 60 * MIN);
    const status = {
      conditions: [condition('Issued')], certificateChain: leaf(p256.publicKey, nbL, naL), notBefore: iso(nbL), notAfter: iso(naL), beginRefreshAt: iso(new Date(nbL.getTime() + 15 * MIN)),
    };
    const legacyWrite = await call(target, 'PUT', pcrPath(version, name, 'status'), { ...read.body, status });
    t.equal(legacyWrite.code, 200, `${version}: ${legacyWrite.message}`);
    t.equal(((await call(target, 'GET', pcrPath('v1beta1', name))).body.spec as Obj).pkixPublicKey, spki(p256.publicKey), 'the key fields are kept');
  }
});

void t.test('S3–S8: condition rules', async (t) => {
  const p = await pending();
  await refusedStatus(t, p.name, { ...p.object, status: { conditions: [condition('Issued', { status: 'False' })] } },
    ['status.conditions[0].status: Unsupported value: "False": supported values: "True"']);
  await refusedStatus(t, p.name, { ...p.object, status: { conditions: [condition('Pending')] } },
    ['status.conditions[0].type: Unsupported value: "Pending": supported values: "Issued", "Denied", "Failed"']);
  await refusedStatus(t, p.name, { ...p.object, status: { conditions: [condition('SuggestedKeyType')] } },
    ['status.conditions[0].type: Unsupported value: "SuggestedKeyType": supported values: "Issued", "Denied", "Failed"']);
  await refusedStatus(t, p.name, { ...p.object, status: { conditions: [condition('Issued'), condition('Denied')] } },
    ['status.conditions[1].type: Invalid value: "Denied": There may be at most one condition with type "Issued", "Denied", or "Failed"']);
  await refusedStatus(t, p.name, { ...p.object, status: { conditions: [condition('Denied', { reason: '' })] } }, ['status.conditions[0].reason: Required value']);
  const noTime = condition('Denied');
  delete noTime.lastTransitionTime;
  await refusedStatus(t, p.name, { ...p.object, status: { conditions: [noTime] } }, ['status.conditions[0].lastTransitionTime: Required value']);
  const denied = await putStatus(p.name, { ...p.object, status: { conditions: [condition('Denied', { reason: 'UnsupportedKeyType', message: 'use ECDSAP256' })] } });
  t.equal(denied.code, 200, `S8: ${denied.message}`);
});

void t.test('S9–S24: what an Issued status must hold, and when a status may change at all', async (t) => {
  const p = await pending();
  const base = p.issued();
  const status = base.status as Obj;
  const now = Math.floor(Date.now() / 1000) * 1000;
  const nb = new Date(now - MIN);
  await refusedStatus(t, p.name, { ...p.object, status: { conditions: [condition('Failed')], certificateChain: status.certificateChain } },
    ['status: Invalid value: non-condition status fields must be empty when denying or failing the PodCertificateRequest']);
  const other = p.issued({ key: ed25519.publicKey });
  await refusedStatus(t, p.name, other, [`status.certificateChain: Invalid value: ${JSON.stringify((other.status as Obj).certificateChain)}: leaf certificate was not issued to the requested public key`]);
  const noRefresh = { ...base, status: { ...status, beginRefreshAt: undefined } };
  await refusedStatus(t, p.name, noRefresh, ['status.beginRefreshAt: Required value: must be present and in the range [notbefore+10min, notafter-10min]']);
  const shifted = new Date(nb.getTime() + 1000);
  await refusedStatus(t, p.name, { ...base, status: { ...status, notBefore: iso(shifted) } },
    [`status.notBefore: Invalid value: "${iso(shifted)}": must be set to the NotBefore time encoded in the leaf certificate`]);
  const early = new Date(now - 6 * MIN);
  await refusedStatus(t, p.name, p.issued({ nb: early }), [`status.notBefore: Invalid value: "${iso(early)}": must be set to within 5 minutes of kube-apiserver's current time`]);
  await refusedStatus(t, p.name, p.issued({ na: new Date(nb.getTime() + 59 * MIN) }), ['status.certificateChain: Invalid value: 3540000000000: leaf certificate lifetime must be >= 1 hour']);
  const tooLongLife = p.issued({ na: new Date(nb.getTime() + 86401_000) });
  await refusedStatus(t, p.name, tooLongLife, ['status.certificateChain: Invalid value: 86401000000000: leaf certificate lifetime must be <= spec.maxExpirationSeconds (86400)']);
  const soon = new Date(nb.getTime() + 9 * MIN + 59_000);
  await refusedStatus(t, p.name, p.issued({ refresh: soon }), [`status.beginRefreshAt: Invalid value: "${iso(soon)}": must be at least 10 minutes after status.notBefore`]);
  const late = new Date(nb.getTime() + 51 * MIN);
  await refusedStatus(t, p.name, p.issued({ refresh: late }), [`status.beginRefreshAt: Invalid value: "${iso(late)}": must be at least 10 minutes before status.notAfter`]);
  await refusedStatus(t, p.name, { ...base, status: { ...status, certificateChain: '' } },
    ['status.certificateChain: Invalid value: "": issued certificate chain must contain at least one certificate']);
  const keyFirst = pem('PRIVATE KEY', Buffer.from([1, 2, 3]));
  await refusedStatus(t, p.name, { ...base, status: { ...status, certificateChain: keyFirst } },
    [`status.certificateChain: Invalid value: ${JSON.stringify(keyFirst)}: issued certificate chain must consist entirely of CERTIFICATE PEM blocks`]);
  const foo = p.issued({ chainTail: pem('FOO', Buffer.from([1])) });
  await refusedStatus(t, p.name, foo, [`status.certificateChain: Invalid value: ${JSON.stringify((foo.status as Obj).certificateChain)}: issued certificate chain must consist entirely of CERTFICATE PEM blocks`]);
  const junk = p.issued({ chainTail: pem('CERTIFICATE', Buffer.from([0x30, 0x03, 1, 2, 3])) });
  await refusedStatus(t, p.name, junk, [`status.certificateChain: Invalid value: ${JSON.stringify((junk.status as Obj).certificateChain)}: intermediate certificate does not parse as valid X.509`]);
  await refusedStatus(t, p.name, p.issued({ dns: ['a..b'] }), ['status.certificateChain: Invalid value: "a..b": leaf certificate\'s DNSName should not contain \'..\'']);
  await refusedStatus(t, p.name, { ...base, status: { ...status, certificateChain: 'x'.repeat(102401) } }, ['status.certificateChain: Too long: may not be more than 102400 bytes']);
  await refusedStatus(t, p.name, { ...base, status: { ...status, conditions: [] } },
    ['status: Invalid value: status is immutable unless transitioning to "Issued", "Denied", or "Failed"']);
  const audit = await call(v37, 'GET', '/devapi/v1/audit');
  t.notOk((audit.body.pcrStatusWrites as Obj[]).some((w) => w.name === p.name), 'no refused write is recorded');
});

void t.test('S25: a terminal status is frozen; each PCR\'s one terminal write is in the audit record', async (t) => {
  const p = await pending();
  const issued = p.issued();
  const first = await putStatus(p.name, issued);
  t.equal(first.code, 200, first.message);
  const conditions = (first.body.status as Obj).conditions as Obj[];
  await refusedStatus(t, p.name, { ...first.body, status: { ...first.body.status as Obj, conditions: [{ ...conditions[0], message: 'changed' }] } },
    ['status: Invalid value: immutable after PodCertificateRequest is issued, denied, or failed']);
  const again = await putStatus(p.name, first.body);
  t.equal(again.code, 200, 'writing the same status again is a no-op');
  const audit = await call(v37, 'GET', '/devapi/v1/audit');
  const writes = (audit.body.pcrStatusWrites as Obj[]).filter((w) => w.name === p.name);
  t.equal(writes.length, 1, 'exactly one status write changed it');
  t.match(writes[0], { namespace: NS, name: p.name, uid: (p.object.metadata as Obj).uid, user: 'admin', conditionType: 'Issued' });
});

void t.test('S26–S30: the status strategy\'s sign check: a 422 field error, exact name or <domain>/*, skipped for a no-op', async (t) => {
  const p = await pending();
  const noSign = await putStatus(p.name, p.issued(), 'approver');
  t.equal(noSign.code, 422, noSign.message);
  t.equal(noSign.message, invalidText(p.name, 'spec.signerName: Forbidden: User "approver" is not permitted to "sign" for signer "example.com/s"'));
  const neither = await putStatus(p.name, p.issued(), 'requester');
  t.equal(neither.code, 403, 'S28: no RBAC update on /status');
  t.match(neither.message, /podcertificaterequests\.certificates\.k8s\.io "s-\d+" is forbidden: User "requester" cannot update resource "podcertificaterequests\/status"/);
  const noop = await putStatus(p.name, p.object, 'approver');
  t.equal(noop.code, 200, `S29: a no-op status write needs no sign: ${noop.message}`);
  const withLabels = p.issued();
  const s30 = await putStatus(p.name, {
    ...withLabels, metadata: { ...withLabels.metadata as Obj, labels: { sneaky: 'yes' } }, spec: { ...withLabels.spec as Obj, podName: 'other' },
  }, 'signer');
  t.equal(s30.code, 200, `S27: the signer identity has sign on example.com/* only: ${s30.message}`);
  t.equal((s30.body.metadata as Obj).labels, undefined, 'S30: the label change is dropped');
  t.equal((s30.body.spec as Obj).podName, 'p', 'S30: the spec change is dropped');
});

// ------------------------------------------------------------------ 6.4 NodeRestriction and the Node authorizer

void t.test('N1–N6: a node creates PCRs only for its own running pods, and reads only its own', async (t) => {
  const admin = (method: string, path: string, payload?: unknown): Promise<Answer> => call(v37, method, path, payload);
  const n1 = await admin('POST', '/api/v1/nodes', { metadata: { name: 'n1' } });
  const n2 = await admin('POST', '/api/v1/nodes', { metadata: { name: 'n2' } });
  const sa = await admin('POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name: 'default' } });
  const pod = await admin('POST', `/api/v1/namespaces/${NS}/pods`, { metadata: { name: 'p' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] } });
  const own = await admin('POST', `/api/v1/namespaces/${NS}/pods`, { metadata: { name: 'q' }, spec: { nodeName: 'n2', serviceAccountName: 'default' } });
  t.same([n1.code, n2.code, sa.code, pod.code, own.code], [201, 201, 201, 201, 201]);
  t.equal((pod.body.spec as Obj).serviceAccountName, 'default', 'a Pod without a ServiceAccount runs as default');
  const uid = (a: Answer): string => String((a.body.metadata as Obj).uid);
  const request = (name: string, spec: Obj): Obj => body('v1', name, {
    podName: 'q', podUID: uid(own), serviceAccountUID: uid(sa), nodeName: 'n2', nodeUID: uid(n2), ...stub(p256.privateKey), ...spec,
  });
  const asN2 = (method: string, path: string, payload?: unknown): Promise<Answer> => call(v37, method, path, payload, asNode);

  const ok = await asN2('POST', pcrPath('v1'), request('mine', {}));
  t.equal(ok.code, 201, `a node's own pod: ${ok.message}`);
  const n1Named = await asN2('POST', pcrPath('v1'), request('n-1', { nodeName: 'n1', nodeUID: uid(n1) }));
  t.equal(n1Named.code, 403);
  t.equal(n1Named.message, 'podcertificaterequests.certificates.k8s.io "n-1" is forbidden: PodCertificateRequest.Spec.NodeName="n1", which is not the requesting node "n2"');
  const elsewhere = await asN2('POST', pcrPath('v1'), request('n-2', { podName: 'p', podUID: uid(pod) }));
  t.equal(elsewhere.code, 403);
  t.equal(elsewhere.message, 'podcertificaterequests.certificates.k8s.io "n-2" is forbidden: pod "ns/p" is not running on node "n2" named in the PodCertificateRequest');
  const missing = await asN2('POST', pcrPath('v1'), request('n-3', { podName: 'dne' }));
  t.not(missing.code, 403, 'N3: not a 403, so a kubelet retries');
  t.equal(missing.code, 500);
  t.match(missing.message, /^while retrieving pod "ns\/dne" named in the PodCertificateRequest: /);
  const wrongAccount = await asN2('POST', pcrPath('v1'), request('n-4', { serviceAccountName: 'x' }));
  t.equal(wrongAccount.code, 403);
  t.equal(wrongAccount.message, 'podcertificaterequests.certificates.k8s.io "n-4" is forbidden: PodCertificateRequest for pod "ns/q" contains serviceAccountName ("x") that differs from running pod ("default")');
  const invalidToo = await asN2('POST', pcrPath('v1'), request('n-5', { nodeName: 'n1', maxExpirationSeconds: 1 }));
  t.equal(invalidToo.code, 403, 'NodeRestriction (mutating admission) answers before validation');

  const put = await asN2('PUT', pcrPath('v1', 'mine'), ok.body);
  t.equal(put.code, 403);
  t.equal(put.message, 'podcertificaterequests.certificates.k8s.io "mine" is forbidden: unexpected operation UPDATE');
  const del = await asN2('DELETE', pcrPath('v1', 'mine'));
  t.equal(del.code, 403);
  t.equal(del.message, 'podcertificaterequests.certificates.k8s.io "mine" is forbidden: unexpected operation DELETE');

  const theirs = await admin('POST', pcrPath('v1'), request('theirs', { nodeName: 'n1', nodeUID: uid(n1), podName: 'p', podUID: uid(pod) }));
  t.equal(theirs.code, 201, 'cluster-admin skips NodeRestriction');
  t.equal((await asN2('GET', pcrPath('v1', 'mine'))).code, 200, 'a node gets its own PCR');
  t.equal((await asN2('GET', pcrPath('v1', 'theirs'))).code, 403, 'N6: not another node\'s');
  t.equal((await asN2('GET', `${pcrPath('v1')}?fieldSelector=spec.nodeName%3Dn1`)).code, 403, 'N6: a list naming another node');
  t.equal((await asN2('GET', pcrPath('v1'))).code, 403, 'a list without the selector');
  const listed = await asN2('GET', `/apis/${GROUP}/v1/podcertificaterequests?fieldSelector=spec.nodeName%3Dn2`);
  t.equal(listed.code, 200, listed.message);
  t.same((listed.body.items as Obj[]).map((i) => (i.metadata as Obj).name), ['mine'], 'its own, across namespaces');
});

// ------------------------------------------------------------------ serving

void t.test('versions, discovery, field selectors, the v1 view of a legacy request, and the Table', async (t) => {
  const resources = async (target: { client: DevapiClient }, version: string): Promise<string[]> => {
    const r = await call(target, 'GET', `/apis/${GROUP}/${version}`);
    return r.code === 200 ? (r.body.resources as Obj[]).map((x) => String(x.name)) : [];
  };
  t.ok((await resources(v37, 'v1')).includes('podcertificaterequests/status'), '1.37 serves v1');
  t.ok((await resources(v37, 'v1beta1')).includes('podcertificaterequests'), 'and v1beta1');
  t.notOk((await resources(v36, 'v1')).includes('podcertificaterequests'), '1.36 serves no v1');
  const old = await server(34);
  t.notOk((await resources(old, 'v1beta1')).includes('podcertificaterequests'), '1.34 serves none');

  const name = fresh('legacy');
  t.equal((await create(v37, 'v1beta1', name, { ...legacy(ed25519), podName: 'selected' })).code, 201);
  const asV1 = await call(v37, 'GET', pcrPath('v1', name));
  t.equal((asV1.body.spec as Obj).pkixPublicKey, undefined, 'v1 has no pkixPublicKey');
  t.equal(asV1.body.apiVersion, `${GROUP}/v1`);
  const asBeta = await call(v37, 'GET', pcrPath('v1beta1', name));
  t.equal((asBeta.body.spec as Obj).pkixPublicKey, spki(ed25519.publicKey), 'one stored object, v1beta1 shows the legacy key');
  const before = await call(v37, 'GET', `/apis/${GROUP}/v1/podcertificaterequests`);
  const since = String((before.body.metadata as Obj).resourceVersion);
  const watched = fresh('watched');
  t.equal((await create(v37, 'v1', watched, stub(p256.privateKey))).code, 201);
  // A watch in every namespace, resumed from before the create and ended by its own timeout.
  const events = await v37.client.call('GET', `/apis/${GROUP}/v1/podcertificaterequests?watch=1&timeoutSeconds=1&resourceVersion=${since}&fieldSelector=${encodeURIComponent(`spec.signerName=${SIGNER}`)}`);
  const lines = events.text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { type: string; object: Obj });
  t.same(lines.map((e) => [e.type, (e.object.metadata as Obj).name, (e.object.metadata as Obj).namespace]), [['ADDED', watched, NS]], 'the watch across namespaces sees the create');
  const selected = await call(v37, 'GET', `/apis/${GROUP}/v1/podcertificaterequests?fieldSelector=${encodeURIComponent(`spec.podName=selected,spec.signerName=${SIGNER},metadata.namespace=${NS}`)}`);
  t.same((selected.body.items as Obj[]).map((i) => (i.metadata as Obj).name), [name]);
  const table = await v37.client.call('GET', pcrPath('v1', name), undefined, 'admin', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  const parsed = table.body as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
  t.same(parsed.columnDefinitions.map((c) => c.name), ['Name', 'SignerName', 'PodName', 'ServiceAccountName', 'NodeName', 'Condition', 'Age']);
  t.same(parsed.rows[0]?.cells.slice(0, 6), [name, SIGNER, 'selected', 'default', 'n1', 'Pending']);
});
