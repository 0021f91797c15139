/**
 * The CertificateSigningRequest rules of kube-apiserver as devapi applies them: create
 * (strategy, validation, admission) and the three update paths, every message exact.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  admitCsrCreate, csrDecodeError, csrNameError, prepareCsrCreate, prepareCsrUpdate, supportedUsages, validateCsrCreate, validateCsrUpdate,
  type CsrSubresource,
} from '../../../devapi/resources/csr.js';
import { goQuoteBytes } from '../../../src/pki/go/encoding.js';
import { formatFieldError, invalid, quote, type FieldError } from '../../../devapi/api/errors.js';
import { children, readWhole, sequence, slice } from '../../../src/pki/der.js';
import { makeOpensslCa } from '../../helpers/ca.js';
import { buildRequest, toPem, type RequestSpec } from '../../helpers/requests.js';
import { hasTool, run, tempDir } from '../../helpers/tools.js';

type Obj = Record<string, unknown>;

const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString('base64');
/** Go's %#v of a []byte, written independently of the module under test. */
const goBytes = (b: Uint8Array): string => `[]byte{${[...b].map((x) => `0x${x.toString(16)}`).join(', ')}}`;
const requestPem = (spec: RequestSpec = {}): string => toPem('CERTIFICATE REQUEST', buildRequest({ dns: ['node.example.com'], ...spec }));
const validPem = requestPem();
const user = { name: 'alice', uid: 'u-1', groups: ['devs', 'system:authenticated'] };
const now = new Date('2026-11-28T16:52:17.250Z');
const stamp = '2026-11-28T16:52:17Z';
const earlier = '2026-01-01T00:00:00Z';

function body(spec: Obj = {}, metadata: Obj = { name: 'x' }): Obj {
  return {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata,
    spec: { request: b64(validPem), signerName: 'example.com/signer', usages: ['client auth'], ...spec },
  };
}
const messages = (errors: readonly FieldError[]): string[] => errors.map(formatFieldError);
const createErrors = (b: Obj): string[] => messages(validateCsrCreate(prepareCsrCreate(b, user)));
const createMessage = (b: Obj): string => {
  const errors = validateCsrCreate(prepareCsrCreate(b, user));
  return errors.length === 0 ? 'accepted' : invalid('CertificateSigningRequest', 'certificates.k8s.io', String((b.metadata as Obj).name), errors).message;
};
const withRequest = (pem: string | Uint8Array): Obj => body({ request: b64(pem) });

/** A stored CSR, as create left it, with a status. */
function stored(status: Obj = {}, spec: Obj = {}): Obj {
  const created = prepareCsrCreate(body(spec), user);
  return { ...created, metadata: { name: 'x', uid: 'id-1', resourceVersion: '7', creationTimestamp: earlier, labels: { a: 'b' } }, status };
}
const update = (old: Obj, incoming: Obj, subresource: CsrSubresource): { object: Obj; errors: string[] } => {
  const r = prepareCsrUpdate(old, incoming, subresource, now);
  return { object: r.object, errors: messages(r.errors) };
};
const statusOf = (o: Obj): Obj => o.status as Obj;
const cond = (type: string, extra: Obj = {}): Obj => ({ type, status: 'True', ...extra });
const approved = cond('Approved', { reason: 'KubectlApprove', lastUpdateTime: earlier, lastTransitionTime: earlier });

const tool = hasTool('openssl');
const dir = tempDir();
const openssl = (...args: string[]): string => {
  const r = run('openssl', args);
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const opensslRequest = (name: string, keyArgs: string[], extra: string[] = []): string => {
  const out = join(dir, `${name}.csr`);
  openssl('req', '-new', ...keyArgs, '-nodes', '-keyout', join(dir, `${name}.key`), '-subj', '/CN=x', ...extra, '-out', out);
  return readFileSync(out, 'utf8');
};

void t.test('create resets status and takes the requester from the authenticated user', (t) => {
  const prepared = prepareCsrCreate({
    ...body({ username: 'mallory', uid: 'forged', groups: ['system:masters'], extra: { scopes: ['x'] }, unknownField: 1 }),
    status: { conditions: [cond('Approved')], certificate: b64('x') },
  }, { name: 'alice', groups: ['devs'], extra: { 'authentication.kubernetes.io/credential-id': ['X509SHA256=ab'] } });
  t.same(prepared.status, {}, 'no pre-approved or pre-issued requests');
  t.same(prepared.spec, {
    request: b64(validPem), signerName: 'example.com/signer', usages: ['client auth'],
    username: 'alice', groups: ['devs'], extra: { 'authentication.kubernetes.io/credential-id': ['X509SHA256=ab'] },
  }, 'client-supplied identity and unknown spec fields are gone; an empty uid is omitted');
  t.same((prepareCsrCreate(body(), user).spec as Obj).uid, 'u-1', 'the uid is set when the user has one');
  t.end();
});

void t.test('every key and signature Go accepts is accepted at create, even those the signer refuses', (t) => {
  const cases: [string, string][] = [
    ['ECDSA P-256', requestPem({ key: 'p256' })],
    ['ECDSA P-384', requestPem({ key: 'p384' })],
    ['ECDSA P-521', requestPem({ key: 'p521' })],
    ['RSA-2048', requestPem({ key: 'rsa2048' })],
    ['RSA-4096', requestPem({ key: 'rsa4096' })],
    ['RSA-1024 (the signer fails it later)', requestPem({ key: 'rsa1024' })],
    ['RSA-2048 with RSASSA-PSS', requestPem({ key: 'rsa2048', pss: true })],
    ['Ed25519', requestPem({ key: 'ed25519' })],
    ['a request asking for O=system:masters from a non-kube-apiserver-client signer', requestPem({ organizations: ['system:masters'] })],
    ['text before the PEM block, and any blocks after it', `leading text\n${validPem}-----BEGIN GARBAGE-----\nnot base64\n`],
  ];
  if (tool) {
    cases.push(
      ['ECDSA P-224 made by openssl (the signer fails it later)', opensslRequest('p224', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-224'])],
      ['an RSA request signed with SHA-1 (CheckSignature allows SHA-1 for requests)', opensslRequest('sha1', ['-newkey', 'rsa:2048'], ['-sha1'])],
      ['an openssl request with an empty attribute set', opensslRequest('plain', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'])],
    );
  }
  for (const [name, pem] of cases) t.same(createErrors(withRequest(pem)), [], name);
  t.end();
});

void t.test('a request Go cannot parse or verify is refused with Go\'s own error text', (t) => {
  const der = buildRequest({ dns: ['a.example.com'] });
  const flipLast = (d: Uint8Array): Uint8Array => { const c = Uint8Array.from(d); c[c.length - 1] = (c[c.length - 1] ?? 0) ^ 1; return c; };
  // The same request with its (empty) attributes field [0] cut out of the TBS.
  const request = buildRequest({ commonName: 'x' });
  const [tbs, signatureAlgorithm, signature] = children(request, readWhole(request, 0x30, 'request'));
  const tbsParts = tbs ? children(request, tbs) : [];
  const noAttributes = sequence(sequence(...tbsParts.slice(0, 3).map((p) => slice(request, p))), ...[signatureAlgorithm, signature].map((p) => (p ? slice(request, p) : new Uint8Array(0))));
  const hello = new TextEncoder().encode('hello world');
  const tagsDontMatch = 'asn1: structure error: tags don\'t match (16 vs {class:1 tag:8 length:101 isCompound:true}) {optional:false explicit:false application:false private:false defaultValue:<nil> tag:<nil> stringType:0 timeType:0 set:false omitEmpty:false} certificateRequest @2';
  const cases: [string, Obj, string][] = [
    ['an empty request', body({ request: '' }), 'spec.request: Invalid value: []byte{}: PEM block type must be CERTIFICATE REQUEST'],
    ['no request at all', body({ request: undefined }), 'spec.request: Invalid value: []byte(nil): PEM block type must be CERTIFICATE REQUEST'],
    ['garbage', withRequest('garbage'), `spec.request: Invalid value: ${goBytes(Buffer.from('garbage'))}: PEM block type must be CERTIFICATE REQUEST`],
    ['a CERTIFICATE block first', withRequest(toPem('CERTIFICATE', der) + validPem), `spec.request: Invalid value: ${goBytes(Buffer.from(toPem('CERTIFICATE', der) + validPem))}: PEM block type must be CERTIFICATE REQUEST`],
    ['DER that is not PEM', withRequest(der), `spec.request: Invalid value: ${goBytes(der)}: PEM block type must be CERTIFICATE REQUEST`],
    ['bytes that are not ASN.1', withRequest(toPem('CERTIFICATE REQUEST', hello)), `spec.request: Invalid value: ${goBytes(Buffer.from(toPem('CERTIFICATE REQUEST', hello)))}: ${tagsDontMatch}`],
    ['an empty block', withRequest('-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n'), `spec.request: Invalid value: ${goBytes(Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n'))}: asn1: syntax error: sequence truncated`],
    ['trailing bytes after the request', withRequest(toPem('CERTIFICATE REQUEST', Uint8Array.of(...der, 0))), 'asn1: syntax error: trailing data'],
    ['a truncated request', withRequest(toPem('CERTIFICATE REQUEST', der.subarray(0, der.length - 1))), 'asn1: syntax error: data truncated'],
    ['a request without the attributes field, which Go requires even when empty', withRequest(toPem('CERTIFICATE REQUEST', noAttributes)), 'asn1: syntax error: sequence truncated'],
    ['an ECDSA signature that does not verify', withRequest(toPem('CERTIFICATE REQUEST', flipLast(der))), 'x509: ECDSA verification failure'],
    ['an RSA signature that does not verify', withRequest(toPem('CERTIFICATE REQUEST', flipLast(buildRequest({ key: 'rsa2048', dns: ['a'] })))), 'crypto/rsa: verification error'],
    ['an Ed25519 signature that does not verify', withRequest(toPem('CERTIFICATE REQUEST', flipLast(buildRequest({ key: 'ed25519', dns: ['a'] })))), 'x509: Ed25519 verification failure'],
    ['a URI with a control character', withRequest(requestPem({ uris: ['spiffe://x/\u0001y'] })), 'x509: cannot parse URI "spiffe://x/\\x01y": parse "spiffe://x/\\x01y": net/url: invalid control character in URL'],
    ['a URI whose host has an empty label', withRequest(requestPem({ uris: ['https://a..b/'] })), 'x509: cannot parse URI "https://a..b/": invalid domain'],
    ['a DNS name that is not ASCII', withRequest(requestPem({ dns: ['bücher.example'] })), 'x509: SAN dNSName is malformed'],
    ['the same extension requested twice', withRequest(requestPem({ extensions: [{ oid: '1.2.3.4', value: Uint8Array.of(5, 0).buffer }, { oid: '1.2.3.4', value: Uint8Array.of(5, 0).buffer }] })), 'x509: certificate request contains duplicate requested extensions'],
  ];
  if (tool) {
    const rsa512 = join(dir, 'rsa512.key');
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:512', '-out', rsa512);
    cases.push(
      ['an RSA-512 key (Go 1.24 refuses keys under 1024 bits)', withRequest(opensslRequest('rsa512', ['-key', rsa512])), 'crypto/rsa: 512-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)'],
      ['an MD5 signature', withRequest(opensslRequest('md5', ['-newkey', 'rsa:2048'], ['-md5'])), 'x509: cannot verify signature: insecure algorithm MD5-RSA'],
    );
  }
  for (const [name, b, expected] of cases) {
    const errors = createErrors(b);
    t.equal(errors.length, 1, `${name}: one error`);
    if (expected.startsWith('spec.request: ')) t.equal(errors[0], expected, name);
    else t.ok(errors[0]?.startsWith('spec.request: Invalid value: []byte{0x2d, 0x2d') && errors[0].endsWith(`: ${expected}`), `${name}: ${expected}`);
  }
  t.end();
});

void t.test('the whole 422 message for a bad signature is the apiserver\'s', (t) => {
  const der = buildRequest({ dns: ['a.example.com'] });
  der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 1;
  const pem = toPem('CERTIFICATE REQUEST', der);
  t.equal(createMessage(withRequest(pem)),
    `CertificateSigningRequest.certificates.k8s.io "x" is invalid: spec.request: Invalid value: ${goBytes(Buffer.from(pem))}: x509: ECDSA verification failure`);
  t.end();
});

void t.test('usages are required, known and unique', (t) => {
  const supported = '"any", "cert sign", "client auth", "code signing", "content commitment", "crl sign", "data encipherment", "decipher only", "digital signature", "email protection", "encipher only", "ipsec end system", "ipsec tunnel", "ipsec user", "key agreement", "key encipherment", "microsoft sgc", "netscape sgc", "ocsp signing", "s/mime", "server auth", "signing", "timestamping"';
  t.equal(supportedUsages.length, 23, 'the 23 usages');
  const cases: [string, unknown, string[]][] = [
    ['no usages', undefined, ['spec.usages: Required value: usages must be provided']],
    ['an empty list', [], ['spec.usages: Required value: usages must be provided']],
    ['an unknown usage', ['client auth', 'foo'], [`spec.usages[1]: Unsupported value: "foo": supported values: ${supported}`]],
    ['a duplicate usage', ['client auth', 'digital signature', 'client auth'], ['spec.usages[2]: Duplicate value: "client auth"']],
    ['every supported usage at once', [...supportedUsages], []],
  ];
  for (const [name, usages, expected] of cases) t.same(createErrors(body({ usages })), expected, name);
  t.end();
});

void t.test('signer names follow ValidateSignerName', (t) => {
  const labelRule = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  const subdomainRule = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  const long = 'a'.repeat(66);
  const domain254 = `${['a', 'b', 'c', 'd'].map((c) => c.repeat(63)).join('.')}.ab`;
  const path = `${'p'.repeat(253)}.${'q'.repeat(63)}.${'r'.repeat(10)}`;
  const cases: [string, unknown, string[]][] = [
    ['no signerName', undefined, ['spec.signerName: Required value: signerName must be provided']],
    ['the legacy signer', 'kubernetes.io/legacy-unknown', ['spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy signerName is not allowed via this API version']],
    ['no slash', 'an-invalid-signer-name', ["spec.signerName: Invalid value: \"an-invalid-signer-name\": must be a fully qualified domain and path of the form 'example.com/signer-name'"]],
    ['two slashes', 'a.com/b/c', ["spec.signerName: Invalid value: \"a.com/b/c\": must be a fully qualified domain and path of the form 'example.com/signer-name'"]],
    ['a one-label domain', 'example/some-signer-name', ['spec.signerName: Invalid value: "example": should be a domain with at least two segments separated by dots']],
    ['an empty path', 'example.com/', [`spec.signerName: Invalid value: "": validating label "": ${subdomainRule}`]],
    ['a path ending in a dash', 'example.com/something-', [`spec.signerName: Invalid value: "something-": validating label "something-": ${subdomainRule}`]],
    ['an upper-case domain label', 'Example.com/x', [`spec.signerName: Invalid value: "Example.com": validating label "Example": ${labelRule}`]],
    ['a 66-character domain label', `${long}.com/x`, [`spec.signerName: Invalid value: "${long}.com": validating label "${long}": must be no more than 63 characters`]],
    ['a domain over 253 bytes', `${domain254}/x`, ['spec.signerName: Too long: may not be more than 253 bytes']],
    ['a signer name over 571 bytes', `${domain254}/${path}`, ['spec.signerName: Too long: may not be more than 253 bytes', 'spec.signerName: Too long: may not be more than 571 bytes']],
    ['a valid signer name', 'example.com/some-signer-name', []],
    ['a namespaced path', 'example.com/my-namespace.my-signer', []],
  ];
  for (const [name, signerName, expected] of cases) t.same(createErrors(body({ signerName })), expected, name);
  t.end();
});

void t.test('expirationSeconds under ten minutes is refused with the whole apiserver message', (t) => {
  for (const seconds of [599, 180, -420]) {
    t.equal(createMessage(body({ expirationSeconds: seconds })),
      `CertificateSigningRequest.certificates.k8s.io "x" is invalid: spec.expirationSeconds: Invalid value: ${seconds}: may not specify a duration less than 600 seconds (10 minutes)`, `${seconds}`);
  }
  for (const seconds of [600, 3600, 2_000_000_000]) t.equal(createMessage(body({ expirationSeconds: seconds })), 'accepted', `${seconds} (no upper bound)`);
  t.end();
});

void t.test('names are free-form, but one is required, and path segments are refused by the store', (t) => {
  t.same(createErrors(body({}, {})), ['metadata.name: Required value: name or generateName is required'], 'no name and no generateName');
  t.same(createErrors(body({}, { name: 'Any Name: with spaces, CAPITALS and :colons' })), [], 'any name');
  t.same(createErrors(body({}, { generateName: 'csr-' })), [], 'a generateName alone');
  const cases: [string, string | undefined][] = [
    ['a/b', 'Name parameter invalid: "a/b": may not contain \'/\''],
    ['.', 'Name parameter invalid: ".": may not be \'.\''],
    ['..', 'Name parameter invalid: "..": may not be \'..\''],
    ['100%/x', 'Name parameter invalid: "100%/x": may not contain \'/\';may not contain \'%\''],
    ['fine.name', undefined],
  ];
  for (const [name, expected] of cases) {
    const e = csrNameError(name);
    t.same(e && [e.code, e.reason, e.message], expected && [400, 'BadRequest', expected], name);
  }
  t.end();
});

void t.test('every error is reported, in the apiserver\'s order, in one 422', (t) => {
  t.equal(createMessage(body({ request: '', usages: ['foo', 'foo'], signerName: 'nope', expirationSeconds: 1 }, { name: 'x' })),
    'CertificateSigningRequest.certificates.k8s.io "x" is invalid: [spec.request: Invalid value: []byte{}: PEM block type must be CERTIFICATE REQUEST, '
    + `spec.usages[0]: Unsupported value: "foo": supported values: ${supportedUsages.map((u) => `"${u}"`).join(', ')}, `
    + `spec.usages[1]: Unsupported value: "foo": supported values: ${supportedUsages.map((u) => `"${u}"`).join(', ')}, `
    + 'spec.usages[1]: Duplicate value: "foo", '
    + "spec.signerName: Invalid value: \"nope\": must be a fully qualified domain and path of the form 'example.com/signer-name', "
    + 'spec.expirationSeconds: Invalid value: 1: may not specify a duration less than 600 seconds (10 minutes)]');
  t.end();
});

void t.test('a body Go cannot decode is a 400 before any rule runs', (t) => {
  const prefix = 'CertificateSigningRequest in version "v1" cannot be handled as a CertificateSigningRequest: ';
  const cases: [string, Obj, string | undefined][] = [
    ['a request that is not base64', body({ request: 'not base64!' }), 'illegal base64 data at input byte 3'],
    ['a request with bad padding', body({ request: 'QUJD=' }), 'illegal base64 data at input byte 4'],
    ['a request that is a number', body({ request: 5 }), 'json: cannot unmarshal number into Go struct field CertificateSigningRequestSpec.spec.request of type []uint8'],
    ['a usage that is a number', body({ usages: [1] }), 'json: cannot unmarshal number into Go struct field CertificateSigningRequestSpec.spec.usages of type v1.KeyUsage'],
    ['a fractional expirationSeconds', body({ expirationSeconds: 1.5 }), 'json: cannot unmarshal number 1.5 into Go struct field CertificateSigningRequestSpec.spec.expirationSeconds of type int32'],
    ['a certificate that is not base64', { ...body(), status: { certificate: '%%' } }, 'illegal base64 data at input byte 0'],
    ['a condition time that is not a time', { ...body(), status: { conditions: [{ type: 'Approved', lastUpdateTime: 'yesterday' }] } }, 'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'],
    ['base64 split over lines', body({ request: `${b64(validPem).slice(0, 20)}\n${b64(validPem).slice(20)}` }), undefined],
    ['nulls', body({ request: null, usages: null, expirationSeconds: null }), undefined],
  ];
  for (const [name, b, expected] of cases) {
    const e = csrDecodeError(b);
    t.same(e && [e.code, e.reason, e.message], expected && [400, 'BadRequest', prefix + expected], name);
  }
  t.throws(() => prepareCsrCreate(body({ request: 'not base64!' }), user), { code: 400 }, 'create throws it');
  t.throws(() => prepareCsrUpdate(stored(), body({ request: 7 }), 'main', now), { code: 400 }, 'so does an update');
  t.equal((prepareCsrCreate(body({ request: `${b64(validPem).slice(0, 20)}\n${b64(validPem).slice(20)}` }), user).spec as Obj).request, b64(validPem), 'the request is stored re-encoded, as Go would');
  t.end();
});

void t.test('CertificateSubjectRestriction forbids system:masters for kube-apiserver-client', (t) => {
  const client = 'kubernetes.io/kube-apiserver-client';
  const masters = b64(requestPem({ organizations: ['devs', 'system:masters'] }));
  const denied = admitCsrCreate(prepareCsrCreate(body({ signerName: client, request: masters }, { name: 'admin-cert' }), user));
  t.same(denied && [denied.code, denied.reason, denied.message, denied.details], [403, 'Forbidden',
    'certificatesigningrequests.certificates.k8s.io "admin-cert" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed',
    { name: 'admin-cert', group: 'certificates.k8s.io', kind: 'certificatesigningrequests' }], 'forbidden, with the admission text');
  t.equal(admitCsrCreate(prepareCsrCreate(body({ signerName: client, request: b64(requestPem({ organizations: ['devs'] })) }), user)), undefined, 'other groups pass');
  t.equal(admitCsrCreate(prepareCsrCreate(body({ signerName: 'example.com/x', request: masters }), user)), undefined, 'other signers pass');
  const unparsable = admitCsrCreate(prepareCsrCreate(body({ signerName: client, request: b64('junk') }), user));
  t.equal(unparsable?.message, 'certificatesigningrequests.certificates.k8s.io "x" is forbidden: failed to parse CSR: PEM block type must be CERTIFICATE REQUEST', 'an unparsable request (only reachable past validation)');
  t.end();
});

void t.test('the main resource keeps spec and status: changes there are silently discarded', (t) => {
  const old = stored({ conditions: [approved] });
  const { object, errors } = update(old, {
    ...body({ usages: ['server auth'], signerName: 'other.com/x' }, { name: 'x', labels: { team: 'a' }, annotations: { note: 'n' }, finalizers: ['f'] }),
    status: { conditions: [approved, cond('Denied')], certificate: b64('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n') },
  }, 'main');
  t.same(errors, [], 'no error: 200');
  t.same(object.spec, old.spec, 'spec unchanged');
  t.same(object.status, old.status, 'status unchanged: no certificate, no Denied');
  t.same(object.metadata, { name: 'x', uid: 'id-1', resourceVersion: '7', creationTimestamp: earlier, labels: { team: 'a' }, annotations: { note: 'n' }, finalizers: ['f'] }, 'labels, annotations and finalizers do change');
  t.end();
});

void t.test('validation itself forbids what the strategies already discard (as Kubernetes\' validation_test states them)', (t) => {
  const old = stored();
  const cert = b64('any certificate bytes');
  const cases: [string, Obj, CsrSubresource, string[]][] = [
    ['a certificate through the main resource', { ...old, status: { certificate: cert } }, 'main', ['status.certificate: Forbidden: updates may not set certificate content']],
    ['a certificate through /approval', { ...old, status: { certificate: cert } }, 'approval', ['status.certificate: Forbidden: updates may not set certificate content']],
    ['Approved through the main resource', { ...old, status: { conditions: [approved] } }, 'main', ['status.conditions: Forbidden: updates may not add a condition of type "Approved"']],
    ['Denied through the main resource', { ...old, status: { conditions: [cond('Denied', { lastUpdateTime: earlier, lastTransitionTime: earlier })] } }, 'main', ['status.conditions: Forbidden: updates may not add a condition of type "Denied"']],
    ['Approved through /approval', { ...old, status: { conditions: [approved] } }, 'approval', []],
  ];
  for (const [name, next, subresource, expected] of cases) {
    const errors = messages(validateCsrUpdate(next, old, subresource));
    // A certificate that is not PEM also fails the content check; only the Forbidden matters here.
    t.same(errors.filter((e) => !e.startsWith('status.certificate: Invalid value')), expected, name);
  }
  t.end();
});

void t.test('/status keeps spec and the stored Approved/Denied, and refuses to add or remove them', (t) => {
  const old = stored({ conditions: [approved] });
  const failed = cond('Failed', { reason: 'SignerValidationFailure', message: 'bad' });
  const cases: [string, Obj, Obj[] | undefined, string[]][] = [
    ['adding Failed', { conditions: [approved, failed] }, [approved, { ...failed, lastUpdateTime: stamp, lastTransitionTime: stamp }], []],
    ['rewriting Approved (the stored one comes back)', { conditions: [{ ...approved, reason: 'Forged', message: 'changed' }] }, [approved], []],
    ['adding Denied', { conditions: [approved, cond('Denied')] }, undefined, [
      'status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive',
      'status.conditions: Forbidden: updates may not add a condition of type "Denied"',
    ]],
    ['removing Approved', { conditions: [] }, undefined, ['status.conditions: Forbidden: updates may not remove a condition of type "Approved"']],
  ];
  for (const [name, status, conditions, expected] of cases) {
    const { object, errors } = update(old, { ...body({ usages: ['server auth'] }), status }, 'status');
    t.same(errors, expected, name);
    t.same(object.spec, old.spec, `${name}: spec unchanged`);
    if (conditions) t.same(statusOf(object).conditions, conditions, `${name}: conditions`);
  }
  const fresh = stored();
  t.same(update(fresh, { ...fresh, status: { conditions: [approved] } }, 'status').errors,
    ['status.conditions: Forbidden: updates may not add a condition of type "Approved"'], 'adding Approved on a pending request');
  const withFailed = stored({ conditions: [approved, { ...failed, lastUpdateTime: earlier, lastTransitionTime: earlier }] });
  t.same(update(withFailed, { ...withFailed, status: { conditions: [approved] } }, 'status').errors,
    ['status.conditions: Forbidden: updates may not remove a condition of type "Failed"'], 'removing Failed');
  t.end();
});

void t.test('conditions are checked on every write', (t) => {
  const old = stored();
  const cases: [string, Obj[], string[]][] = [
    ['Approved and Denied together', [cond('Approved'), cond('Denied')], ['status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive']],
    ['Denied then Approved', [cond('Denied'), cond('Approved')], ['status.conditions[1].type: Invalid value: "Approved": Approved and Denied conditions are mutually exclusive']],
    ['Approved twice', [cond('Approved'), cond('Approved')], ['status.conditions[1].type: Duplicate value: "Approved"']],
    ['a condition without type', [{ status: 'True' }], ['status.conditions[0].type: Required value']],
    ['a condition without status', [{ type: 'Approved' }], ['status.conditions[0].status: Required value']],
    ['Approved with status False', [cond('Approved', { status: 'False' })], ['status.conditions[0].status: Unsupported value: "False": supported values: "True"']],
    ['Failed with status Unknown', [cond('Failed', { status: 'Unknown' })], ['status.conditions[0].status: Unsupported value: "Unknown": supported values: "True"']],
    ['a custom condition with an unknown status', [cond('Ready', { status: 'Maybe' })], ['status.conditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"']],
    ['custom conditions with each status', [cond('A', { status: 'True' }), cond('B', { status: 'False' }), cond('C', { status: 'Unknown' })], []],
  ];
  for (const [name, conditions, expected] of cases) t.same(update(old, { ...old, status: { conditions } }, 'approval').errors, expected, name);
  t.end();
});

void t.test('missing condition timestamps are filled, the transition time kept when nothing transitioned', (t) => {
  const old = stored({ conditions: [approved, cond('Ready', { status: 'False', lastUpdateTime: earlier, lastTransitionTime: earlier })] });
  const { object, errors } = update(old, {
    ...old,
    status: { conditions: [approved, cond('Ready', { status: 'False' }), cond('Checked', { status: 'True', lastUpdateTime: '2026-05-05T10:00:00.123+02:00' })] },
  }, 'status');
  t.same(errors, []);
  t.same(statusOf(object).conditions, [
    approved,
    { type: 'Ready', status: 'False', lastUpdateTime: stamp, lastTransitionTime: earlier },
    { type: 'Checked', status: 'True', lastUpdateTime: '2026-05-05T08:00:00Z', lastTransitionTime: stamp },
  ], 'same type and status keeps the old lastTransitionTime; times are stored as RFC 3339 seconds in UTC');
  const flipped = update(old, { ...old, status: { conditions: [approved, cond('Ready')] } }, 'status').object;
  t.same((statusOf(flipped).conditions as Obj[])[1], { type: 'Ready', status: 'True', lastUpdateTime: stamp, lastTransitionTime: stamp }, 'a changed status transitions now');
  t.end();
});

void t.test('/approval takes only the conditions, and may add Approved or Denied', (t) => {
  const ca = tool ? makeOpensslCa(dir, 'approval', 'p256').certPem : undefined;
  const old = stored(ca ? { certificate: b64(ca) } : {});
  const approve = update(old, {
    ...body({ usages: ['server auth'] }),
    status: { conditions: [cond('Approved', { reason: 'KubectlApprove', message: 'This CSR was approved by kubectl certificate approve.' })], certificate: b64('forged') },
  }, 'approval');
  t.same(approve.errors, [], 'approving is allowed');
  t.same(approve.object.spec, old.spec, 'spec reset');
  t.same(statusOf(approve.object), {
    ...(ca ? { certificate: b64(ca) } : {}),
    conditions: [{ type: 'Approved', status: 'True', reason: 'KubectlApprove', message: 'This CSR was approved by kubectl certificate approve.', lastUpdateTime: stamp, lastTransitionTime: stamp }],
  }, 'certificate reset to the stored one, timestamps filled');
  t.same(update(stored(), { ...stored(), status: { conditions: [cond('Denied')] } }, 'approval').errors, [], 'denying is allowed');
  const approvedOld = stored({ conditions: [approved] });
  t.same(update(approvedOld, { ...approvedOld, status: { conditions: [] } }, 'approval').errors,
    ['status.conditions: Forbidden: updates may not remove a condition of type "Approved"'], 'removing Approved is still forbidden');
  t.same(update(approvedOld, { ...approvedOld, status: { conditions: [approved, cond('Denied')] } }, 'approval').errors,
    ['status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive'], 'Denied on an Approved request');
  t.end();
});

void t.test('status.certificate: set once through /status, PEM CERTIFICATE blocks only', { skip: tool ? false : 'openssl is not installed' }, (t) => {
  const first = makeOpensslCa(dir, 'first', 'p256').certPem;
  const second = makeOpensslCa(dir, 'second', 'rsa2048').certPem;
  const der = Buffer.from(first.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const old = stored({ conditions: [approved] });
  const set = (certificate: string, from: Obj = old): string[] => update(from, { ...from, status: { conditions: [approved], certificate: b64(certificate) } }, 'status').errors;
  const invalidCert = (detail: string): string[] => [`status.certificate: Invalid value: "<certificate data>": ${detail}`];
  const cases: [string, string, string[]][] = [
    ['one certificate', first, []],
    ['a chain, with text around the blocks', `issued by test\n${first}between\n${second}after`, []],
    ['no PEM at all', 'not a certificate', invalidCert('must contain at least one CERTIFICATE PEM block')],
    ['a block of another type', toPem('CERTIFICATE1', der), invalidCert('only CERTIFICATE PEM blocks are allowed, found "CERTIFICATE1"')],
    ['a private key after the certificate', first + toPem('PRIVATE KEY', Uint8Array.of(1)), invalidCert('only CERTIFICATE PEM blocks are allowed, found "PRIVATE KEY"')],
    ['PEM headers', `-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`, invalidCert('no PEM block headers are permitted')],
    ['an empty block', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n', invalidCert('found CERTIFICATE PEM block containing 0 certificates')],
    ['bytes that are not a certificate', toPem('CERTIFICATE', new TextEncoder().encode('hello world')), invalidCert('x509: malformed certificate')],
    ['a truncated certificate', toPem('CERTIFICATE', der.subarray(0, der.length - 10)), invalidCert('x509: malformed certificate')],
    ['a certificate followed by junk in the same block', toPem('CERTIFICATE', Uint8Array.of(...der, 1, 2, 3)), invalidCert('x509: malformed certificate')],
  ];
  for (const [name, certificate, expected] of cases) t.same(set(certificate), expected, name);
  const issued = update(old, { ...old, status: { conditions: [approved], certificate: b64(first) } }, 'status').object;
  t.equal(statusOf(issued).certificate, b64(first), 'the certificate is stored');
  t.same(set(second, issued), ['status.certificate: Forbidden: updates may not modify existing certificate content'], 'replacing it is forbidden');
  t.same(update(issued, { ...issued, status: { conditions: [approved] } }, 'status').errors,
    ['status.certificate: Forbidden: updates may not modify existing certificate content'], 'clearing it is forbidden');
  t.same(set(first, issued), [], 'writing the same certificate again is fine');
  const denied = stored({ conditions: [cond('Denied', { lastUpdateTime: earlier, lastTransitionTime: earlier })] });
  t.same(update(denied, { ...denied, status: { ...statusOf(denied), certificate: b64(first) } }, 'status').errors, [],
    'a certificate on a Denied request is not the API server\'s business');
  t.same(update(old, { ...old, status: { conditions: [approved], certificate: b64(first) } }, 'main').object.status, old.status,
    'through the main resource it is silently dropped');
  t.end();
});

void t.test('what a stored object already gets wrong is tolerated on update', (t) => {
  const legacy = { ...stored({}, {}), spec: { ...(stored().spec as Obj), signerName: 'kubernetes.io/legacy-unknown', usages: ['client auth', 'client auth', 'weird'] } };
  t.same(update(legacy, legacy, 'main').errors, [], 'legacy-unknown, duplicate and unknown usages from v1beta1 days');
  const both = stored({ conditions: [approved, cond('Denied', { lastUpdateTime: earlier, lastTransitionTime: earlier })] });
  t.same(update(both, both, 'status').errors, [], 'Approved and Denied already both present');
  const badCert = stored({ certificate: b64('not pem') });
  t.same(update(badCert, badCert, 'status').errors, [], 'an invalid certificate already stored');
  t.end();
});

void t.test('quote is Go\'s %q (strconv.Quote), as field values and messages print strings', (t) => {
  // Expected texts are Go's strconv.Quote output for the same strings.
  const cases: [string, string, string][] = [
    ['plain ASCII', 'example.com/signer', '"example.com/signer"'],
    ['the empty string', '', '""'],
    ['quote and backslash', 'a"b\\c', '"a\\"b\\\\c"'],
    ['named escapes', '\x07\b\f\n\r\t\v', '"\\a\\b\\f\\n\\r\\t\\v"'],
    ['other control bytes and DEL', '\x00\x1b\x7f', '"\\x00\\x1b\\x7f"'],
    ['printable Unicode as is', 'bücher ✓ 日本 😀', '"bücher ✓ 日本 😀"'],
    ['C1 control, no-break space, soft hyphen', '\u0085\u00a0\u00ad', '"\\u0085\\u00a0\\u00ad"'],
    ['line separator, BOM, private use', '\u2028\ufeff\ue000', '"\\u2028\\ufeff\\ue000"'],
    ['unprintable runes beyond the BMP', '\u{e0001}\u{10ffff}', '"\\U000e0001\\U0010ffff"'],
    ['a lone surrogate is U+FFFD, as Go\'s JSON decoder makes it', 'a\ud800b', '"a\ufffdb"'],
  ];
  for (const [name, value, expected] of cases) t.equal(quote(value), expected, name);
  const bytes: [string, number[], string][] = [
    ['invalid UTF-8 bytes print as \\x', [0x43, 0xff, 0x58], '"C\\xffX"'],
    ['an encoded surrogate and an overlong form are invalid', [0xed, 0xa0, 0x80, 0xe0, 0x80], '"\\xed\\xa0\\x80\\xe0\\x80"'],
    ['an encoded U+FFFD is printable', [0xef, 0xbf, 0xbd], '"\ufffd"'],
    ['a truncated sequence', [0xe6, 0x97], '"\\xe6\\x97"'],
  ];
  for (const [name, value, expected] of bytes) t.equal(goQuoteBytes(Uint8Array.from(value)), expected, name);
  t.same(createErrors(body({ signerName: 'example.com/a\tb' })),
    ['spec.signerName: Invalid value: "a\\tb": validating label "a\\tb": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')'],
    'a field value with a tab prints \\t, not JSON\'s escapes');
  t.end();
});
